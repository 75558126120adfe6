/**
 * writeFileAtomic for real, against this machine's sh in a temp dir: content that arrives
 * short or altered never replaces the file and leaves no temp file; secret and plain content
 * go through the same path, so an existing file keeps its mode either way; a signal that ends
 * the write script mid-transfer removes its temp file; one that a kill -9 (a power cut) left
 * is removed by the next write of that file, and nothing else is.
 */
import { test, describe, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic, writeFileCommand } from "../../../scripts/lib/modules/remote-file.ts";
import { framedUpload } from "../../../scripts/lib/modules/support/upload.ts";
import { ModuleFailure } from "../../../scripts/lib/modules/types.ts";
import { Secret } from "../../../scripts/lib/shell/secret.ts";
import type { ExecOptions, ExecResult } from "../../../scripts/lib/transport/types.ts";
import { LocalShellTransport } from "../../support/local-transport.ts";
import { TransportContext } from "../../support/transport-context.ts";

const dir = mkdtempSync(join(tmpdir(), "remote-file-write-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const path = join(dir, "hook.sh");
const ORIGINAL = "#!/bin/sh\necho ORIGINAL\n";

beforeEach(() => {
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { force: true });
  writeFileSync(path, ORIGINAL);
  chmodSync(path, 0o755);
});

/** A local sh target whose link changes what arrives on stdin (as a dropped or bad connection). */
class DamagedLink extends LocalShellTransport {
  constructor(private readonly damage: (stdin: Buffer) => Buffer) {
    super();
  }
  override exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const stdin = options.stdin === undefined ? undefined : this.damage(Buffer.from(options.stdin as Uint8Array));
    return super.exec(command, { ...options, stdin });
  }
}

function ctx(transport = new LocalShellTransport()): TransportContext {
  return new TransportContext(transport, { baseDir: dir });
}

const mode = (p: string) => (statSync(p).mode & 0o777).toString(8).padStart(4, "0");
const leftovers = () => readdirSync(dir).filter((name) => name !== "hook.sh");

describe("writeFileAtomic: the content arrives whole or the file stays as it was", () => {
  const content = Buffer.alloc(256 * 1024, "new content\n");
  const cuts: Array<[string, (b: Buffer) => Buffer]> = [
    ["nothing arrived", () => Buffer.alloc(0)],
    ["cut inside the header", (b) => b.subarray(0, 10)],
    ["cut after the header", (b) => b.subarray(0, b.indexOf("\n") + 1)],
    ["cut halfway through the content", (b) => b.subarray(0, b.length / 2)],
    ["one byte short", (b) => b.subarray(0, b.length - 1)],
    ["one byte altered", (b) => Buffer.concat([b.subarray(0, b.length - 1), Buffer.from("X")])],
  ];
  for (const [name, damage] of cuts) {
    test(`${name}: refused, original intact, no temp file`, async () => {
      await assert.rejects(writeFileAtomic(ctx(new DamagedLink(damage)), path, content), (e: Error) => {
        assert.ok(e instanceof ModuleFailure);
        assert.match(e.message, /arrived (incomplete|altered)|no content arrived/);
        assert.match(e.message, /was left as it was/);
        return true;
      });
      assert.equal(readFileSync(path, "utf8"), ORIGINAL);
      assert.equal(mode(path), "0755");
      assert.deepEqual(leftovers(), []);
    });
  }

  test("whole content: written, the existing mode kept", async () => {
    await writeFileAtomic(ctx(), path, content);
    assert.ok(readFileSync(path).equals(content));
    assert.equal(mode(path), "0755");
    assert.deepEqual(leftovers(), []);
  });

  test("empty content is whole content", async () => {
    await writeFileAtomic(ctx(), path, "");
    assert.equal(readFileSync(path, "utf8"), "");
    assert.deepEqual(leftovers(), []);
  });
});

describe("writeFileAtomic: secret and plain content share one path", () => {
  test("secret content over an existing 0755 script keeps 0755", async () => {
    await writeFileAtomic(ctx(), path, new Secret("#!/bin/sh\necho s3cret-token\n"), { secret: true });
    assert.equal(readFileSync(path, "utf8"), "#!/bin/sh\necho s3cret-token\n");
    assert.equal(mode(path), "0755");
  });
  test("a new secret file is 0600, a new plain file follows the umask", async () => {
    await writeFileAtomic(ctx(), join(dir, "token"), new Secret("abc"), { secret: true });
    assert.equal(mode(join(dir, "token")), "0600");
    const umask = process.umask();
    await writeFileAtomic(ctx(), join(dir, "plain"), "abc");
    assert.equal(mode(join(dir, "plain")), (0o666 & ~umask).toString(8).padStart(4, "0"));
  });
  test("an explicit mode wins for secret content too", async () => {
    await writeFileAtomic(ctx(), path, new Secret("x"), { secret: true, mode: "0640" });
    assert.equal(mode(path), "0640");
  });
});

