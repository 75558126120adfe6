import { test } from "node:test";
import assert from "node:assert/strict";
import { isSecretName, maskVars } from "../../../scripts/lib/inventory-edit/mask.ts";
import { registerSecret, Secret } from "../../../scripts/lib/shell/secret.ts";

test("secret-looking names are masked, look-alikes are not", () => {
  for (const name of ["ansible_password", "ansible_become_pass", "ansible_ssh_pass", "k3s_token", "vault_secret", "api_key", "k3s_datastore_endpoint", "wifi_passphrase", "PASSWORD"]) {
    assert.equal(isSecretName(name), true, name);
  }
  for (const name of ["ansible_ssh_private_key_file", "compass_heading", "bypass_cache", "ansible_user", "passthrough"]) {
    assert.equal(isSecretName(name), false, name);
  }
});

test("maskVars: by name, Secret values, and registered secrets inside other values, recursively", () => {
  registerSecret("hunter2-registered");
  const vars = maskVars({
    k3s_token: "abc",
    empty_password: "",
    nested: { db_password: "x", list: [new Secret("s3cr3t"), "url://u:hunter2-registered@h"] },
    plain: 3,
  });
  assert.deepEqual(vars, { k3s_token: "***", empty_password: "", nested: { db_password: "***", list: ["***", "url://u:***@h"] }, plain: 3 });
});

test("maskVars: a bare reference to another variable is shown as is; anything more is masked", () => {
  const vars = maskVars({ k3s_token: "{{ vault_k3s_token }}", db_password: "{{vault.db}}", api_key: "{{ 'literal' }}", wifi_passphrase: "x{{ a }}" });
  assert.deepEqual(vars, { k3s_token: "{{ vault_k3s_token }}", db_password: "{{vault.db}}", api_key: "***", wifi_passphrase: "***" });
});
