/**
 * Secrets in listings: the value of a variable whose name says it is one (a password, a token,
 * a key, the k3s datastore endpoint that embeds its password) prints as `***`, as do Secret
 * values (their toJSON) and any text the runner has registered as secret. A `!vault` value is
 * shown as the caller asks (ansible-inventory --list shows its encrypted text), else as `***`.
 */
import { maskSecrets, Secret } from "../shell/secret.ts";
import { VaultedValue } from "../vault/keyring.ts";

/** How a listing shows a `!vault` value (it is ciphertext, so it may be shown whatever its name). */
export type ShowVaulted = (value: VaultedValue) => unknown;

const SECRET_NAME = /(^|_)pass(word|wd|phrase)?($|_)|token|secret|credential|api_?key|private_key(?!_file)|datastore_endpoint/i;

/** True for names such as ansible_become_password, k3s_token, vault_secret (not ansible_ssh_private_key_file). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** `"{{ vault_k3s_token }}"`: a bare reference to another variable shows no secret (ansible-inventory prints it as is). */
function isReference(value: unknown): boolean {
  return typeof value === "string" && /^\{\{\s*[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\s*\}\}$/.test(value);
}

/** A copy of `vars` with secret values replaced by "***", recursively. */
export function maskVars(vars: Record<string, unknown>, showVaulted?: ShowVaulted): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(vars)) {
    out[k] = showVaulted && v instanceof VaultedValue ? showVaulted(v) : isSecretName(k) && v !== null && v !== undefined && v !== "" && !isReference(v) ? "***" : maskValue(v, showVaulted);
  }
  return out;
}

function maskValue(value: unknown, showVaulted?: ShowVaulted): unknown {
  if (showVaulted && value instanceof VaultedValue) return showVaulted(value);
  if (value instanceof Secret) return "***";
  if (typeof value === "string") return maskSecrets(value);
  if (Array.isArray(value)) return value.map((v) => maskValue(v, showVaulted));
  if (value !== null && typeof value === "object" && !(value instanceof Date)) return maskVars(value as Record<string, unknown>, showVaulted);
  return value;
}
