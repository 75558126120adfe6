import { test } from "node:test";
import assert from "node:assert/strict";
import { parseVaultArgs } from "../../../scripts/lib/vault/cli-args.ts";

test("ansible-vault's command lines parse", () => {
  const o = parseVaultArgs(["encrypt_string", "--vault-id", "prod@pw", "-n", "a", "x", "--name=b", "y", "--encrypt-vault-id", "prod"]);
  assert.equal(o.action, "encrypt_string");
  assert.deepEqual(o.vaultIds, ["prod@pw"]);
  assert.deepEqual(o.names, ["a", "b"]);
  assert.deepEqual(o.args, ["x", "y"]);
  assert.equal(o.encryptVaultId, "prod");
  const r = parseVaultArgs(["--vault-password-file", "old", "rekey", "--new-vault-id", "lab@new", "f.yml"]);
  assert.deepEqual([r.action, r.vaultPasswordFiles, r.newVaultId, r.args], ["rekey", ["old"], "lab@new", ["f.yml"]]);
  assert.equal(parseVaultArgs(["view", "--ask-vault-password", "f"]).askVaultPass, true);
  assert.equal(parseVaultArgs(["decrypt", "-J"]).askVaultPass, true);
});

test("mistakes are usage errors (exit 5) that say what is wrong", () => {
  const cases: [string[], RegExp][] = [
    [[], /no action given/],
    [["encrpyt", "f"], /unknown action "encrpyt"; did you mean encrypt\?/],
    [["view"], /"view" needs at least one file name/],
    [["edit", "a", "b"], /exactly one file name/],
    [["--name", "x", "encrypt", "f"], /--name is not an option of "encrypt"/],
    [["view", "--output", "o", "f"], /--output is not an option of "view"/],
    [["encrypt", "--vault-idd", "x"], /unknown option --vault-idd; did you mean --vault-id\?/],
    [["decrypt", "--output", "o", "a", "b"], /--output can only be used with one input file/],
  ];
  for (const [argv, re] of cases) assert.throws(() => parseVaultArgs(argv), (e: Error & { exitCode?: number }) => re.test(e.message) && e.exitCode === 5, argv.join(" "));
});
