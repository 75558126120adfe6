/**
 * A module Ansible has and we lack loads (short name, ansible.builtin.*, a listed collection's
 * FQCN, an unlisted collection's FQCN) and fails only when a task really runs it, naming it; a
 * task skipped by when: never complains. A name that is no Ansible module is refused at load.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadTaskFile } from "../../../scripts/lib/playbook/load.ts";
import type { Task } from "../../../scripts/lib/playbook/types.ts";
import { block, play, run } from "../run/fake.ts";

const dir = mkdtempSync(join(tmpdir(), "unsupported-modules-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function load(yaml: string): Task[] {
  const file = join(dir, `t${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, yaml);
  return loadTaskFile(file, { baseDir: dir, inherited: { tags: [] } }) as Task[];
}

const ROLE = `
- name: dnf on RedHat
  dnf: name=chrony state=present
  when: ansible_os_family == 'RedHat'
- name: fqcn dnf
  ansible.builtin.dnf: { name: chrony }
  when: ansible_os_family == 'RedHat'
- name: pacman on Arch
  community.general.pacman:
    name: chrony
    update_cache: true
  when: ansible_os_family == 'Archlinux'
- name: a collection we do not list
  acme.widgets.frobnicate: { level: 3 }
  when: false
- name: snap package
  snap: { name: lxd }
- name: our timezone by its collection name
  community.general.timezone: { name: UTC }
  when: false
`;

test("modules Ansible has and we lack load with their arguments; ours keep their own", () => {
  const tasks = load(ROLE);
  assert.deepEqual(tasks.map((t) => t.module), ["dnf", "ansible.builtin.dnf", "community.general.pacman", "acme.widgets.frobnicate", "snap", "timezone"]);
  assert.deepEqual(tasks[0].args, { name: "chrony", state: "present" });
});

test("skipped by when: no complaint; run: fails naming the module", async () => {
  const tasks = load(ROLE);
  const r = await run(play([block(tasks.map((t) => ({ ...t, ignoreErrors: true })))], { vars: { ansible_os_family: "Debian" } }), { hosts: ["h1"] });
  const status = r.results("h1").map((x) => [x.name, x.status]);
  assert.deepEqual(status, [
    ["dnf on RedHat", "skipped"], ["fqcn dnf", "skipped"], ["pacman on Arch", "skipped"], ["a collection we do not list", "skipped"],
    ["snap package", "failed"], ["our timezone by its collection name", "skipped"],
  ]);
  assert.match(r.results("h1")[4].msg ?? "", /module 'snap' is not supported by this runner; Ansible runs it as community\.general\.snap/);
});

test("a name that is no Ansible module is still refused at load", () => {
  assert.throws(() => load("- dnff: name=x\n"), /unknown task keyword "dnff"/);
  assert.throws(() => load("- community.general.pacmna: { name: x }\n"), /Unknown module "community\.general\.pacmna"/);
  assert.throws(() => load("- ansible.builtin.servce_facts:\n"), /Unknown module "ansible\.builtin\.servce_facts"/);
});
