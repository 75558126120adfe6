/**
 * A role applied twice with different parameters (a play entry and another role's meta
 * dependency) has two instances, and each instance's handler runs with its own parameters,
 * as in Ansible (which wrote "from-play" then "from-dep"; we wrote "from-play" twice).
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "./fake.ts";
import { loadPlaybook } from "../../../scripts/lib/playbook/load.ts";

const dir = mkdtempSync(join(tmpdir(), "role-instance-handlers-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(path: string, text: string): void {
  mkdirSync(join(dir, path, ".."), { recursive: true });
  writeFileSync(join(dir, path), text);
}

test("each instance of a role runs its handler with its own parameters", async () => {
  write("roles/r/tasks/main.yml", "- name: change\n  fake_cmd: { cmd: echo x }\n  notify: r changed\n");
  write("roles/r/handlers/main.yml", "- name: record\n  debug: { msg: '{{ r_value }}' }\n  listen: r changed\n");
  write("roles/d/meta/main.yml", "dependencies:\n  - role: r\n    r_value: from-dep\n");
  write("roles/d/tasks/main.yml", "- name: d\n  debug: { msg: d }\n");
  write("pb.yml", "- hosts: all\n  gather_facts: false\n  vars:\n    r_value: from-play\n  roles:\n    - r\n    - d\n");
  const r = await run(loadPlaybook(join(dir, "pb.yml")).plays, { hosts: ["h1"] });
  const handlerMessages = r.results("h1").filter((x) => x.name === "record").map((x) => x.msg);
  assert.deepEqual(handlerMessages, ["from-play", "from-dep"]);
});
