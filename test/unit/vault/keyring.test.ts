import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setVaultSecrets, decryptWith, VaultedValue } from "../../../scripts/lib/vault/keyring.ts";
import { Templar } from "../../../scripts/lib/template/templar.ts";
import { encryptVault } from "../../../scripts/lib/vault/format.ts";
import { parseYaml } from "../../../scripts/lib/yaml/load.ts";
import { maskSecrets, Secret } from "../../../scripts/lib/shell/secret.ts";
import { loadInventory } from "../../../scripts/lib/inventory/inventory.ts";
import { parseExtraVars } from "../../../scripts/lib/inventory/extra-vars.ts";
import { UserError } from "../../../scripts/lib/errors.ts";
import { FILE_1_1, FILE_1_2_PROD, INLINE_PROD, INLINE_PLAINTEXT, PASSWORD } from "./fixtures.ts";

const secret = (id: string, password: string) => ({ id, password: Buffer.from(password), source: `${id}-file` });
afterEach(() => setVaultSecrets([]));

test("an inline !vault value (ansible-vault's encrypt_string) is a Secret, decrypted on use and masked in any output", () => {
  const data = parseYaml(`user: admin\n${INLINE_PROD}`, "vars.yml") as Record<string, unknown>;
  const value = data.datastore_password;
  assert.ok(value instanceof VaultedValue && value instanceof Secret);
  assert.equal(data.user, "admin");
  // Loading needed no password; using it does.
  setVaultSecrets([secret("prod", PASSWORD)]);
  assert.equal(value.reveal(), INLINE_PLAINTEXT);
  assert.equal(String(value), "***");
  assert.equal(JSON.stringify({ value }), '{"value":"***"}');
  assert.match(value.vaultText, /^\$ANSIBLE_VAULT;1\.2;AES256;prod\n/);
  assert.equal(maskSecrets(`connecting with ${INLINE_PLAINTEXT}`), "connecting with ***");
});

test("a template using an inline value renders to a Secret (what is derived from it stays masked)", () => {
  setVaultSecrets([secret("prod", PASSWORD)]);
  const vars = parseYaml(INLINE_PROD, "vars.yml") as Record<string, unknown>;
  const out: unknown = new Templar(vars).render("{{ datastore_password | b64encode }}");
  assert.ok(out instanceof Secret);
  assert.equal(out.reveal(), Buffer.from(INLINE_PLAINTEXT).toString("base64"));
});

test("to_json/to_yaml of a structure holding a vault value write the plaintext, as a Secret (not the mask)", () => {
  setVaultSecrets([secret("prod", PASSWORD)]);
  const vars = { db: parseYaml(INLINE_PROD, "vars.yml") };
  for (const [expr, expected] of [
    ["{{ db | to_json }}", `{"datastore_password": "${INLINE_PLAINTEXT}"}`],
    ["{{ db | to_yaml }}", `datastore_password: ${INLINE_PLAINTEXT}\n`],
  ]) {
    const out: unknown = new Templar(vars).render(expr);
    assert.ok(out instanceof Secret, expr);
    assert.equal(out.reveal(), expected);
  }
});

test("a wrong password for an inline value fails where it is used, naming file:line:col of the value", () => {
  setVaultSecrets([secret("prod", "wrong")]);
  const data = parseYaml(`user: admin\n${INLINE_PROD}`, "group_vars/all.yml") as Record<string, VaultedValue>;
  assert.throws(
    () => data.datastore_password.reveal(),
    (e: unknown) => e instanceof UserError && /Decryption failed/.test(e.message) && e.format().startsWith("group_vars/all.yml:2:") && e.exitCode === 1 && !e.format().includes("wrong"),
  );
});

test("no password at all: a clear error naming the file and the flags to use", () => {
  assert.throws(() => parseYaml(FILE_1_1, "secrets.yml"), (e: unknown) => e instanceof UserError && /no vault password was given/.test(e.message) && e.where?.file === "secrets.yml" && /--vault-password-file/.test(e.hint ?? ""));
});

