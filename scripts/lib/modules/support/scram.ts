/**
 * PostgreSQL password verifiers, computed on the controller: a role's password is sent to the
 * server as a SCRAM-SHA-256 verifier (PostgreSQL stores a pre-hashed value as given), so the
 * clear password never leaves the controller; and a stored verifier is checked against the
 * wished password without changing it (what makes a re-run report ok). RFC 5802 / 7677.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";

const ITERATIONS = 4096; // PostgreSQL's scram_iterations default

function keys(password: string, salt: Buffer, iterations: number): { storedKey: Buffer; serverKey: Buffer } {
  // PostgreSQL applies SASLprep; for ASCII passwords (what we generate and document) it is the identity.
  const salted = pbkdf2Sync(password.normalize("NFKC"), salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  return { storedKey: createHash("sha256").update(clientKey).digest(), serverKey: createHmac("sha256", salted).update("Server Key").digest() };
}

/** `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` for a password (random salt). */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = ITERATIONS): string {
  const k = keys(password, salt, iterations);
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${k.storedKey.toString("base64")}:${k.serverKey.toString("base64")}`;
}

/** Whether a stored rolpassword (SCRAM or md5) is this password for this role. */
export function verifierMatches(stored: string, password: string, role: string): boolean {
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(stored);
  if (m) {
    const k = keys(password, Buffer.from(m[2], "base64"), Number(m[1]));
    const want = Buffer.from(m[3], "base64");
    const wantServer = Buffer.from(m[4], "base64");
    return want.length === k.storedKey.length && timingSafeEqual(want, k.storedKey) && wantServer.length === k.serverKey.length && timingSafeEqual(wantServer, k.serverKey);
  }
  if (/^md5[0-9a-f]{32}$/.test(stored)) return stored === `md5${createHash("md5").update(password + role).digest("hex")}`;
  return false;
}

/** Whether a stored password is an md5 hash (upgraded to SCRAM when the password is set). */
export function isMd5(stored: string): boolean {
  return stored.startsWith("md5");
}
