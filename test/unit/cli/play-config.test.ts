/**
 * The runner's precedence of flags, ANSIBLE_* variables and ansible.cfg, through play.ts's main() in a temp
 * folder (its own HOME, so no ~/.ansible.cfg of the machine leaks in).
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../scripts/play.ts";
import { encryptVault } from "../../../scripts/lib/vault/format.ts";
import { setVaultSecrets } from "../../../scripts/lib/vault/keyring.ts";
import { setRolesPath } from "../../../scripts/lib/playbook/role.ts";

const dir = mkdtempSync(join(tmpdir(), "play-cfg-"));
after(() => {
  rmSync(dir, { recursive: true, force: true });
  setVaultSecrets([]);
  setRolesPath([]);
});
writeFileSync(join(dir, "cfg-hosts.yml"), "all:\n  hosts:\n    from-cfg:\n");
writeFileSync(join(dir, "env-hosts.yml"), "all:\n  hosts:\n    from-env:\n");
writeFileSync(join(dir, "flag-hosts.yml"), "all:\n  hosts:\n    from-flag:\n");
writeFileSync(join(dir, "pb.yml"), "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n");

async function play(args: string[], env: Record<string, string> = {}) {
  let out = "";
  let err = "";
  const code = await main(args, { cwd: dir, env: { HOME: dir, ...env }, stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) } });
  return { code, out, err };
}
const cfg = (text: string) => writeFileSync(join(dir, "ansible.cfg"), text);

test("inventory: the flag beats ANSIBLE_INVENTORY, which beats ansible.cfg", async () => {
  cfg("[defaults]\ninventory = cfg-hosts.yml\n");
  assert.match((await play(["pb.yml", "--list-hosts"])).out, /from-cfg/);
  assert.match((await play(["pb.yml", "--list-hosts"], { ANSIBLE_INVENTORY: "env-hosts.yml" })).out, /from-env/);
  const flag = await play(["pb.yml", "--list-hosts", "-i", join(dir, "flag-hosts.yml")], { ANSIBLE_INVENTORY: "env-hosts.yml" });
  assert.match(flag.out, /from-flag/);
  assert.doesNotMatch(flag.out, /from-env|from-cfg/);
});

test("roles_path finds a role outside the playbook's folders", async () => {
  mkdirSync(join(dir, "shared", "greet", "tasks"), { recursive: true });
  writeFileSync(join(dir, "shared", "greet", "tasks", "main.yml"), "- name: say hello\n  debug: msg=hello\n");
  writeFileSync(join(dir, "roles-pb.yml"), "- hosts: all\n  gather_facts: false\n  roles: [greet]\n");
  cfg("[defaults]\nroles_path = /nonexistent:shared\n");
  const r = await play(["roles-pb.yml", "--list-tasks"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /say hello/);
});

test("vault_password_file from ansible.cfg opens a vaulted vars file; a flag adds to it", async () => {
  writeFileSync(join(dir, "pass"), "cfg-pass\n");
  writeFileSync(join(dir, "vaulted.yml"), encryptVault(Buffer.from("greeting: hi there\n"), Buffer.from("cfg-pass")));
  writeFileSync(join(dir, "vault-pb.yml"), "- hosts: all\n  gather_facts: false\n  vars_files: [vaulted.yml]\n  tasks:\n    - debug: msg={{ greeting }}\n");
  cfg("[defaults]\nvault_password_file = pass\n");
  assert.equal((await play(["vault-pb.yml", "--syntax-check"])).code, 0);
  cfg("[defaults]\n");
  const none = await play(["vault-pb.yml", "--syntax-check"]);
  assert.equal(none.code, 1);
  assert.match(none.err, /vaulted\.yml: Attempting to decrypt vault data but no vault password was given/);
  assert.equal((await play(["vault-pb.yml", "--syntax-check", "--vault-password-file", "pass"])).code, 0);
});

test("become_method other than sudo is refused naming where it was set; unknown settings warn", async () => {
  cfg("[defaults]\nstdout_callback = yaml\n[privilege_escalation]\nbecome_method = su\n");
  const r = await play(["pb.yml", "--syntax-check"]);
  assert.equal(r.code, 1);
  assert.match(r.err, /\[WARNING\]: .*ansible\.cfg:2: \[defaults\] stdout_callback is not supported/);
  assert.match(r.err, /become_method "su" is not supported \(only sudo\)\n {2}hint: Set by .*ansible\.cfg:4/);
});
