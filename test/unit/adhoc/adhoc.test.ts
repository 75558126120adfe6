/**
 * The ad-hoc script: ansible's output layouts from results, its flags and exit codes, and a
 * real run through the executor on the local connection (no network).
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { main } from "../../../scripts/adhoc.ts";
import { formatResult } from "../../../scripts/lib/adhoc/output.ts";
import { parseAdhocArgs } from "../../../scripts/lib/adhoc/args.ts";
import type { TaskResult } from "../../../scripts/lib/run/events.ts";
import { writeTree } from "../inventory/tree.ts";

const result = (r: Partial<TaskResult>): TaskResult => ({ status: "ok", durationMs: 1, ...r });

describe("ansible's ad-hoc layouts", () => {
  test("command-like modules: rc and output; -o flattens newlines and adds stderr", () => {
    const r = result({ status: "changed", data: { rc: 0, stdout: "a\nb", stderr: "" } });
    assert.equal(formatResult("pi-1", "command", r, false), "pi-1 | CHANGED | rc=0 >>\na\nb\n");
    assert.equal(formatResult("pi-1", "shell", r, true), "pi-1 | CHANGED | rc=0 | (stdout) a\\nb\n");
    const failed = result({ status: "failed", msg: "non-zero return code", data: { rc: 2, stdout: "", stderr: "no such file" } });
    assert.equal(formatResult("pi-1", "command", failed, false), "pi-1 | FAILED | rc=2 >>\nno such filenon-zero return code\n");
    assert.equal(formatResult("pi-1", "raw", failed, true), "pi-1 | FAILED | rc=2 | (stdout)  (stderr) no such file\n");
  });

  test("other modules: the result as sorted JSON (4 spaces, or one line with -o)", () => {
    const ok = result({ status: "ok", msg: "pong", data: { ping: "pong", msg: "pong" } });
    assert.equal(formatResult("pi-1", "ping", ok, false), 'pi-1 | SUCCESS => {\n    "changed": false,\n    "ping": "pong"\n}\n');
    assert.equal(formatResult("pi-1", "ping", ok, true), 'pi-1 | SUCCESS => {"changed": false,"ping": "pong"}\n');
    const failed = result({ status: "failed", msg: "boom", data: {} });
    assert.equal(formatResult("pi-1", "ping", failed, true), 'pi-1 | FAILED! => {"changed": false,"msg": "boom"}\n');
  });

  test("unreachable and skipped", () => {
    const down = result({ status: "unreachable", msg: "connection refused" });
    assert.equal(formatResult("pi-1", "ping", down, true), "pi-1 | UNREACHABLE!: connection refused\n");
    assert.match(formatResult("pi-1", "ping", down, false), /^pi-1 \| UNREACHABLE! => \{\n    "changed": false,\n    "msg": "connection refused",\n    "unreachable": true\n\}\n$/);
    assert.equal(formatResult("pi-1", "command", result({ status: "skipped" }), false), "pi-1 | SKIPPED\n");
  });
});

describe("adhoc flags", () => {
  test("ansible's flags and short clusters", () => {
    const o = parseAdhocArgs(["cluster", "-bK", "-m", "apt", "-a", "name=curl", "-f1", "-CD", "-o", "-l", "pi-1", "-e", "x=1"]);
    assert.equal(o.pattern, "cluster");
    assert.deepEqual([o.become, o.askBecomePass, o.module, o.args, o.forks, o.check, o.diff, o.oneLine, o.limit, o.extraVars], [true, true, "apt", "name=curl", 1, true, true, true, "pi-1", ["x=1"]]);
    assert.equal(parseAdhocArgs(["all", "-a", "uptime"]).module, "command");
  });

  const io = () => {
    const o = { out: "", err: "" };
    return { o, io: { stdout: { write: (s: string) => (o.out += s) }, stderr: { write: (s: string) => (o.err += s) } } };
  };
  for (const [args, pattern] of [
    [["all", "--forks", "0", "-a", "x"], /--forks must be a positive whole number/],
    [["all"], /No argument passed to command module/],
    [["a", "b", "-a", "x"], /one host pattern/],
    [["-a", "x"], /no host pattern given/],
    [["all", "--bogus"], /unknown option --bogus/],
  ] as const) {
    test(`bad options exit 5: ${args.join(" ")}`, async () => {
      const { o, io: streams } = io();
      assert.equal(await main([...args], streams), 5);
      assert.match(o.err, pattern);
    });
  }
});

describe("adhoc through the executor (local connection)", () => {
  const INV = "all:\n  hosts:\n    here:\n      ansible_connection: local\n";
  const run = async (args: string[]) => {
    const t = writeTree({ "hosts.yml": INV });
    const o = { out: "", err: "" };
    try {
      const code = await main(["-i", t.path("hosts.yml"), ...args], { stdout: { write: (s: string) => (o.out += s) }, stderr: { write: (s: string) => (o.err += s) }, cwd: t.dir });
      return { code, ...o };
    } finally {
      t.remove();
    }
  };

  test("a command with -e templated in; a failure exits 2", async () => {
    const ok = await run(["here", "-a", "echo {{ greeting }}", "-e", "greeting=hello"]);
    assert.equal(ok.code, 0, ok.err);
    assert.equal(ok.out, "here | CHANGED | rc=0 >>\nhello\n");
    const failed = await run(["here", "-m", "shell", "-a", "echo oops >&2; exit 3", "-o"]);
    assert.equal(failed.code, 2);
    assert.equal(failed.out, "here | FAILED | rc=3 | (stdout)  (stderr) oops\n");
  });

  test("no host matched: a warning and exit 0, as ansible; a --limit matching nothing exits 1", async () => {
    const none = await run(["nothere", "-a", "true"]);
    assert.equal(none.code, 0);
    assert.match(none.err, /No hosts matched, nothing to do/);
    const limited = await run(["all", "-a", "true", "--limit", "nothere"]);
    assert.equal(limited.code, 1);
    assert.match(limited.err, /--limit "nothere" matches no host/);
  });

  test("an unknown module is a clear error (exit 4), naming the ad-hoc command", async () => {
    const r = await run(["here", "-m", "pingg"]);
    assert.equal(r.code, 4);
    assert.match(r.err, /<ad-hoc command>: Unknown module "pingg"/);
  });
});
