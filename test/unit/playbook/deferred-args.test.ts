/**
 * Ansible checks a module's arguments when the task runs, not when the file loads: a task that
 * may be skipped (its own `when:`, or a block's or an import's) loads whatever its arguments, is
 * skipped silently, and fails only on the host that runs it. A task that runs on every host is
 * still checked at load, naming file and line.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadTaskFile } from "../../../scripts/lib/playbook/load.ts";
import type { Item } from "../../../scripts/lib/playbook/types.ts";
import { block, play, run } from "../run/fake.ts";

const dir = mkdtempSync(join(tmpdir(), "deferred-args-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function load(yaml: string): Item[] {
  const file = join(dir, `t${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, yaml);
  return loadTaskFile(file, { baseDir: dir, inherited: { tags: [] } });
}

const MULTI_DISTRO = `
- name: chrony from EPEL
  package: { name: chrony, enablerepo: epel }
  when: ansible_pkg_mgr == 'yum'
- block:
    - name: a typo no Debian host reaches
      copy: { dst: /etc/x, content: x }
  when: ansible_os_family == 'RedHat'
- name: wrong type under when
  stat: { path: /etc, get_checksum: [1, 2] }
  when: check_it | default(false)
`;

test("arguments of a task that may be skipped are not checked at load", () => {
  assert.equal(load(MULTI_DISTRO).length, 3);
});

test("skipped: no complaint; run: fails on that host with the argument error", async () => {
  const items = load(MULTI_DISTRO).map((i) => ({ ...i, ignoreErrors: true }));
  const r = await run(play([block(items)], { vars: { ansible_pkg_mgr: "apt", ansible_os_family: "Debian" } }), { hosts: ["h1"] });
  assert.deepEqual(r.results("h1").map((x) => x.status), ["skipped", "skipped", "skipped"]);
  const ran = await run(play([block(items)], { vars: { ansible_pkg_mgr: "apt", ansible_os_family: "RedHat", check_it: true } }), { hosts: ["h1"] });
  const failed = ran.results("h1").filter((x) => x.status === "failed").map((x) => x.msg ?? "");
  assert.equal(failed.length, 2);
  assert.match(failed[0], /module copy: unknown option "dst"; did you mean "dest"\?/);
  assert.match(failed[1], /module stat: option "get_checksum" must be a boolean/);
});

test("a task that runs on every host is still checked when the file loads", () => {
  assert.throws(() => load("- copy: { dst: /etc/x, content: x }\n"), (e: Error & { format?: () => string }) => /t\w+\.yml:1:\d+: module copy: unknown option "dst"/.test(e.format?.() ?? ""));
});
