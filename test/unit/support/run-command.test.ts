/**
 * test/support/run-command.ts, the one way the lab suites run a command: exit code, output
 * apart and interleaved, and the bound on time (the command is interrupted, not waited for).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { runCommand } from "../../support/run-command.ts";

test("the exit code, stdout and stderr apart, both in the order they came, NO_COLOR and the env given", async () => {
  const script = `process.stdout.write("one "); setTimeout(() => { process.stderr.write("two "); setTimeout(() => { process.stdout.write(process.env.NO_COLOR + process.env.EXTRA); process.exit(3); }, 50); }, 50);`;
  const r = await runCommand(process.execPath, ["-e", script], { cwd: tmpdir(), env: { EXTRA: "x" }, timeoutMs: 30_000 });
  assert.equal(r.code, 3);
  assert.equal(r.stdout, "one 1x");
  assert.equal(r.stderr, "two ");
  assert.equal(r.output, "one two 1x");
  assert.ok(r.seconds >= 0.1 && r.seconds < 30, String(r.seconds));
});

test("past its time the command gets the signal and its result comes back", async () => {
  const script = `process.on("SIGINT", () => { process.stdout.write("interrupted"); process.exit(99); }); process.stdout.write("ready "); setInterval(() => {}, 1000);`;
  const r = await runCommand(process.execPath, ["-e", script], { cwd: tmpdir(), timeoutMs: 5_000 });
  assert.equal(r.code, 99);
  assert.equal(r.stdout, "ready interrupted");
  const killed = await runCommand(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { cwd: tmpdir(), timeoutMs: 500, killSignal: "SIGTERM" });
  assert.equal(killed.code, null, "ended by the signal");
});
