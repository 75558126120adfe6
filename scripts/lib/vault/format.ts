/**
 * Ansible Vault's format (1.1 and 1.2, cipher AES256): PBKDF2-HMAC-SHA256 (10000 rounds) of
 * the password and a random 32-byte salt gives 80 bytes = AES-256 key, HMAC-SHA256 key and the
 * 16-byte initial counter; the PKCS#7-padded plaintext is encrypted with AES-256-CTR and the
 * ciphertext signed with HMAC-SHA256. The payload `hex(salt)\nhex(hmac)\nhex(ciphertext)` is
 * hexlified again and written in 80-column lines under `$ANSIBLE_VAULT;1.1;AES256` (1.2 adds
 * `;<vault id>`, used when the id is not "default"). Only node:crypto, so Deno runs it too.
 */
import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";

export const VAULT_HEADER = "$ANSIBLE_VAULT";
const DEFAULT_ID = "default";

/** True when the text is vault data (starts with the header, as Ansible checks). */
export function isVaulted(text: string): boolean {
  return text.startsWith(VAULT_HEADER);
}

/** The envelope is not vault data we can read (bad header, cipher, hex): not a password problem. */
export class VaultFormatError extends Error {}

export interface Envelope {
  version: string;
  cipher: string;
  /** The label of a 1.2 envelope (only a hint for which password to try first). */
  vaultId?: string;
  /** The hex body, lines joined. */
  body: string;
}

export function parseEnvelope(text: string): Envelope {
  const lines = text.split(/\r?\n/);
  const header = lines[0].trim().split(";").map((p) => p.trim());
  if (header[0] !== VAULT_HEADER || header.length < 3) throw new VaultFormatError(`not a vault header: ${JSON.stringify(lines[0].slice(0, 40))}`);
  const [, version, cipher, vaultId] = header;
  if (version !== "1.1" && version !== "1.2") throw new VaultFormatError(`vault format ${version} is not supported (only 1.1 and 1.2)`);
  if (cipher !== "AES256") throw new VaultFormatError(`vault cipher ${cipher} is not supported (only AES256)`);
  return { version, cipher, vaultId: vaultId || undefined, body: lines.slice(1).map((l) => l.trim()).join("") };
}

function unhex(hex: string, what: string): Buffer {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new VaultFormatError(`the ${what} is not hexadecimal`);
  return Buffer.from(hex, "hex");
}

function deriveKeys(password: Uint8Array, salt: Uint8Array): { key: Buffer; hmacKey: Buffer; iv: Buffer } {
  const derived = pbkdf2Sync(password, salt, 10000, 80, "sha256");
  return { key: derived.subarray(0, 32), hmacKey: derived.subarray(32, 64), iv: derived.subarray(64, 80) };
}

/** Encrypts to a complete envelope (ending in a newline). A vault id other than "default" makes it 1.2. */
export function encryptVault(plaintext: Uint8Array, password: Uint8Array, vaultId?: string, salt: Uint8Array = randomBytes(32)): string {
  const { key, hmacKey, iv } = deriveKeys(password, salt);
  const pad = 16 - (plaintext.length % 16);
  const padded = Buffer.concat([plaintext, Buffer.alloc(pad, pad)]);
  const cipher = createCipheriv("aes-256-ctr", key, iv);
  const ciphertext = Buffer.concat([cipher.update(padded), cipher.final()]);
  const hmac = createHmac("sha256", hmacKey).update(ciphertext).digest();
  const payload = [Buffer.from(salt).toString("hex"), hmac.toString("hex"), ciphertext.toString("hex")].join("\n");
  const body = Buffer.from(payload, "ascii").toString("hex");
  const labelled = vaultId !== undefined && vaultId !== DEFAULT_ID;
  const header = labelled ? `${VAULT_HEADER};1.2;AES256;${vaultId}` : `${VAULT_HEADER};1.1;AES256`;
  const lines = [header];
  for (let i = 0; i < body.length; i += 80) lines.push(body.slice(i, i + 80));
  return lines.join("\n") + "\n";
}

/**
 * Decrypts an envelope with one password: the plaintext, or undefined when the password is
 * wrong (the HMAC does not match). A malformed envelope throws VaultFormatError.
 */
export function decryptEnvelope(envelope: Envelope, password: Uint8Array): Buffer | undefined {
  const payload = unhex(envelope.body, "vault body").toString("latin1").split("\n");
  if (payload.length !== 3) throw new VaultFormatError("the vault body does not hold salt, HMAC and ciphertext");
  const salt = unhex(payload[0], "salt");
  const expected = unhex(payload[1], "HMAC");
  const ciphertext = unhex(payload[2], "ciphertext");
  const { key, hmacKey, iv } = deriveKeys(password, salt);
  const actual = createHmac("sha256", hmacKey).update(ciphertext).digest();
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
  const decipher = createDecipheriv("aes-256-ctr", key, iv);
  const padded = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  const pad = padded.length > 0 ? padded[padded.length - 1] : 0;
  if (pad < 1 || pad > 16 || pad > padded.length || !padded.subarray(padded.length - pad).every((b) => b === pad)) {
    throw new VaultFormatError("the decrypted data has invalid padding");
  }
  return padded.subarray(0, padded.length - pad);
}
