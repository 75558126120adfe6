/**
 * SHA-512 crypt (`$6$salt$...`, Ulrich Drepper's specification), what Ansible's
 * password_hash('sha512') gives and /etc/shadow takes. Done in TypeScript: templates never spawn.
 */
import { createHash } from "node:crypto";

const ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ORDER = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48],
  [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13],
  [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
];

const sha512 = (...parts: Buffer[]) => {
  const h = createHash("sha512");
  for (const p of parts) h.update(p);
  return h.digest();
};

function repeatTo(block: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = block[i % block.length];
  return out;
}

/** `$6$[rounds=N$]salt$hash` for `password`; salt is cut to 16 characters, rounds clamped as the spec. */
export function sha512Crypt(password: string, salt: string, rounds?: number): string {
  const P = Buffer.from(password, "utf8");
  const S = Buffer.from(salt.slice(0, 16), "utf8");
  const customRounds = rounds !== undefined;
  const n = Math.min(999_999_999, Math.max(1000, rounds ?? 5000));

  const B = sha512(P, S, P);
  const a = createHash("sha512");
  a.update(P);
  a.update(S);
  let i = P.length;
  for (; i > 64; i -= 64) a.update(B);
  a.update(B.subarray(0, i));
  for (i = P.length; i > 0; i >>= 1) a.update(i & 1 ? B : P);
  const A = a.digest();

  const dp = createHash("sha512");
  for (let k = 0; k < P.length; k++) dp.update(P);
  const Pseq = repeatTo(dp.digest(), P.length);
  const ds = createHash("sha512");
  for (let k = 0; k < 16 + A[0]; k++) ds.update(S);
  const Sseq = repeatTo(ds.digest(), S.length);

  let C = A;
  for (let r = 0; r < n; r++) {
    const h = createHash("sha512");
    h.update(r & 1 ? Pseq : C);
    if (r % 3) h.update(Sseq);
    if (r % 7) h.update(Pseq);
    h.update(r & 1 ? C : Pseq);
    C = h.digest();
  }

  let encoded = "";
  const b64 = (b2: number, b1: number, b0: number, count: number) => {
    let w = (b2 << 16) | (b1 << 8) | b0;
    for (let k = 0; k < count; k++) {
      encoded += ALPHABET[w & 0x3f];
      w >>= 6;
    }
  };
  for (const [x, y, z] of ORDER) b64(C[x], C[y], C[z], 4);
  b64(0, 0, C[63], 2);
  return `$6$${customRounds ? `rounds=${n}$` : ""}${S.toString("utf8")}$${encoded}`;
}
