/**
 * The first user's password as a SHA-512 crypt hash (`$6$salt$...`, what /etc/shadow,
 * userconf and cloud-init's `passwd:` take), made on the controller: the card never holds
 * the password. A new random salt would change the files on every run, so a hash already on
 * the card is kept when the password still matches it.
 */
import { randomBytes } from "node:crypto";
import { sha512Crypt } from "../template/sha512-crypt.ts";

const SALT_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const HASH = /\$6\$(?:rounds=\d+\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}/;

export function randomSalt(): string {
  return [...randomBytes(16)].map((b) => SALT_ALPHABET[b & 63]).join("");
}

/** The first SHA-512 crypt hash in a file's text, if any. */
export function findHash(text: string | undefined): string | undefined {
  return text === undefined ? undefined : HASH.exec(text)?.[0];
}

/** True when `hash` is the SHA-512 crypt of `password` (with the hash's own salt and rounds). */
export function verifyHash(password: string, hash: string): boolean {
  const m = /^\$6\$(?:rounds=(\d+)\$)?([^$]{1,16})\$/.exec(hash);
  if (!m) return false;
  return sha512Crypt(password, m[2], m[1] === undefined ? undefined : Number(m[1])) === hash;
}

/** The hash to write: the existing one when it still matches the password, else a fresh one. */
export function passwordHash(password: string, existing: Array<string | undefined>): string {
  for (const hash of existing) if (hash && verifyHash(password, hash)) return hash;
  return sha512Crypt(password, randomSalt());
}
