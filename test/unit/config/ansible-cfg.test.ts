import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findAnsibleConfig, loadAnsibleConfig } from "../../../scripts/lib/config/ansible-cfg.ts";
import { UserError } from "../../../scripts/lib/errors.ts";

const root = mkdtempSync(join(tmpdir(), "ansible-cfg-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A fresh cwd, home and system file; each ansible.cfg holds `remote_user = <where>`. */
function layout(files: { env?: boolean; cwd?: boolean; home?: boolean; system?: boolean }) {
  const base = join(root, String(n++));
  const dirs = { cwd: join(base, "cwd"), home: join(base, "home"), envDir: join(base, "envdir"), etc: join(base, "etc") };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true, mode: 0o755 });
  chmodSync(dirs.cwd, 0o755);
  if (files.env) writeFileSync(join(dirs.envDir, "ansible.cfg"), "[defaults]\nremote_user = from-env-file\n");
  if (files.cwd) writeFileSync(join(dirs.cwd, "ansible.cfg"), "[defaults]\nremote_user = from-cwd\n");
  if (files.home) writeFileSync(join(dirs.home, ".ansible.cfg"), "[defaults]\nremote_user = from-home\n");
  if (files.system) writeFileSync(join(dirs.etc, "ansible.cfg"), "[defaults]\nremote_user = from-system\n");
  const ctx = (env: Record<string, string> = {}) => ({ cwd: dirs.cwd, home: dirs.home, systemFile: join(dirs.etc, "ansible.cfg"), env: files.env ? { ANSIBLE_CONFIG: dirs.envDir, ...env } : env });
  return { dirs, ctx };
}

test("the first file found wins: $ANSIBLE_CONFIG (a folder here), ./ansible.cfg, ~/.ansible.cfg, /etc/ansible", () => {
  const user = (f: Parameters<typeof layout>[0]) => loadAnsibleConfig(layout(f).ctx()).settings.remoteUser;
  assert.equal(user({ env: true, cwd: true, home: true, system: true }), "from-env-file");
  assert.equal(user({ cwd: true, home: true, system: true }), "from-cwd");
  assert.equal(user({ home: true, system: true }), "from-home");
  assert.equal(user({ system: true }), "from-system");
  assert.equal(user({}), undefined);
});

test("the environment beats the file, for every supported setting", () => {
  const { ctx } = layout({ cwd: true });
  const cfg = loadAnsibleConfig(ctx({ ANSIBLE_REMOTE_USER: "from-variable", ANSIBLE_FORKS: "7", ANSIBLE_HOST_KEY_CHECKING: "False", ANSIBLE_BECOME: "yes", ANSIBLE_VAULT_IDENTITY_LIST: "a@x, b@y" }));
  assert.equal(cfg.settings.remoteUser, "from-variable");
  assert.equal(cfg.origins.remoteUser, "env ANSIBLE_REMOTE_USER");
  assert.deepEqual([cfg.settings.forks, cfg.settings.hostKeyChecking, cfg.settings.become, cfg.settings.vaultIdentityList], [7, false, true, ["a@x", "b@y"]]);
});

test("every setting is read from its section, with Ansible's types; paths are relative to the file", () => {
  const { dirs, ctx } = layout({});
  writeFileSync(join(dirs.cwd, "ansible.cfg"), [
    "# comment", "[defaults]", "inventory = hosts.yml, /etc/other", "remote_user: pi ; inline comment", "private_key_file = ~/.ssh/id_pi",
    "host_key_checking = False", "roles_path = roles:/opt/roles", "forks = 12", "timeout = 30", "vault_password_file = .vault-pass",
    "vault_encrypt_identity = prod", "ask_vault_pass = no", "", "[privilege_escalation]", "become = True", "become_user = admin",
    "become_method = sudo", "become_ask_pass = false",
  ].join("\n"));
  const s = loadAnsibleConfig(ctx()).settings;
  assert.deepEqual(s, {
    inventory: [join(dirs.cwd, "hosts.yml"), "/etc/other"], remoteUser: "pi", privateKeyFile: join(dirs.home, ".ssh/id_pi"),
    hostKeyChecking: false, rolesPath: [join(dirs.cwd, "roles"), "/opt/roles"], forks: 12, timeout: 30,
    vaultPasswordFile: join(dirs.cwd, ".vault-pass"), vaultEncryptIdentity: "prod", askVaultPass: false,
    become: true, becomeUser: "admin", becomeMethod: "sudo", becomeAskPass: false,
  });
});

