/**
 * A role sees its dependencies' defaults (under its own), however it runs: from `roles:`, and
 * from include_role at run time, as Ansible's Role.get_default_vars. include_role left them out
 * (the dependency's defaults were only the play's when the play listed the role).
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "./fake.ts";
import { loadIncludedRole, loadPlaybook } from "../../../scripts/lib/playbook/load.ts";

const dir = mkdtempSync(join(tmpdir(), "role-dependency-defaults-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(path: string, text: string): void {
  mkdirSync(join(dir, path, ".."), { recursive: true });
  writeFileSync(join(dir, path), text);
}

write("roles/shared/defaults/main.yml", "shared_value: from-shared\noverridden: from-shared\n");
write("roles/shared/meta/main.yml", "dependencies: []\n");
write("roles/user/meta/main.yml", "dependencies:\n  - shared\n");
write("roles/user/defaults/main.yml", "overridden: from-user\n");
write("roles/user/tasks/main.yml", "- name: show\n  debug: { msg: '{{ shared_value }} {{ overridden }}' }\n");

async function shown(playbook: string): Promise<unknown[]> {
  write("pb.yml", playbook);
  const r = await run(loadPlaybook(join(dir, "pb.yml")).plays, { hosts: ["h1"], loadIncludedRole });
  return r.results("h1").filter((x) => x.name === "show").map((x) => x.msg);
}

test("roles: the role reads its dependency's defaults; its own win", async () => {
  assert.deepEqual(await shown("- hosts: all\n  gather_facts: false\n  roles: [user]\n"), ["from-shared from-user"]);
});

test("include_role: the same", async () => {
  assert.deepEqual(await shown("- hosts: all\n  gather_facts: false\n  tasks:\n    - include_role: { name: user }\n"), ["from-shared from-user"]);
});

test("a dependency cycle is still reported, not read forever", async () => {
  write("roles/a/meta/main.yml", "dependencies: [b]\n");
  write("roles/b/meta/main.yml", "dependencies: [a]\n");
  write("pb.yml", "- hosts: all\n  gather_facts: false\n  roles: [a]\n");
  assert.throws(() => loadPlaybook(join(dir, "pb.yml")), /depends on itself/);
});
