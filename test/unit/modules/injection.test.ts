/**
 * A value from a playbook or an inventory never becomes shell, an option or a path outside
 * its place (issue 8, findings 3, 4 and 8). These cases run the modules for real on this
 * machine's sh (LocalShellTransport) inside a temp directory; the proof that nothing was
 * evaluated is a marker file that the hostile value would have created.
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { join } from "node:path";
import { LocalShellTransport } from "../../support/local-transport.ts";
import { runModule, type ModuleRun } from "../../support/run-module.ts";

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "inject-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a module; a refusal at validation (UserError) comes back as a failure too. */
async function attempt(name: string, args: Record<string, unknown>, options: { check?: boolean; host?: string } = {}): Promise<ModuleRun | { failed: true; msg: string }> {
  try {
    return await runModule(new LocalShellTransport(options.host ?? "localhost"), name, args, { check: options.check });
  } catch (e) {
    return { failed: true, msg: (e as Error).message };
  }
}

describe("wait_for host is data, never shell", () => {
  test("a host with ;command; is refused and nothing runs", async () => {
    const marker = join(dir, "wait-for-pwned");
    const r = await attempt("wait_for", { host: `127.0.0.1/1;touch ${marker};#`, port: 1, timeout: 1, connect_timeout: 1 });
    assert.equal(existsSync(marker), false, "the host value ran as a command");
    assert.equal(r.failed, true);
    assert.match(r.msg!, /host/);
    assert.match(r.msg!, /127\.0\.0\.1\/1;touch/);
  });
});

describe("wait_for host and port as bash's positional parameters", () => {
  test("a listening loopback port is found", async () => {
    const server = createServer((s) => s.end("hello\n"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const r = await attempt("wait_for", { host: "127.0.0.1", port, timeout: 5, search_regex: "hel+o" });
      assert.equal(r.failed, false, r.msg);
      assert.equal((r as ModuleRun).reason, `127.0.0.1:${port} matched hel+o`);
    } finally {
      server.close();
    }
  });
});

describe("creates/removes globs never evaluate anything", () => {
  const hostile = [
    ["$(...)", (m: string) => `done[$(touch ${m})]`],
    ["$(...) outside brackets", (m: string) => `done$(touch ${m})`],
    ["backticks", (m: string) => `done[\`touch ${m}\`]`],
    ["backticks outside brackets", (m: string) => `x\`touch ${m}\``],
    ["${...} assignment", (m: string) => `done[\${x:=$(touch ${m})}]`],
    ["newline", (m: string) => `done\ntouch ${m}\n`],
    ["quotes", (m: string) => `done['"];touch ${m};'"]`],
    ["semicolon in brackets", (m: string) => `done[;touch ${m};]`],
  ] as const;

  for (const [what, make] of hostile) {
    for (const option of ["creates", "removes"] as const) {
      for (const check of [true, false]) {
        test(`${option} with ${what}${check ? " (check mode)" : ""}`, async () => {
          const sub = mkdtempSync(join(dir, "glob-"));
          writeFileSync(join(sub, "done"), "");
          // Relative to chdir, as the check runs there: no "/" inside the brackets.
          const ran = join(sub, "ran");
          await attempt("command", { cmd: `touch ${ran}`, chdir: sub, [option]: join(sub, make("PWN")) }, { check });
          assert.equal(existsSync(join(sub, "PWN")), false, `the ${option} pattern was evaluated`);
          assert.deepEqual(readdirSync(sub).filter((f) => f !== "ran").sort(), ["done"]);
        });
      }
    }
  }

  test("glob characters still match; everything else is literal", async () => {
    const sub = mkdtempSync(join(dir, "glob-"));
    writeFileSync(join(sub, "done"), "");
    const literal = "a$(x)`y`${z}'\"\nb";
    writeFileSync(join(sub, literal), "");
    for (const [pattern, exists] of [
      ["do*", true],
      ["d?ne", true],
      ["d[aeiou]ne", true],
      ["d[!o]ne", false],
      ["nothing*", false],
      [literal, true],
      ["a$(x)`y`${z}'\"\n*", true],
      ["a$(x)", false],
    ] as const) {
      const r = await attempt("command", { cmd: "true", creates: join(sub, pattern) }, { check: true });
      assert.equal(r.failed, false, r.msg);
      const skipped = (r as ModuleRun).changed === false && !(r as ModuleRun).skipped;
      assert.equal(skipped, exists, `creates ${JSON.stringify(pattern)} should ${exists ? "" : "not "}match`);
    }
  });

  test("a space in a literal part does not split the pattern", async () => {
    const sub = mkdtempSync(join(dir, "glob-"));
    mkdirSync(join(sub, "my app"));
    writeFileSync(join(sub, "my app", "x.conf"), "");
    const r = await attempt("command", { cmd: "true", creates: join(sub, "my app", "*.conf") }, { check: true });
    assert.equal((r as ModuleRun).changed, false);
  });
});

describe("fetch stays inside dest", () => {
  test("an inventory host named ../../escaped is refused, nothing written", async () => {
    const sub = mkdtempSync(join(dir, "fetch-"));
    const src = join(sub, "source.txt");
    writeFileSync(src, "data\n");
    const dest = join(sub, "a", "b", "fetched");
    const r = await attempt("fetch", { src, dest }, { host: "../../escaped" });
    assert.equal(r.failed, true);
    assert.match(r.msg!, /Detected directory traversal/);
    assert.deepEqual(readdirSync(sub).sort(), ["source.txt"], "something was written");
  });

  test("a relative src climbing out of the host's folder is refused", async () => {
    const sub = mkdtempSync(join(dir, "fetch-"));
    writeFileSync(join(sub, "source.txt"), "data\n");
    const dest = join(sub, "fetched");
    const r = await attempt("fetch", { src: "../../source.txt", dest }, { host: "node1" });
    assert.equal(r.failed, true);
    assert.match(r.msg!, /Detected directory traversal/);
    assert.deepEqual(readdirSync(sub).sort(), ["source.txt"], "something was written");
  });

  test("a host name and an absolute src land in dest/<host>/<src>", async () => {
    const sub = mkdtempSync(join(dir, "fetch-"));
    const src = join(sub, "source.txt");
    writeFileSync(src, "data\n");
    const r = await attempt("fetch", { src, dest: join(sub, "fetched") }, { host: "node1" });
    assert.equal(r.failed, false, r.msg);
    assert.ok(existsSync(join(sub, "fetched", "node1", src)));
  });
});
