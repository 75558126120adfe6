/**
 * The vault passwords of this process (from --vault-id, --vault-password-file,
 * --ask-vault-pass, ansible.cfg) and decryption with them, as Ansible tries them: the password
 * whose id matches a 1.2 envelope's label first, then every other one in order. The YAML loader
 * calls `decryptVaultText` for vault files (decrypted when loaded) and makes `!vault` values
 * `VaultedValue`s: Secrets (shell/secret.ts) decrypted on first use, as Ansible does, so a
 * value no task uses needs no password, and whatever is rendered from one stays a Secret.
 */
import { ExitCode, UserError, type SourcePosition } from "../errors.ts";
import { registerSecret, Secret } from "../shell/secret.ts";
import { decryptEnvelope, parseEnvelope, VaultFormatError } from "./format.ts";

export interface VaultSecret {
  /** The vault id ("default" unless labelled). */
  id: string;
  password: Uint8Array;
  /** Where it came from, for messages ("prompt", a file name). Never the password. */
  source: string;
}

let secrets: VaultSecret[] = [];

/** Replaces the passwords used by the loaders (the CLI calls this once, before loading). */
export function setVaultSecrets(list: VaultSecret[]): void {
  secrets = [...list];
}

export function vaultSecrets(): readonly VaultSecret[] {
  return secrets;
}

const NO_SECRET_HINT = "Pass --ask-vault-pass, --vault-password-file FILE or --vault-id LABEL@SOURCE (or set vault_password_file in ansible.cfg).";

/** The secrets in the order Ansible tries them for an envelope labelled `vaultId`. */
function candidates(list: readonly VaultSecret[], vaultId: string | undefined): VaultSecret[] {
  if (!vaultId) return [...list];
  return [...list.filter((s) => s.id === vaultId), ...list.filter((s) => s.id !== vaultId)];
}

/**
 * Decrypts vault text with the given secrets (default: the process's); returns the plaintext
 * bytes and the id that opened it. A wrong password, no password or a damaged envelope is a
 * UserError naming `where`.
 */
export function decryptWith(text: string, where: SourcePosition, list: readonly VaultSecret[] = secrets): { plaintext: Buffer; id: string } {
  let envelope;
  try {
    envelope = parseEnvelope(text);
    if (list.length === 0) {
      throw new UserError("Attempting to decrypt vault data but no vault password was given", { where, hint: NO_SECRET_HINT, exitCode: ExitCode.error });
    }
    for (const secret of candidates(list, envelope.vaultId)) {
      const plaintext = decryptEnvelope(envelope, secret.password);
      if (plaintext) return { plaintext, id: secret.id };
    }
  } catch (e) {
    if (e instanceof VaultFormatError) {
      throw new UserError(`Vault format error: ${e.message}`, { where, hint: "The vault data is damaged or was not written by ansible-vault; re-create it with ansible-vault or scripts/vault.ts.", exitCode: ExitCode.error });
    }
    throw e;
  }
  const tried = list.map((s) => `${s.id} (${s.source})`).join(", ");
  throw new UserError(`Decryption failed: the vault password${list.length > 1 ? "s" : ""} given cannot decrypt this vault data${envelope.vaultId ? ` (vault id "${envelope.vaultId}")` : ""}`, {
    where,
    hint: `Tried ${tried}. Check the password, or pass the one it was encrypted with (--vault-id LABEL@SOURCE).`,
    exitCode: ExitCode.error,
  });
}

/** Decrypts vault text for the loaders; the plaintext (UTF-8) is registered as a secret. */
export function decryptVaultText(text: string, where: SourcePosition): string {
  const plaintext = decryptWith(text, where).plaintext.toString("utf8");
  registerSecret(plaintext);
  return plaintext;
}

/**
 * Marks the values of a vault-encrypted variables file as secrets: every string under a
 * top-level mapping (not the keys). A vaulted playbook or task list (a list at the top) is
 * code, not values, and is left alone.
 */
export function registerVaultedValues(data: unknown): void {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return;
  const walk = (v: unknown): void => {
    if (typeof v === "string") registerSecret(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === "object") Object.values(v).forEach(walk);
  };
  Object.values(data).forEach(walk);
}

/**
 * An inline `!vault |` value: a Secret whose text is decrypted on first `reveal()` (a template
 * using it, a module writing it). A wrong or missing password fails there, naming the value's
 * file:line:col. Prints as `***` like every Secret.
 */
export class VaultedValue extends Secret {
  readonly #vaultText: string;
  readonly #where: SourcePosition;
  #plaintext?: string;
  constructor(vaultText: string, where: SourcePosition) {
    super("");
    this.#vaultText = vaultText;
    this.#where = where;
  }
  /** The envelope as written (what ansible-inventory --list shows as `__ansible_vault`). */
  get vaultText(): string {
    return this.#vaultText;
  }
  override reveal(): string {
    if (this.#plaintext === undefined) {
      this.#plaintext = decryptVaultText(this.#vaultText, this.#where);
    }
    return this.#plaintext;
  }
}
