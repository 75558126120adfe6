/**
 * Roles of installed collections (`namespace.collection.role`) and roles_path, found where
 * Ansible finds them: <playbook dir>/collections, collections_path (ansible.cfg
 * collections_path or collections_paths, ANSIBLE_COLLECTIONS_PATH(S)), then the defaults
 * ~/.ansible/collections and /usr/share/ansible/collections; roles_path defaults to
 * ~/.ansible/roles. Through play.ts's main() in a temp folder that is also HOME.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../scripts/play.ts";
import { setCollectionsPath, setRolesPath } from "../../../scripts/lib/playbook/role.ts";

const dir = mkdtempSync(join(tmpdir(), "play-collections-"));
after(() => {
  rmSync(dir, { recursive: true, force: true });
  setRolesPath([]);
  setCollectionsPath([]);
});

async function play(args: string[], env: Record<string, string> = {}, cwd = dir) {
  let out = "";
  let err = "";
  const code = await main(args, { cwd, env: { HOME: dir, ...env }, stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) } });
  return { code, out, err };
}

/** A collection role printing `said`, under <root>/ansible_collections/<ns>/<coll>/roles/<role>. */
function collectionRole(root: string, fqcn: string, said: string): void {
  const [ns, coll, role] = fqcn.split(".");
  const tasks = join(root, "ansible_collections", ns, coll, "roles", role, "tasks");
  mkdirSync(tasks, { recursive: true });
  writeFileSync(join(tasks, "main.yml"), `- name: ${said}\n  debug: msg=hi\n`);
}

function playbook(name: string, role: string, where = dir): string {
  writeFileSync(join(where, name), `- hosts: all\n  gather_facts: false\n  roles: [${role}]\n`);
  return name;
}

test("a collection next to the playbook (./collections/ansible_collections) provides namespace.collection.role", async () => {
  collectionRole(join(dir, "collections"), "acme.base.motd", "motd from the adjacent collection");
  const r = await play([playbook("adjacent.yml", "acme.base.motd"), "--list-tasks"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /acme\.base\.motd : motd from the adjacent collection/);
});

test("collections_path in ansible.cfg, ANSIBLE_COLLECTIONS_PATH(S), a path naming ansible_collections itself", async () => {
  collectionRole(join(dir, "cfgcoll"), "acme.cfg.one", "from the cfg path");
  collectionRole(join(dir, "envcoll"), "acme.env.two", "from the env path");
  collectionRole(join(dir, "oldenv"), "acme.old.three", "from the old env name");
  writeFileSync(join(dir, "ansible.cfg"), "[defaults]\ncollections_path = /nonexistent:cfgcoll/ansible_collections\n");
  try {
    const cfg = await play([playbook("cfg.yml", "acme.cfg.one"), "--list-tasks"]);
    assert.equal(cfg.code, 0, cfg.err);
    assert.match(cfg.out, /from the cfg path/);
    const env = await play([playbook("env.yml", "acme.env.two"), "--list-tasks"], { ANSIBLE_COLLECTIONS_PATH: join(dir, "envcoll") });
    assert.equal(env.code, 0, env.err);
    assert.match(env.out, /from the env path/);
    assert.doesNotMatch(env.err, /not supported/);
    const old = await play([playbook("old.yml", "acme.old.three"), "--list-tasks"], { ANSIBLE_COLLECTIONS_PATHS: join(dir, "oldenv") });
    assert.equal(old.code, 0, old.err);
    assert.match(old.out, /from the old env name/);
  } finally {
    rmSync(join(dir, "ansible.cfg"));
  }
});

test("unconfigured: ~/.ansible/collections and ~/.ansible/roles are searched", async () => {
  collectionRole(join(dir, ".ansible", "collections"), "acme.home.four", "from the home collections");
  mkdirSync(join(dir, ".ansible", "roles", "homerole", "tasks"), { recursive: true });
  writeFileSync(join(dir, ".ansible", "roles", "homerole", "tasks", "main.yml"), "- name: from the home roles\n  debug: msg=hi\n");
  const sub = join(dir, "elsewhere");
  mkdirSync(sub, { recursive: true });
  const c = await play([playbook("home.yml", "acme.home.four", sub), "--list-tasks"], {}, sub);
  assert.equal(c.code, 0, c.err);
  assert.match(c.out, /from the home collections/);
  const r = await play([playbook("homerole.yml", "homerole", sub), "--list-tasks"], {}, sub);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /from the home roles/);
});

test("a collection role nowhere: the error names the collection folders searched", async () => {
  const r = await play([playbook("missing.yml", "acme.none.role"), "--syntax-check"]);
  assert.equal(r.code, 4);
  assert.match(r.err, /Role "acme\.none\.role" not found/);
  assert.match(r.err, /ansible_collections\/acme\/none\/roles\/role/);
});