test("a whole vault file is parsed after decryption; its values are secrets, its keys are not", () => {
  setVaultSecrets([secret("default", PASSWORD)]);
  const data = parseYaml(FILE_1_1, "secrets.yml") as Record<string, unknown>;
  assert.deepEqual(data, { k3s_token: "K10abc::server:s3cr3t" });
  assert.equal(maskSecrets("token=K10abc::server:s3cr3t k3s_token"), "token=*** k3s_token");
});

test("passwords are tried with the 1.2 label's match first, then the others in order", () => {
  const list = [secret("dev", "nope"), secret("prod", PASSWORD)];
  assert.equal(decryptWith(FILE_1_2_PROD, { file: "f" }, list).id, "prod");
  // A 1.1 file has no label: every password is tried; the one that works is reported.
  assert.equal(decryptWith(FILE_1_1, { file: "f" }, list).id, "prod");
  // The label is only a hint (as Ansible): a differently-labelled password that works opens it.
  assert.equal(decryptWith(FILE_1_2_PROD, { file: "f" }, [secret("other", PASSWORD)]).id, "other");
});

test("a vaulted group_vars file and an inline value in host_vars load through the inventory", () => {
  const dir = mkdtempSync(join(tmpdir(), "vault-inv-"));
  try {
    mkdirSync(join(dir, "group_vars"));
    mkdirSync(join(dir, "host_vars"));
    writeFileSync(join(dir, "hosts.yml"), "all:\n  hosts:\n    pi-1:\n");
    writeFileSync(join(dir, "group_vars", "all.yml"), encryptVault(Buffer.from("k3s_token: tok-from-group-vars\n"), Buffer.from(PASSWORD), "prod"));
    writeFileSync(join(dir, "host_vars", "pi-1.yml"), `ansible_host: 10.0.0.1\n${INLINE_PROD}`);
    setVaultSecrets([secret("prod", PASSWORD)]);
    const inv = loadInventory([join(dir, "hosts.yml")]);
    const vars = inv.hostVars("pi-1");
    assert.equal(vars.k3s_token, "tok-from-group-vars");
    assert.equal((vars.datastore_password as VaultedValue).reveal(), INLINE_PLAINTEXT);
    assert.equal(vars.ansible_host, "10.0.0.1");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("-e @file takes a vault file", () => {
  const dir = mkdtempSync(join(tmpdir(), "vault-ev-"));
  try {
    writeFileSync(join(dir, "extra.yml"), FILE_1_1);
    setVaultSecrets([secret("default", PASSWORD)]);
    assert.deepEqual(parseExtraVars(["@extra.yml"], { cwd: dir }), { k3s_token: "K10abc::server:s3cr3t" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a vault-encrypted inventory is read, YAML and INI alike", () => {
  const dir = mkdtempSync(join(tmpdir(), "vault-invfile-"));
  try {
    const pw = Buffer.from(PASSWORD);
    writeFileSync(join(dir, "hosts.yml"), encryptVault(Buffer.from("all:\n  hosts:\n    pi-1:\n      ansible_host: 10.9.8.7\n"), pw));
    writeFileSync(join(dir, "hosts"), encryptVault(Buffer.from("[workers]\npi-2 ansible_host=10.9.8.6\n"), pw));
    setVaultSecrets([secret("default", PASSWORD)]);
    const inv = loadInventory([join(dir, "hosts.yml"), join(dir, "hosts")]);
    assert.equal(inv.hostVars("pi-1").ansible_host, "10.9.8.7");
    assert.equal(inv.hostVars("pi-2").ansible_host, "10.9.8.6");
    setVaultSecrets([secret("default", "wrong")]);
    assert.throws(() => loadInventory([join(dir, "hosts")]), (e: unknown) => e instanceof UserError && e.where?.file === join(dir, "hosts") && /Decryption failed/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
