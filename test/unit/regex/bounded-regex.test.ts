/**
 * Regular expressions from playbooks are bounded in time on the controller (lineinfile, the
 * regex filters and tests): nested repetition runs in linear time, a pattern the linear engine
 * cannot run fails its task after the time limit with a clear message, and Ctrl-C interrupts
 * it and still reaches the runner's handler. Runaway cases run in a worker or a child process
 * with a time limit, so a regression fails by timeout instead of hanging the suite.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runBounded } from "../../support/bounded.ts";
import { backtracksLittle, REGEX_TIME_LIMIT_MS } from "../../../scripts/lib/bounded-regex.ts";

const cases = new URL("./cases.ts", import.meta.url);

function value<T>(r: Awaited<ReturnType<typeof runBounded>>, what: string): T {
  assert.ok(!("timedOut" in r), `${what}: still running at the time limit (unbounded)`);
  assert.ok(r.ok, `${what}: ${JSON.stringify(r)}`);
  return r.value as T;
}

test("lineinfile regexp '^(a+)+$' on 32 a's and a '!' finishes at once with Python's answer (no match: line added)", async () => {
  const r = value<{ changed: boolean; failed: boolean; msg: string; content: string; ms: number }>(await runBounded(20_000, cases, "lineinfile", "^(a+)+$"), "lineinfile");
  assert.equal(r.failed, false, r.msg);
  assert.equal(r.msg, "line added");
  assert.equal(r.content, `first\n${"a".repeat(32)}!\nreplaced\n`);
  assert.ok(r.ms < 3000, `took ${r.ms} ms`);
});

test("regex filters and tests with nested repetition finish at once with the right answers", async () => {
  const exprs = ["{{ s | regex_search('^(a+)+$') }}", "{{ s is match('(a|a)+$') }}", "{{ s is search('(a+)+b') }}", "{{ s | regex_replace('^(a+)+$', 'x') }}", "{{ s | regex_findall('(a+)+!') }}"];
  const r = value<Array<{ value?: unknown; error?: string; ms: number }>>(await runBounded(20_000, cases, "render", exprs), "filters");
  assert.deepEqual(r.map((x) => x.error ?? x.value), [null, false, false, `${"a".repeat(32)}!`, [`${"a".repeat(32)}`]]);
  for (const [i, x] of r.entries()) assert.ok(x.ms < 3000, `${exprs[i]} took ${x.ms} ms`);
});

test("a catastrophic pattern the linear engine cannot run fails after the time limit, naming the pattern", async () => {
  const limit = REGEX_TIME_LIMIT_MS + 15_000;
  const [inModule, inFilter] = await Promise.all([runBounded(limit, cases, "lineinfile", "(?i)^(a+)+$"), runBounded(limit, cases, "render", ["{{ s is search('(a+)+(?=b)') }}"])]);
  const r = value<{ failed: boolean; msg: string; content: string; ms: number }>(inModule, "lineinfile (?i)");
  assert.equal(r.failed, true);
  assert.equal(r.msg, `Regular expression /^(a+)+$/i took more than ${REGEX_TIME_LIMIT_MS / 1000} s on a text of 33 characters and was stopped`);
  assert.equal(r.content, `first\n${"a".repeat(32)}!\n`, "the file is left as it was");
  const filters = value<Array<{ error?: string }>>(inFilter, "search with lookahead");
  assert.match(filters[0].error ?? "", /^Regular expression \/\(a\+\)\+\(\?=b\)\/ took more than \d+ s on a text of 33 characters and was stopped/);
});

test("Ctrl-C interrupts a running pattern at once and still reaches the runner's SIGINT handler", async () => {
  const script = `
    import { render } from ${JSON.stringify(fileURLToPath(cases))};
    process.on("SIGINT", () => console.log("runner saw SIGINT"));
    console.log("ready");
    const [r] = render(["{{ s is search('(?i)^(a+)+$') }}"]);
    console.log("error: " + r.error + " after " + r.ms + " ms");
    setTimeout(() => process.exit(0), 200);
  `;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    if (out.includes("ready") && !child.killed) setTimeout(() => child.kill("SIGINT"), 300);
  });
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  clearTimeout(killer);
  assert.equal(code, 0, out);
  assert.match(out, /error: Interrupted while matching the regular expression \/\^\(a\+\)\+\$\/i after (\d+) ms/);
  assert.ok(Number(/after (\d+) ms/.exec(out)![1]) < REGEX_TIME_LIMIT_MS - 1000, `not interrupted at once: ${out}`);
  assert.match(out, /runner saw SIGINT/);
});

test("only patterns that cannot backtrack much skip the time limit (the linear engine cannot run them)", () => {
  const little = ["FOO", "^\\s*PermitRootLogin", "^[a-z]+$", "a{2,}b{3}", "[)]+x", "a*?b", "^(foo|bar)\\s", "a?b?c?", "a{1,3}b{2,5}"];
  const much = ["^(a+)+$", "\\s*x\\s*=", "(a|a)*", "(\\w)\\1", "(?<n>x)\\k<n>", "(ab){3}", "(?=.*x).*", "a?a?a?a?a?aaaaa", "(a|a)(a|a)(a|a)(a|a)(a|a)", "\\u0041+"];
  assert.deepEqual(little.filter((p) => !backtracksLittle(p)), []);
  assert.deepEqual(much.filter((p) => backtracksLittle(p)), []);
});
