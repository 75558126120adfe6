/**
 * The set-up the runner, inv and adhoc share (scripts/lib/cli/settings.ts): inventory sources
 * by precedence, ansible.cfg warnings printed once, the become method check, the vault
 * passwords installed from ansible.cfg or the flags; and the scripts' parsers taking the vault
 * flags. Real files in a temp folder with its own HOME (no machine ansible.cfg leaks in).
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inventorySources, loadCommandSettings } from "../../../scripts/lib/cli/settings.ts";
import { parseAdhocArgs } from "../../../scripts/lib/adhoc/args.ts";
import { parseInventoryArgs } from "../../../scripts/lib/inventory-edit/args.ts";
import { UserError } from "../../../scripts/lib/errors.ts";
import { encryptVault } from "../../../scripts/lib/vault/format.ts";
import { decryptVaultText, setVaultSecrets, vaultSecrets } from "../../../scripts/lib/vault/keyring.ts";
import type { VaultFlags } from "../../../scripts/lib/vault/setup.ts";

const dir = mkdtempSync(join(tmpdir(), "cli-settings-"));
after(() => {
  rmSync(dir, { recursive: true, force: true });
  setVaultSecrets([]);
});
const noFlags: VaultFlags = { vaultIds: [], vaultPasswordFiles: [], askVaultPass: false };

async function settingsIn(cwd: string, env: Record<string, string> = {}, flags = noFlags) {
  let err = "";
  const config = await loadCommandSettings(flags, { cwd, env: { HOME: dir, ...env }, stderr: { write: (t: string) => (err += t) } });
  return { config, err };
}

function folder(name: string, cfg?: string): string {
  const cwd = join(dir, name);
  mkdirSync(cwd, { recursive: true, mode: 0o755 });
  if (cfg !== undefined) writeFileSync(join(cwd, "ansible.cfg"), cfg);
  return cwd;
}

test("inventory: -i beats ANSIBLE_INVENTORY, which beats ansible.cfg; inventory/hosts.yml last", async () => {
  const cwd = folder("precedence", "[defaults]\ninventory = cfg.yml\n");
  mkdirSync(join(cwd, "inventory"));
  for (const f of ["cfg.yml", "env.yml", "flag.yml", "inventory/hosts.yml"]) writeFileSync(join(cwd, f), "all: {}\n");
  const fromFile = (await settingsIn(cwd)).config.settings;
  assert.deepEqual(inventorySources([], cwd, fromFile), [join(cwd, "cfg.yml")]);
  const fromEnv = (await settingsIn(cwd, { ANSIBLE_INVENTORY: "env.yml" })).config.settings;
  assert.deepEqual(inventorySources([], cwd, fromEnv), [join(cwd, "env.yml")]);
  // A path that exists here is made absolute; a host list stays as given.
  assert.deepEqual(inventorySources(["flag.yml", "pi-1,pi-2,"], cwd, fromEnv), [join(cwd, "flag.yml"), "pi-1,pi-2,"]);
  assert.deepEqual(inventorySources([], cwd, {}), [join(cwd, "inventory", "hosts.yml")]);
});

test("no inventory anywhere is a usage error (exit 5) saying where one can come from", () => {
  const cwd = folder("empty");
  assert.throws(() => inventorySources([], cwd, {}), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(e.exitCode, 5);
    assert.match(e.message, /no inventory: inventory\/hosts\.yml does not exist here and no -i was given/);
    assert.match(e.hint ?? "", /ansible\.cfg \(or ANSIBLE_INVENTORY\)/);
    return true;
  });
});

test("unsupported settings are warned about once each, naming file:line or the variable", async () => {
  const cwd = folder("warn", "[defaults]\ngathering = smart\nforks = 3\n");
  const { config, err } = await settingsIn(cwd, { ANSIBLE_STDOUT_CALLBACK: "yaml" });
  assert.equal(config.settings.forks, 3);
  assert.equal(err.match(/gathering is not supported/g)?.length, 1, err);
  assert.match(err, /^\[WARNING\]: .*warn\/ansible\.cfg:2: \[defaults\] gathering is not supported by this runner and is ignored$/m);
  assert.equal(err.match(/ANSIBLE_STDOUT_CALLBACK is not supported/g)?.length, 1, err);
});

test("a become method other than sudo is refused, naming where it was set", async () => {
  const cwd = folder("su", "[privilege_escalation]\nbecome_method = su\n");
  await assert.rejects(settingsIn(cwd), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /become_method "su" is not supported \(only sudo\)/);
    assert.match(e.hint ?? "", /su\/ansible\.cfg:2/);
    return true;
  });
  const viaEnv = folder("su-env");
  await assert.rejects(settingsIn(viaEnv, { ANSIBLE_BECOME_METHOD: "doas" }), /become_method "doas" is not supported[\s\S]*/);
});

test("vault passwords: ansible.cfg's vault_password_file, or the flag, opens vaulted text; none installs none", async () => {
  const cwd = folder("vault");
  writeFileSync(join(cwd, "cfg-pass"), "from-cfg\n");
  writeFileSync(join(cwd, "flag-pass"), "from-flag\n");
  const byCfg = encryptVault(Buffer.from("opened by cfg"), Buffer.from("from-cfg"));
  const byFlag = encryptVault(Buffer.from("opened by flag"), Buffer.from("from-flag"));
  const where = { file: join(cwd, "x.yml"), line: 1 };

  await settingsIn(cwd);
  assert.equal(vaultSecrets().length, 0);
  assert.throws(() => decryptVaultText(byCfg, where), /no vault password was given/);

  writeFileSync(join(cwd, "ansible.cfg"), "[defaults]\nvault_password_file = cfg-pass\n");
  await settingsIn(cwd);
  assert.equal(decryptVaultText(byCfg, where), "opened by cfg");
  assert.throws(() => decryptVaultText(byFlag, where));

  await settingsIn(cwd, {}, { ...noFlags, vaultPasswordFiles: ["flag-pass"] });
  assert.equal(decryptVaultText(byFlag, where), "opened by flag");
  assert.equal(decryptVaultText(byCfg, where), "opened by cfg", "the flag adds to ansible.cfg's password, as ansible does");
});

test("adhoc and inv take ansible's vault flags; adhoc tells a given -f from its default", () => {
  const vaultArgs = ["--vault-id", "prod@p", "--vault-password-file", "f1", "--vault-pass-file=f2", "-J"];
  const a = parseAdhocArgs(["all", "-a", "uptime", ...vaultArgs]);
  assert.deepEqual([a.vaultIds, a.vaultPasswordFiles, a.askVaultPass], [["prod@p"], ["f1", "f2"], true]);
  const i = parseInventoryArgs(["--list", ...vaultArgs]);
  assert.deepEqual([i.vaultIds, i.vaultPasswordFiles, i.askVaultPass], [["prod@p"], ["f1", "f2"], true]);
  assert.equal(parseAdhocArgs(["all", "-m", "ping"]).forksGiven, false);
  assert.deepEqual([parseAdhocArgs(["all", "-m", "ping", "-f", "5"]).forks, parseAdhocArgs(["all", "-m", "ping", "-f", "5"]).forksGiven], [5, true]);
});
