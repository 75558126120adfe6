/**
 * Every writer masks secrets in the values it shows, before it serialises them: a password
 * with a quote and a backslash is still found after JSON would have escaped it, short
 * passwords are masked too, and the result data itself is never changed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatResult, resultLine } from "../../../scripts/lib/report/plain.ts";
import { JsonReport } from "../../../scripts/lib/report/json.ts";
import { LiveReport } from "../../../scripts/lib/report/live.ts";
import { formatDiffs } from "../../../scripts/lib/report/diff.ts";
import { Secret, maskSecrets, maskValue, registerDerivedSecret, registerSecret } from "../../../scripts/lib/shell/secret.ts";
import type { TaskResult } from "../../../scripts/lib/run/events.ts";
import { cwd, play, task } from "./sample.ts";

const PASSWORD = 'Hunter2"Pass\\word';
registerSecret(PASSWORD);

/** The password in every form a writer could print it: as is and JSON-escaped (once or twice). */
function leaks(text: string, secret = PASSWORD): string[] {
  const forms = [secret, JSON.stringify(secret).slice(1, -1), JSON.stringify(JSON.stringify(secret)).slice(1, -1), "Hunter2"];
  return forms.filter((f) => text.includes(f));
}

const options = { write: () => undefined, verbosity: 2, diff: true, color: false, cwd };

test("-v data: a secret that JSON escapes is masked (the value is masked before it is serialised)", () => {
  const result: TaskResult = { status: "ok", msg: "done", durationMs: 1, data: { stdout: `pw=${PASSWORD}`, nested: { list: [PASSWORD] } } };
  const out = formatResult("pi-1", task, result, options);
  assert.deepEqual(leaks(out), [], out);
  assert.match(out, /"stdout": "pw=\*\*\*"/);
  // Showing never changes the data (a later task may read it).
  assert.equal(result.data!.stdout, `pw=${PASSWORD}`);
});

test("--json report: secrets masked in data, messages, items and diffs", () => {
  const report = new JsonReport();
  report.handle({ type: "play-start", play, hosts: ["pi-1"] });
  report.handle({ type: "task-start", play, task, hosts: ["pi-1"], isHandler: false });
  const result: TaskResult = {
    status: "changed",
    msg: `wrote ${PASSWORD}`,
    durationMs: 1,
    data: { content: PASSWORD, token: new Secret("derived-TOKEN-value") },
    diff: [{ before: "", after: `password=${PASSWORD}\n` }],
    items: [{ label: "x", result: { status: "ok", durationMs: 0, data: { out: `"${PASSWORD}"` } } }],
  };
  report.handle({ type: "host-task-result", host: "pi-1", task, result, isHandler: false });
  const text = report.toJSON();
  assert.deepEqual(leaks(text), [], text);
  assert.equal(text.includes("derived-TOKEN-value"), false);
  assert.equal(result.data!.content, PASSWORD, "data untouched");
});

test("diffs and result lines are masked", () => {
  const diff = formatDiffs([{ before: "", after: `a=${PASSWORD}\n`, after_header: `/etc/${PASSWORD}` }]);
  assert.deepEqual(leaks(diff), [], diff);
  const line = resultLine("pi-1", task, { status: "failed", msg: `sudo: ${PASSWORD} rejected`, durationMs: 1 }, { color: false, cwd });
  assert.deepEqual(leaks(line), [], line);
});

test("the live view masks warnings and the failures it prints after the tree", async () => {
  let out = "";
  const listr = {
    Listr: class {
      constructor(private readonly tasks: Array<{ task: (ctx: unknown, t: { title: string }) => Promise<void> }>) {}
      async run() {
        await Promise.allSettled(this.tasks.map((t) => t.task({}, { title: "" })));
      }
    },
  };
  const live = new LiveReport(listr as never, { ...options, write: (t) => (out += t) });
  live.handle({ type: "play-start", play, hosts: ["pi-1"] });
  live.handle({ type: "warning", host: "pi-1", task, message: `retrying with ${PASSWORD}` });
  live.handle({ type: "host-task-result", host: "pi-1", task, isHandler: false, result: { status: "failed", msg: `bad ${PASSWORD}`, durationMs: 1, data: { stderr: PASSWORD } } });
  live.handle({ type: "play-end", play });
  await live.finish();
  assert.match(out, /retrying with \*\*\*/);
  assert.deepEqual(leaks(out), [], out);
});

test("a short secret (3 characters) is masked as a whole value and as a word, not inside other words", () => {
  registerSecret("Q7x");
  assert.equal(maskSecrets("Q7x"), "***");
  assert.equal(maskSecrets("sudo: password Q7x is wrong."), "sudo: password *** is wrong.");
  assert.equal(maskSecrets("pw=Q7x"), "pw=***");
  assert.equal(maskSecrets("Q7xylophone"), "Q7xylophone");
  assert.deepEqual(maskValue({ a: "Q7x", b: ["x Q7x"] }), { a: "***", b: ["x ***"] });
  const out = formatResult("pi-1", task, { status: "ok", msg: "Q7x", durationMs: 1, data: { pw: "Q7x" } }, options);
  assert.equal(out.includes("Q7x"), false, out);
});

test("Secret values show as *** at any length, even empty text is not revealed", () => {
  assert.deepEqual(maskValue({ a: new Secret("ab"), b: [new Secret("")] }), { a: "***", b: ["***"] });
});

test("errors that end the run are masked too", async () => {
  const { main } = await import("../../../scripts/play.ts");
  const { fileURLToPath } = await import("node:url");
  let err = "";
  const stream = { write: (t: string) => (err += t), isTTY: false };
  registerSecret("Err0rSecret");
  // --limit quotes its pattern in the error: here a value the user also uses as a password.
  const code = await main(["playbooks/site.yml", "-i", "pi-1,", "--limit", "Err0rSecret"], {
    stdout: stream,
    stderr: stream,
    cwd: fileURLToPath(new URL("../playbook/fixtures/site", import.meta.url)),
  });
  assert.notEqual(code, 0);
  assert.match(err, /--limit "\*\*\*" matches no host/);
});

test("text rendered from a secret is remembered when it hides a new form, not when the password already shows in it", () => {
  registerDerivedSecret("SFVOVEVSMg==");
  assert.equal(maskSecrets("echo SFVOVEVSMg== | base64 -d"), "echo *** | base64 -d");
  registerDerivedSecret(`url=https://pi:${PASSWORD}@db`);
  assert.equal(maskSecrets(`url=https://pi:${PASSWORD}@db`), "url=https://pi:***@db");
  registerDerivedSecret("yes");
  assert.equal(maskSecrets("yes"), "yes");
});
