import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostsToRetry, retryAdvice, withoutLimit, writeRetryFile } from "../../../scripts/lib/cli/retry.ts";
import { emptyStats } from "../../../scripts/lib/run/stats.ts";

test("hosts to retry: failed or unreachable, sorted; ok and skipped ones are not", () => {
  const stats = { "pi-3": { ...emptyStats(), unreachable: 1 }, "pi-1": { ...emptyStats(), failures: 2 }, "pi-2": { ...emptyStats(), ok: 4, skipped: 1 }, "pi-0": { ...emptyStats(), failures: 0, rescued: 1 } };
  assert.deepEqual(hostsToRetry(stats), ["pi-1", "pi-3"]);
});

test("withoutLimit drops every form of --limit and keeps the other flags as typed", () => {
  assert.deepEqual(withoutLimit(["site.yml", "-i", "hosts.yml", "--limit", "pi-*", "-C"]), ["site.yml", "-i", "hosts.yml", "-C"]);
  assert.deepEqual(withoutLimit(["site.yml", "--limit=a", "-l", "b", "-lc", "-t", "ntp"]), ["site.yml", "-t", "ntp"]);
  // In clusters: -bl VALUE, -blVALUE, and -bi with its value next (an `l` inside a value is a value).
  assert.deepEqual(withoutLimit(["-bl", "pi-1", "site.yml"]), ["-b", "site.yml"]);
  assert.deepEqual(withoutLimit(["-Cbl", "pi-1", "-bipi-l.yml", "-bi", "-l.yml"]), ["-Cb", "-bipi-l.yml", "-bi", "-l.yml"]);
  assert.deepEqual(withoutLimit(["--tags", "-l", "site.yml", "--", "-l"]), ["--tags", "-l", "site.yml", "--", "-l"]);
});

test("the advice: the flag, then the whole command quoted for the shell", () => {
  const text = retryAdvice(["site.yml", "-e", "msg=it's here", "-l", "all"], ["pi-1", "pi-3"], { cwd: "/work" });
  assert.match(text, /only the 2 hosts that did not complete \(pi-1, pi-3\), add --limit pi-1,pi-3:/);
  assert.ok(text.includes(`    npx zx run site.yml -e 'msg=it'\\''s here' --limit pi-1,pi-3\n`), text);
});

test("with a retry file: --limit @file, relative to where the user is", () => {
  const text = retryAdvice(["playbooks/site.yml"], ["pi-1"], { cwd: "/work", retryFile: "/work/playbooks/site.retry" });
  assert.match(text, /the 1 host that did not complete \(pi-1\), add --limit @playbooks\/site\.retry:\n {4}npx zx run playbooks\/site\.yml --limit @playbooks\/site\.retry\n/);
});

test("the retry file: <playbook>.retry, one host per line, beside the playbook or in the save path; no temp file left", () => {
  const dir = mkdtempSync(join(tmpdir(), "retry-"));
  try {
    const file = writeRetryFile(join(dir, "site.yml"), ["a", "b"]);
    assert.equal(file, join(dir, "site.retry"));
    assert.equal(readFileSync(file, "utf8"), "a\nb\n");
    const saved = writeRetryFile(join(dir, "site.yml"), ["c"], join(dir, "retries"));
    assert.equal(readFileSync(saved, "utf8"), "c\n");
    assert.deepEqual(readdirSync(dir).sort(), ["retries", "site.retry"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
