/** PostgreSQL password verifiers computed on the controller (support/scram.ts). */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { scramVerifier, verifierMatches } from "../../../scripts/lib/modules/support/scram.ts";

// Made by PostgreSQL 15 (initdb --auth=scram-sha-256) for the password "secret-pw".
const FROM_POSTGRES = "SCRAM-SHA-256$4096:kRc95IrusjEfJGKPi61XgQ==$66BbwR50K+Ad1qhA9jazsPtbLeay0o5m1k7EveS8t9w=:PyYm67/GLxyW0re6fdt25HlN+FiojgywZr9klzHG64g=";

describe("SCRAM-SHA-256 verifiers", () => {
  test("a verifier PostgreSQL made matches its password and no other", () => {
    assert.equal(verifierMatches(FROM_POSTGRES, "secret-pw", "postgres"), true);
    assert.equal(verifierMatches(FROM_POSTGRES, "secret-pX", "postgres"), false);
    assert.equal(verifierMatches("", "secret-pw", "postgres"), false);
  });

  test("the same salt gives PostgreSQL's own verifier; a fresh one is salted anew", () => {
    const salt = Buffer.from("kRc95IrusjEfJGKPi61XgQ==", "base64");
    assert.equal(scramVerifier("secret-pw", salt), FROM_POSTGRES);
    const a = scramVerifier("secret-pw");
    assert.notEqual(a, scramVerifier("secret-pw"));
    assert.equal(verifierMatches(a, "secret-pw", "k3s"), true);
    assert.ok(!a.includes("secret-pw"));
  });

  test("md5 hashes (md5 of password + role) are recognised", () => {
    assert.equal(verifierMatches("md562242345d039379b4b35665564340ff4", "secret-pw", "k3s"), true);
    assert.equal(verifierMatches("md562242345d039379b4b35665564340ff4", "secret-pw", "other"), false);
  });
});
