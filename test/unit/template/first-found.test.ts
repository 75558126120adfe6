/**
 * first_found as Ansible 2.14's: plain names, lists, files:/paths: mappings, terms templated,
 * relative files searched in the role's files/ (templates/ and vars/ for with_first_found under
 * template and include_vars), then the playbook's; skip: true; Ansible's error when none exists.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Templar } from "../../../scripts/lib/template/templar.ts";
import { loadTaskFile } from "../../../scripts/lib/playbook/load.ts";
import { block, play, run, t } from "../run/fake.ts";

let dir = "";
let role = "";
let pb = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "first-found-"));
  role = join(dir, "roles", "ntp");
  pb = join(dir, "playbooks");
  for (const d of ["files", "templates/etc", "vars", "tasks"]) mkdirSync(join(role, d), { recursive: true });
  mkdirSync(join(pb, "files"), { recursive: true });
  writeFileSync(join(role, "files", "Debian.conf"), "d");
  writeFileSync(join(role, "templates", "etc", "ntp-Debian.conf.j2"), "t");
  writeFileSync(join(role, "vars", "Debian.yml"), "ntp_vars_from: Debian.yml\n");
  writeFileSync(join(pb, "files", "only-in-playbook.conf"), "p");
  writeFileSync(join(role, "tasks", "setup-Debian.yml"), "- debug: msg=x\n");
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("lookup('first_found')", () => {
  const vars = { os: "Debian", missing: "Gentoo", params: { files: ["{{ missing }}.conf", "{{ os }}.conf"], paths: ["sub", "."] } };
  const templar = () => new Templar(vars, { searchPaths: [role, pb] });

  test("plain names and lists: the first that exists, its full path", () => {
    assert.equal(templar().render("{{ lookup('first_found', 'Gentoo.conf', 'Debian.conf') }}"), join(role, "files", "Debian.conf"));
    assert.equal(templar().render("{{ lookup('first_found', ['Gentoo.conf', 'only-in-playbook.conf']) }}"), join(pb, "files", "only-in-playbook.conf"));
    // A string is split on , and ; as Ansible does.
    assert.equal(templar().render("{{ lookup('first_found', 'a.conf,Debian.conf') }}"), join(role, "files", "Debian.conf"));
  });

  test("files: and paths: (in a variable, with templated names); paths in kwargs too", () => {
    assert.equal(templar().render("{{ lookup('first_found', params) }}"), join(role, "files", "Debian.conf"));
    assert.deepEqual(templar().render("{{ query('first_found', files=['x', os ~ '.conf'], paths=['nope', '.']) }}"), [join(role, "files", "Debian.conf")]);
    assert.equal(templar().render("{{ lookup('first_found', {'files': ['ntp-Debian.conf.j2'], 'paths': ['../templates/etc']}) }}"), join(role, "files", "../templates/etc/ntp-Debian.conf.j2"));
  });

  test("none found: Ansible's error, or nothing with skip", () => {
    assert.throws(() => templar().render("{{ lookup('first_found', ['a', 'b']) }}"), /No file was found when using first_found\./);
    assert.deepEqual(templar().render("{{ query('first_found', ['a', 'b'], skip=True) }}"), []);
    assert.deepEqual(templar().render("{{ query('first_found', {'files': ['a'], 'skip': true}) }}"), []);
  });
});

describe("with_first_found", () => {
  test("is accepted by the loader as a loop over the lookup", () => {
    const file = join(role, "tasks", "main.yml");
    writeFileSync(file, "- name: os vars\n  include_vars: '{{ item }}'\n  with_first_found:\n    - files: ['{{ ansible_os_family }}.yml', default.yml]\n      paths: ['.']\n");
    const task = loadTaskFile(file, { baseDir: pb, inherited: { tags: [] } })[0];
    assert.equal(task.kind, "task");
    if (task.kind !== "task") return;
    assert.equal(task.loopFrom, "with_first_found");
    assert.deepEqual(task.loop, [{ files: ["{{ ansible_os_family }}.yml", "default.yml"], paths: ["."] }]);
  });

  test("runs once with the path found; the subfolder follows the action; a miss fails, skip skips", async () => {
    const ctx = { name: "ntp", path: role, defaults: {}, vars: {} };
    const r = await run(
      play([
        block([
          t("include_vars", { file: "{{ item }}" }, { name: "vars", loop: ["{{ os }}.yml", "x.yml"], loopFrom: "with_first_found", role: ctx }),
          t("debug", { msg: "{{ item }} {{ ntp_vars_from }}" }, { name: "files", loop: ["Gentoo.conf", "{{ os }}.conf"], loopFrom: "with_first_found", role: ctx }),
          t("debug", { msg: "{{ item }}" }, { name: "role tasks", loop: ["setup-RedHat.yml", "setup-{{ os }}.yml"], loopFrom: "with_first_found", role: ctx }),
          t("debug", { msg: "{{ item }}" }, { name: "skipped", loop: [{ files: ["nope"], skip: true }], loopFrom: "with_first_found", role: ctx }),
          t("debug", { msg: "{{ item }}" }, { name: "missing", loop: ["nope"], loopFrom: "with_first_found", role: ctx, ignoreErrors: true }),
        ]),
      ], { vars: { os: "Debian" } }),
      { hosts: ["h1"] },
    );
    const res = Object.fromEntries(r.results("h1").map((x) => [x.name, x]));
    assert.equal(res.vars.status, "ok", res.vars.msg);
    assert.deepEqual((res.files.data!.results as Array<{ msg: string }>).map((x) => x.msg), [`${join(role, "files", "Debian.conf")} Debian.yml`]);
    assert.deepEqual((res["role tasks"].data!.results as Array<{ msg: string }>).map((x) => x.msg), [join(role, "tasks", "setup-Debian.yml")]);
    assert.equal(res.skipped.status, "skipped");
    assert.equal(res.missing.status, "failed");
    assert.match(res.missing.msg ?? "", /No file was found when using first_found\./);
  });
});
