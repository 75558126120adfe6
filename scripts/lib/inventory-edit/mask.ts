/**
 * Secrets in listings: the value of a variable whose name says it is one (a password, a token,
 * a key, the k3s datastore endpoint that embeds its password) prints as `***`, as do Secret
 * values (their toJSON) and any text the runner has registered as secret.
 */
import { maskSecrets, Secret } from "../shell/secret.ts";

const SECRET_NAME = /(^|_)pass(word|wd|phrase)?($|_)|token|secret|credential|api_?key|private_key(?!_file)|datastore_endpoint/i;

/** True for names such as ansible_become_password, k3s_token, vault_secret (not ansible_ssh_private_key_file). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** A copy of `vars` with secret values replaced by "***", recursively. */
export function maskVars(vars: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(vars)) out[k] = isSecretName(k) && v !== null && v !== undefined && v !== "" ? "***" : maskValue(v);
  return out;
}

function maskValue(value: unknown): unknown {
  if (value instanceof Secret) return "***";
  if (typeof value === "string") return maskSecrets(value);
  if (Array.isArray(value)) return value.map(maskValue);
  if (value !== null && typeof value === "object" && !(value instanceof Date)) return maskVars(value as Record<string, unknown>);
  return value;
}