test("an unsupported setting (file or ANSIBLE_*) is named in a warning, never dropped silently", () => {
  const { dirs, ctx } = layout({});
  writeFileSync(join(dirs.cwd, "ansible.cfg"), "[defaults]\ngathering = smart\n[ssh_connection]\npipelining = True\n");
  const w = loadAnsibleConfig(ctx({ ANSIBLE_STDOUT_CALLBACK: "yaml" })).warnings;
  assert.equal(w.length, 3, w.join("\n"));
  assert.match(w[0], /ansible\.cfg:2: \[defaults\] gathering is not supported/);
  assert.match(w[1], /ansible\.cfg:4: \[ssh_connection\] pipelining is not supported/);
  assert.match(w[2], /ANSIBLE_STDOUT_CALLBACK is not supported/);
});

test("a world-writable cwd is no ansible.cfg source, with Ansible's warning (not when $ANSIBLE_CONFIG names it)", () => {
  const { dirs, ctx } = layout({ cwd: true, home: true });
  chmodSync(dirs.cwd, 0o777);
  const found = findAnsibleConfig(ctx());
  assert.equal(found.file, join(dirs.home, ".ansible.cfg"));
  assert.match(found.warnings[0], /^Ansible is being run in a world writable directory \(.*\), ignoring it as an ansible.cfg source/);
  const named = findAnsibleConfig({ ...ctx(), env: { ANSIBLE_CONFIG: join(dirs.cwd, "ansible.cfg") } });
  assert.equal(named.file, join(dirs.cwd, "ansible.cfg"));
  assert.deepEqual(named.warnings, []);
});

test("bad values are errors naming file:line or the variable", () => {
  const { dirs, ctx } = layout({});
  writeFileSync(join(dirs.cwd, "ansible.cfg"), "[defaults]\n\nforks = lots\n");
  assert.throws(() => loadAnsibleConfig(ctx()), (e: unknown) => e instanceof UserError && e.format().includes("ansible.cfg:3") && /forks must be a positive whole number, got "lots"/.test(e.message));
  rmSync(join(dirs.cwd, "ansible.cfg"));
  assert.throws(() => loadAnsibleConfig(ctx({ ANSIBLE_BECOME: "perhaps" })), /environment variable ANSIBLE_BECOME: become must be true or false, got "perhaps"/);
  writeFileSync(join(dirs.cwd, "ansible.cfg"), "remote_user = x\n");
  assert.throws(() => loadAnsibleConfig(ctx()), /before any \[section\] header/);
});

test("retry files and the ssh arguments: read from their sections, the environment over the file", () => {
  const { dirs, ctx } = layout({});
  writeFileSync(
    join(dirs.cwd, "ansible.cfg"),
    "[defaults]\nretry_files_enabled = True\nretry_files_save_path = retries\n[ssh_connection]\nssh_args = -o ServerAliveInterval=5 -o ServerAliveCountMax=2\nssh_common_args = -J bastion\n",
  );
  const s = loadAnsibleConfig(ctx({ ANSIBLE_SSH_EXTRA_ARGS: "-o ConnectTimeout=3" })).settings;
  assert.deepEqual(
    [s.retryFilesEnabled, s.retryFilesSavePath, s.sshArgs, s.sshCommonArgs, s.sshExtraArgs],
    [true, join(dirs.cwd, "retries"), "-o ServerAliveInterval=5 -o ServerAliveCountMax=2", "-J bastion", "-o ConnectTimeout=3"],
  );
  const warnings = loadAnsibleConfig(ctx()).warnings;
  assert.deepEqual(warnings, [], "none of these is named as unsupported");
  assert.equal(loadAnsibleConfig(ctx({ ANSIBLE_SSH_TIMEOUT: "7" })).settings.timeout, 7);
});
