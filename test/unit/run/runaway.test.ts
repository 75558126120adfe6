/**
 * Runaway runs end clearly: an include that includes itself fails the host naming the chain of
 * include sites; a long loop completes (no recursion or argument spread over its items). Run in
 * a worker with a time limit, so a regression fails by timeout instead of hanging.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runBounded } from "../../support/bounded.ts";

const cases = new URL("./runaway-cases.ts", import.meta.url);

test("include_tasks that includes itself fails the host with the chain of include sites", async () => {
  const r = await runBounded(30_000, cases, "selfInclude");
  assert.ok(!("timedOut" in r), "still including at the time limit");
  assert.ok(r.ok, JSON.stringify(r));
  const v = r.value as { failed: number; ok: number; msg: string };
  assert.equal(v.failed, 1);
  assert.equal(v.ok, 128); // 64 levels of (debug, include)
  assert.match(v.msg, /^self\.yml:2: Includes nested more than 64 deep \(including self\.yml\): play\.yml:4 → self\.yml:2 → self\.yml:2 → … 59 more … → self\.yml:2 → self\.yml:2 → self\.yml:2 \(host h1, task 'inc'\)/);
});

test("a loop over 150,000 items completes (no call-stack overflow)", async () => {
  const r = await runBounded(120_000, cases, "longLoop", 150_000);
  assert.ok(!("timedOut" in r), "loop still running at the time limit");
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.value, { status: "ok", items: 150_000, last: 149_999 });
});
