import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  SUDO_PROMPT_MARKER,
  SUDO_READY_MARKER,
  SudoPrompter,
  explainSudoFailure,
  withEnv,
  withRemoteTimeout,
  wrapBecome,
} from "../../../scripts/lib/transport/command.ts";
import { Semaphore } from "../../../scripts/lib/transport/semaphore.ts";

const nasty = `printf '%s|' "it's" '$HOME' "a\nb" '\`x\`' "\\\\"; echo "$V"`;

function sh(command: string): string {
  const r = spawnSync("sh", ["-c", command], { encoding: "utf8", env: { PATH: process.env.PATH, HOME: "/home/h" } });
  return r.stdout;
}

describe("command building", () => {
  test("env values survive sh exactly (quotes, $, newlines)", () => {
    assert.equal(sh(withEnv(`printf %s "$V"`, { V: `it's $HOME\n\`x\` "q"` })), `it's $HOME\n\`x\` "q"`);
    assert.throws(() => withEnv("true", { "BAD-NAME": "x" }), /invalid environment variable name/);
    assert.equal(withEnv("true", {}), "true");
  });

  test("become wraps once: sudo -n -u USER -- sh -c 'CMD'", () => {
    const plan = wrapBecome(nasty, { user: "pi" }, "admin");
    assert.ok(plan.command.startsWith("sudo -n -u pi -- sh -c '"));
    assert.equal(plan.password, undefined);
    assert.equal((plan.command.match(/sudo/g) ?? []).length, 1);
  });

  test("the wrapped command runs exactly as the original (quotes, $, newlines)", () => {
    const expected = sh(`V=v; ${nasty}`);
    assert.equal(expected, `it's|$HOME|a\nb|\`x\`|\\|v\n`);
    const plan = wrapBecome(withEnv(nasty, { V: "v" }), { user: "pi" }, "admin");
    // Replace sudo by a pass-through to run the exact argument vector sudo would get.
    const viaShim = sh(plan.command.replace(/^sudo -n -u pi -- /, ""));
    assert.equal(viaShim, expected);
  });

  test("password: sudo -S with our prompt, ready marker, and never the password on the line", () => {
    const plan = wrapBecome("id", { user: "root", password: "s3cr'et" }, "pi");
    assert.equal(plan.password, "s3cr'et");
    assert.doesNotMatch(plan.command, /s3cr/);
    assert.match(plan.command, /^sudo -S -p '\[sudo-prompt:7f3a\]' -u root -- sh -c /);
    assert.ok(plan.command.includes(SUDO_READY_MARKER));
  });

  test("no sudo when already the become user (root to root)", () => {
    assert.deepEqual(wrapBecome("id", { user: "root" }, "root"), { command: "id" });
    assert.deepEqual(wrapBecome("id", {}, "root"), { command: "id" });
    assert.deepEqual(wrapBecome("id", undefined, "pi"), { command: "id" });
  });

  test("sudo failures are explained", () => {
    assert.match(explainSudoFailure("sudo: a password is required\n", "root")!, /needs a password.*-K/);
    assert.match(explainSudoFailure("sudo: a terminal is required to read the password", "root")!, /needs a password/);
    assert.match(explainSudoFailure("sudo: incorrect password\n", "root")!, /incorrect become password/);
    assert.equal(explainSudoFailure("ls: cannot access", "root"), undefined);
  });

  test("remote timeout wrapper keeps the command intact and kills it", () => {
    assert.equal(withRemoteTimeout("true", undefined), "true");
    const wrapped = withRemoteTimeout(nasty, 5000);
    assert.match(wrapped, /timeout -s KILL 5 sh -c/);
    assert.equal(sh(`V=v; export V; ${wrapped}`), `it's|$HOME|a\nb|\`x\`|\\|v\n`);
    const started = Date.now();
    spawnSync("sh", ["-c", withRemoteTimeout("sleep 3", 200)]);
    assert.ok(Date.now() - started < 2000);
  });
});

describe("SudoPrompter", () => {
  test("sends the password on the prompt, stdin after ready, strips markers", () => {
    const writes: string[] = [];
    let stdinSent = 0;
    const p = new SudoPrompter("pw", (t) => writes.push(t), () => stdinSent++);
    let kept = p.feed(Buffer.from("warn\n[sudo-pro"));
    kept += p.feed(Buffer.from("mpt:7f3a]"));
    assert.deepEqual(writes, ["pw\n"]);
    assert.equal(stdinSent, 0);
    kept += p.feed(Buffer.from(`${SUDO_READY_MARKER}real stderr`));
    assert.equal(stdinSent, 1);
    assert.equal(p.pending, false);
    assert.equal(kept + p.flush(), "warn\nreal stderr");
  });

  test("NOPASSWD / cached: ready without prompt, nothing written", () => {
    const writes: string[] = [];
    let stdinSent = 0;
    const p = new SudoPrompter("pw", (t) => writes.push(t), () => stdinSent++);
    assert.equal(p.feed(Buffer.from(SUDO_READY_MARKER)), "");
    assert.deepEqual(writes, []);
    assert.equal(stdinSent, 1);
  });

  test("second prompt = wrong password: failed", () => {
    const p = new SudoPrompter("pw", () => {}, () => {});
    p.feed(Buffer.from(SUDO_PROMPT_MARKER + "Sorry, try again.\n" + SUDO_PROMPT_MARKER));
    assert.equal(p.failed, true);
  });
});

describe("Semaphore", () => {
  test("never more than the limit at once, all served", async () => {
    const sem = new Semaphore(3);
    let active = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        await sem.acquire();
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 2));
        active--;
        sem.release();
      }),
    );
    assert.equal(peak, 3);
    assert.equal(active, 0);
  });
});
