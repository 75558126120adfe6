import { test } from "node:test";
import assert from "node:assert/strict";
import { decryptEnvelope, encryptVault, isVaulted, parseEnvelope, VaultFormatError } from "../../../scripts/lib/vault/format.ts";
import { FILE_1_1, FILE_1_1_PLAINTEXT, FILE_1_2_PROD, FILE_1_2_PLAINTEXT, PASSWORD } from "./fixtures.ts";

const pw = Buffer.from(PASSWORD);

test("opens files ansible-vault wrote, 1.1 and 1.2 with its vault id", () => {
  const e11 = parseEnvelope(FILE_1_1);
  assert.equal(e11.version, "1.1");
  assert.equal(e11.vaultId, undefined);
  assert.equal(decryptEnvelope(e11, pw)?.toString(), FILE_1_1_PLAINTEXT);
  const e12 = parseEnvelope(FILE_1_2_PROD);
  assert.equal(e12.version, "1.2");
  assert.equal(e12.vaultId, "prod");
  assert.equal(decryptEnvelope(e12, pw)?.toString(), FILE_1_2_PLAINTEXT);
});

test("a wrong password is no plaintext (the HMAC does not match), not garbage", () => {
  assert.equal(decryptEnvelope(parseEnvelope(FILE_1_1), Buffer.from("correct horsE")), undefined);
});

test("a changed byte of ciphertext is refused by the HMAC", () => {
  const lines = FILE_1_1.split("\n");
  // The last hex digit pair belongs to the ciphertext: flip it.
  const last = lines[lines.length - 2];
  lines[lines.length - 2] = last.slice(0, -1) + (last.endsWith("0") ? "1" : "0");
  assert.equal(decryptEnvelope(parseEnvelope(lines.join("\n")), pw), undefined);
});

test("round trip: 1.1 without a label (or with 'default'), 1.2 with one; 80-column lines; empty and exact-block plaintexts", () => {
  for (const plaintext of ["", "x", "0123456789abcdef", "ünïcode: ✓\n".repeat(20)]) {
    for (const id of [undefined, "default", "lab"]) {
      const text = encryptVault(Buffer.from(plaintext), pw, id);
      assert.ok(isVaulted(text));
      const [header, ...body] = text.trimEnd().split("\n");
      assert.equal(header, id === "lab" ? "$ANSIBLE_VAULT;1.2;AES256;lab" : "$ANSIBLE_VAULT;1.1;AES256");
      assert.ok(body.every((l) => l.length <= 80 && /^[0-9a-f]+$/.test(l)));
      assert.equal(decryptEnvelope(parseEnvelope(text), pw)?.toString(), plaintext);
    }
  }
});

test("the same plaintext encrypts differently each time (random salt)", () => {
  assert.notEqual(encryptVault(Buffer.from("a"), pw), encryptVault(Buffer.from("a"), pw));
});

test("unsupported versions, ciphers and damaged hex are format errors", () => {
  assert.throws(() => parseEnvelope("$ANSIBLE_VAULT;1.0;AES\n00"), VaultFormatError);
  assert.throws(() => parseEnvelope("$ANSIBLE_VAULT;1.1;AES128\n00"), /cipher AES128/);
  assert.throws(() => decryptEnvelope(parseEnvelope("$ANSIBLE_VAULT;1.1;AES256\nzz"), pw), /not hexadecimal/);
  assert.throws(() => decryptEnvelope(parseEnvelope("$ANSIBLE_VAULT;1.1;AES256\n6162"), pw), /salt, HMAC and ciphertext/);
});
