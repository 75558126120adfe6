import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadVaultSecrets, splitVaultId } from "../../../scripts/lib/vault/sources.ts";
import { UserError } from "../../../scripts/lib/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "vault-src-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const text = (b: Uint8Array) => Buffer.from(b).toString();

test("--vault-id splits at the first @; a bare source has no label", () => {
  assert.deepEqual(splitVaultId("prod@prompt"), { label: "prod", source: "prompt" });
  assert.deepEqual(splitVaultId("pw.txt"), { source: "pw.txt" });
  assert.deepEqual(splitVaultId("a@b@c"), { label: "a", source: "b@c" });
});

test("a password file is stripped of surrounding whitespace; order: --vault-id, then files, ids as given", async () => {
  writeFileSync(join(dir, "pw"), "  s3cret \n\n");
  writeFileSync(join(dir, "other"), "two\r\n");
  const s = await loadVaultSecrets({ vaultIds: ["prod@other"], passwordFiles: ["pw"], cwd: dir });
  assert.deepEqual(s.map((x) => [x.id, text(x.password)]), [["prod", "two"], ["default", "s3cret"]]);
});

test("an executable prints the password; a *-client script is asked for its vault id", async () => {
  const script = join(dir, "get-pass.sh");
  writeFileSync(script, "#!/bin/sh\nprintf 'from-script\\n'\n");
  chmodSync(script, 0o700);
  const client = join(dir, "vault-client.sh");
  writeFileSync(client, '#!/bin/sh\n[ "$1" = --vault-id ] && printf "pw-for-%s" "$2"\n');
  chmodSync(client, 0o700);
  const s = await loadVaultSecrets({ vaultIds: [`lab@${client}`], passwordFiles: [script], cwd: dir });
  assert.deepEqual(s.map((x) => [x.id, text(x.password)]), [["lab", "pw-for-lab"], ["default", "from-script"]]);
});

test("a failing script, a missing file and an empty password are clear option errors", async () => {
  const bad = join(dir, "fails.sh");
  writeFileSync(bad, "#!/bin/sh\nexit 3\n");
  chmodSync(bad, 0o700);
  writeFileSync(join(dir, "empty"), "\n");
  const cases: [Parameters<typeof loadVaultSecrets>[0], RegExp][] = [
    [{ passwordFiles: [bad] }, /returned non-zero \(3\)/],
    [{ passwordFiles: ["nope.txt"] }, /"nope.txt" was not found/],
    [{ passwordFiles: ["empty"] }, /it is empty/],
  ];
  for (const [opts, re] of cases) {
    await assert.rejects(loadVaultSecrets({ ...opts, cwd: dir }), (e: unknown) => e instanceof UserError && re.test(e.message) && e.exitCode === 5);
  }
});

test("prompts: --ask-vault-pass uses Ansible's prompt; new passwords are asked twice and must match", async () => {
  const asked: string[] = [];
  const answers = ["abc", "abc"];
  const s = await loadVaultSecrets({ askVaultPass: true, prompt: async (t) => (asked.push(t), answers.shift()!) });
  assert.deepEqual(asked, ["Vault password: "]);
  assert.equal(text(s[0].password), "abc");
  const seen: string[] = [];
  const replies = ["one", "two"];
  await assert.rejects(loadVaultSecrets({ vaultIds: ["prod@prompt"], newPassword: true, prompt: async (t) => (seen.push(t), replies.shift()!) }), /do not match/);
  assert.deepEqual(seen, ["New vault password (prod): ", "Confirm new vault password (prod): "]);
  // Nothing given: only commands that auto-prompt (ansible-vault) ask.
  assert.deepEqual(await loadVaultSecrets({}), []);
});