describe("writeFileAtomic: a signal mid-transfer", () => {
  test("SIGTERM to the write script and its cat (a Ctrl-C on a local target): temp removed, original intact", async () => {
    const framed = framedUpload(Buffer.alloc(1024 * 1024, "y"));
    // Its own process group, so the signal reaches sh and cat at once, as a terminal's does.
    const child = spawn("sh", ["-c", writeFileCommand(path)], { detached: true, stdio: ["pipe", "ignore", "ignore"] });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.stdin.on("error", () => {});
    child.stdin.write(framed.subarray(0, framed.length / 2));
    const deadline = Date.now() + 10_000;
    const arriving = () => leftovers().some((name) => (statSync(join(dir, name), { throwIfNoEntry: false })?.size ?? 0) > 0);
    while (!arriving() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.ok(arriving(), "the temp file fills while the content arrives");
    process.kill(-child.pid!, "SIGTERM");
    await exited;
    assert.equal(readFileSync(path, "utf8"), ORIGINAL);
    assert.deepEqual(leftovers(), []);
  });
});

describe("writeFileAtomic: the temp file a power cut left", () => {
  const ours = /^\.hook\.sh\.pi-cluster-runner\.[A-Za-z0-9]{6}$/;

  /** A write script of its own process group, fed half its content: a writer still at work. */
  async function halfWritten(content: Buffer) {
    const framed = framedUpload(content);
    // Taken before the writer starts: a fast writer's temp must not count as already there.
    const before = new Set(leftovers());
    const child = spawn("sh", ["-c", writeFileCommand(path)], { detached: true, stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.stdin.on("error", () => {});
    child.stdin.write(framed.subarray(0, framed.length / 2));
    const temp = () => leftovers().find((name) => !before.has(name) && (statSync(join(dir, name), { throwIfNoEntry: false })?.size ?? 0) > 0);
    const deadline = Date.now() + 10_000;
    while (!temp() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    if (!temp()) process.kill(-child.pid!, "SIGKILL"); // a writer left waiting on its stdin would hold the test run open
    assert.ok(temp(), "the temp file fills while the content arrives");
    return { child, exited, name: temp()!, rest: framed.subarray(framed.length / 2), stderr: () => stderr };
  }

  async function groupGone(pgid: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        process.kill(-pgid, 0);
      } catch {
        return; // ESRCH: no process of the group is left
      }
      assert.ok(Date.now() < deadline, "the killed writer's processes are gone");
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  test("kill -9 mid-transfer (no trap runs, as a power cut) leaves a temp named as ours; the next write removes it", async () => {
    const writer = await halfWritten(Buffer.alloc(1024 * 1024, "y"));
    process.kill(-writer.child.pid!, "SIGKILL");
    await writer.exited;
    // sh's exit can be seen before its cat is gone, and cat still holds the temp's lock: a power
    // cut leaves no process, so wait until the whole group is gone.
    await groupGone(writer.child.pid!);
    assert.equal(readFileSync(path, "utf8"), ORIGINAL);
    assert.deepEqual(leftovers(), [writer.name]);
    assert.match(writer.name, ours);

    await writeFileAtomic(ctx(), path, "NEW\n");
    assert.equal(readFileSync(path, "utf8"), "NEW\n");
    assert.deepEqual(leftovers(), [], "the stale temp is gone");
  });

  test("only stale temps of this destination carrying our marker go: user files, symlinks, other destinations' and live writers' temps stay", async () => {
    const keep: Record<string, string> = {
      ".hook.sh.swp": "an editor's swap file",
      ".hook.sh.Ab12Cd": "a temp without our marker (another tool's mktemp)",
      ".hook.sh.pi-cluster-runner.bak": "our marker but not mktemp's six-letter suffix",
      ".hook.sh.pi-cluster-runner.Ab1-Cd": "six characters but not mktemp's letters and digits",
      ".other.pi-cluster-runner.Ab12Cd": "a stale temp of another destination",
      "hook.sh.pi-cluster-runner.Ab12Cd": "no leading dot",
    };
    for (const [name, content] of Object.entries(keep)) writeFileSync(join(dir, name), content);
    writeFileSync(join(dir, "precious"), "user data\n");
    symlinkSync(join(dir, "precious"), join(dir, ".hook.sh.pi-cluster-runner.Lnk123"));
    writeFileSync(join(dir, ".hook.sh.pi-cluster-runner.Stale1"), "left by a power cut");
    const live = await halfWritten(Buffer.alloc(1024 * 1024, "L"));
    try {
      await writeFileAtomic(ctx(), path, "NEW\n");
      assert.equal(readFileSync(path, "utf8"), "NEW\n");
      const left = new Set(leftovers());
      assert.ok(!left.has(".hook.sh.pi-cluster-runner.Stale1"), "the stale temp is gone");
      for (const [name, content] of Object.entries(keep)) assert.equal(readFileSync(join(dir, name), "utf8"), content, name);
      assert.ok(lstatSync(join(dir, ".hook.sh.pi-cluster-runner.Lnk123")).isSymbolicLink(), "the symlink stays");
      assert.equal(readFileSync(join(dir, "precious"), "utf8"), "user data\n");
      assert.ok(left.has(live.name), "the live writer's temp stays (it holds its lock)");
    } finally {
      live.child.stdin.end(live.rest);
    }
    assert.equal(await live.exited, 0, live.stderr());
    assert.equal(readFileSync(path, "utf8"), "L".repeat(1024 * 1024), "the live writer finished its write");
  });
});
