/**
 * The two derived secrets: the SHA-512 crypt password hash (checked against OpenSSL's
 * `openssl passwd -6 -salt`, the password on stdin) and the Wi-Fi key (IEEE 802.11i's test
 * vectors, which wpa_passphrase reproduces).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { findHash, passwordHash, randomSalt, verifyHash } from "../../../scripts/lib/firstboot/password.ts";
import { pskProblem, wifiPsk } from "../../../scripts/lib/firstboot/wifi-psk.ts";
import { sha512Crypt } from "../../../scripts/lib/template/sha512-crypt.ts";

const openssl = spawnSync("openssl", ["version"]).status === 0;

test("the hash is what openssl passwd -6 gives for the same salt", { skip: !openssl && "openssl is not installed" }, () => {
  for (const [password, salt] of [["hunter22", "Be8hyALjHZSoe9Gj"], ["pässwörd with spaces", "abc"], ["x", "./0123456789ABCD"]]) {
    const r = spawnSync("openssl", ["passwd", "-6", "-salt", salt, "-stdin"], { input: `${password}\n`, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(sha512Crypt(password, salt), r.stdout.trim());
  }
});

test("a random salt is 16 characters of the crypt alphabet, and differs each time", () => {
  const a = randomSalt();
  assert.match(a, /^[./0-9A-Za-z]{16}$/);
  assert.notEqual(a, randomSalt());
});

test("a hash on the card is kept when the password still matches it, replaced when not", () => {
  const existing = sha512Crypt("hunter22", "Be8hyALjHZSoe9Gj");
  assert.equal(verifyHash("hunter22", existing), true);
  assert.equal(verifyHash("hunter23", existing), false);
  assert.equal(passwordHash("hunter22", [undefined, existing]), existing);
  const fresh = passwordHash("other-password", [existing]);
  assert.notEqual(fresh, existing);
  assert.equal(verifyHash("other-password", fresh), true);
  assert.equal(verifyHash("x", "not a hash"), false);
});

test("findHash picks the hash out of a firstrun.sh or user-data", () => {
  const hash = sha512Crypt("hunter22", "saltsalt");
  assert.equal(findHash(`"$USERCONF" pi '${hash}'\n`), hash);
  assert.equal(findHash(`    passwd: ${hash}\n`), hash);
  assert.equal(findHash("no hash here"), undefined);
  assert.equal(findHash(undefined), undefined);
});

test("the Wi-Fi key is PBKDF2-SHA1(passphrase, SSID, 4096, 32): IEEE 802.11i vectors", () => {
  assert.equal(wifiPsk("IEEE", "password"), "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e");
  assert.equal(wifiPsk("ThisIsASSID", "ThisIsAPassword"), "0dc0d6eb90555ed6419756b9a15ec3e3209b63df707dd508d14581f8982721af");
  const hex = "0DC0D6EB90555ED6419756B9A15EC3E3209B63DF707DD508D14581F8982721AF";
  assert.equal(wifiPsk("any", hex), hex.toLowerCase(), "a 64-digit key is used as it is");
});

test("passphrases wpa_passphrase would refuse are refused", () => {
  assert.equal(pskProblem("password"), undefined);
  assert.match(pskProblem("short") ?? "", /8 to 63/);
  assert.match(pskProblem("x".repeat(64)) ?? "", /8 to 63/);
  assert.match(pskProblem("pässword") ?? "", /printable ASCII/);
  assert.equal(pskProblem("a".repeat(64).replace(/a/g, "f")), undefined);
});
