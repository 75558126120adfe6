/**
 * An interrupted `copy` never replaces the file: the runner (`node scripts/play.ts`, a real
 * process) copies a large file over SSH (the loopback sshd of test/support/sshd.ts) onto a
 * file holding ORIGINAL, and is cut off mid-transfer by SIGTERM, by SIGHUP (its terminal
 * closed), by two SIGINTs (a second Ctrl-C) and by its sshd session being killed. Each time
 * the original must be byte-identical, no temp file may stay in the folder, a signal must give
 * exit code 99, and the --json report must exist and parse. A single SIGINT (Ctrl-C once)
 * lets the copy finish whole instead.
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { useSshd, sshdAvailable, type Sshd } from "../support/sshd.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const missing = sshdAvailable();
const sshd: Sshd | undefined = missing ? undefined : await useSshd({ extraConfig: ["SetEnv SHLVL=1"] });
const dir = mkdtempSync(join(tmpdir(), "interrupted-write-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Big enough that the transfer takes a while on loopback, small enough to stay fast. */
const SIZE = 48 * 1024 * 1024;
const ORIGINAL = "ORIGINAL\n";
const target = join(dir, "target");
const victim = join(target, "victim");

before(() => {
  if (missing) return;
  mkdirSync(join(dir, "files"), { recursive: true });
  writeFileSync(join(dir, "files", "big.bin"), randomBytes(SIZE));
  writeFileSync(
    join(dir, "site.yml"),
    `- hosts: nodes
  gather_facts: false
  tasks:
    - name: Copy the big file over the original
      copy:
        src: big.bin
        dest: ${victim}
`,
  );
  writeFileSync(
    join(dir, "hosts.yml"),
    [
      "all:",
      "  children:",
      "    nodes:",
      "      hosts:",
      "        t1:",
      "          ansible_host: 127.0.0.1",
      `          ansible_port: ${sshd!.port}`,
      `          ansible_user: ${sshd!.user}`,
      `          ansible_ssh_private_key_file: ${sshd!.keyFile}`,
      `          ansible_ssh_common_args: -o UserKnownHostsFile=${sshd!.knownHostsFile}`,
    ].join("\n") + "\n",
  );
});

function resetTarget(): void {
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target);
  writeFileSync(victim, ORIGINAL, { mode: 0o644 });
}

/** The temp file the write is filling (a dot file beside the victim), if any. */
function tempFiles(): string[] {
  return readdirSync(target).filter((name) => name !== "victim");
}

/** Waits until the transfer is under way: a temp file holding part of the content. */
async function midTransfer(child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && child.exitCode === null) {
    for (const name of tempFiles()) {
      const size = statSync(join(target, name), { throwIfNoEntry: false })?.size ?? 0;
      if (size > 1024 * 1024 && size < SIZE / 2) return;
      if (size >= SIZE / 2) throw new Error(`the transfer went too fast to interrupt (${size} bytes seen): make SIZE bigger`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error("the copy never started");
}

interface Outcome {
  status: number | null;
  signal: string | null;
  output: string;
}

/** Starts the runner on a fresh target; `exited` resolves with its exit status and output. */
function startRun(report: string): { child: ChildProcess; exited: Promise<Outcome> } {
  resetTarget();
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "scripts", "play.ts"), join(dir, "site.yml"), "-i", join(dir, "hosts.yml"), "--json", report], {
    cwd: root,
    env: { ...process.env, CI: "true", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (b: Buffer) => (output += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (output += b.toString()));
  const exited = new Promise<Outcome>((resolve) => child.once("exit", (status, signal) => resolve({ status, signal, output })));
  return { child, exited };
}

/** Starts the runner and lets `interrupt` cut it off mid-transfer. */
async function interruptedRun(report: string, interrupt: (child: ChildProcess) => Promise<void>): Promise<Outcome> {
  const { child, exited } = startRun(report);
  const guard = setTimeout(() => child.kill("SIGKILL"), 120_000);
  try {
    try {
      await midTransfer(child);
    } catch (e) {
      child.kill("SIGKILL");
      throw new Error(`${(e as Error).message}\n${(await exited).output}`);
    }
    await interrupt(child);
    return await exited;
  } finally {
    clearTimeout(guard);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

/** The target's own script finishes after the controller is gone: give it a moment to clean up. */
async function settled(): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && tempFiles().length > 0) await new Promise((r) => setTimeout(r, 50));
  return tempFiles();
}

function assertOriginalIntact(output: string): void {
  const now = readFileSync(victim);
  assert.ok(now.equals(Buffer.from(ORIGINAL)), `the original was replaced (${now.length} bytes now)\n${output}`);
}

function assertReport(report: string, output: string): void {
  assert.ok(existsSync(report), `no --json report\n${output}`);
  const data = JSON.parse(readFileSync(report, "utf8")) as { plays: unknown[] };
  assert.ok(Array.isArray(data.plays), "the report has plays");
}

describe("an interrupted copy leaves the original intact", { skip: missing, concurrency: false }, () => {
  for (const signal of ["SIGTERM", "SIGHUP"] as const) {
    test(`${signal} mid-transfer: original intact, no temp file, exit 99, report written`, async () => {
      const report = join(dir, `${signal}.json`);
      const r = await interruptedRun(report, async (child) => void child.kill(signal));
      const left = await settled();
      assertOriginalIntact(r.output);
      assert.deepEqual(left, [], "a temp file was left behind");
      assert.equal(r.status, 99, `exit ${r.status} (signal ${r.signal})\n${r.output}`);
      assertReport(report, r.output);
    });
  }

  test("two SIGINTs (Ctrl-C twice) mid-transfer: original intact, no temp file, exit 99, report written", async () => {
    const report = join(dir, "int.json");
    const r = await interruptedRun(report, async (child) => {
      child.kill("SIGINT");
      await new Promise((resolve) => setTimeout(resolve, 50));
      child.kill("SIGINT");
    });
    const left = await settled();
    assertOriginalIntact(r.output);
    assert.deepEqual(left, [], "a temp file was left behind");
    assert.equal(r.status, 99, `exit ${r.status} (signal ${r.signal})\n${r.output}`);
    assertReport(report, r.output);
  });

  test("one SIGINT (Ctrl-C once) mid-transfer: the running copy finishes whole, exit 99, report written", async () => {
    const report = join(dir, "int-once.json");
    const r = await interruptedRun(report, async (child) => void child.kill("SIGINT"));
    assert.equal(r.status, 99, `exit ${r.status} (signal ${r.signal})\n${r.output}`);
    assert.ok(readFileSync(victim).equals(readFileSync(join(dir, "files", "big.bin"))), `the copy did not land whole\n${r.output}`);
    assert.deepEqual(tempFiles(), []);
    assertReport(report, r.output);
  });

  test("the sshd session killed mid-transfer: original intact, no temp file, the host unreachable", async () => {
    const report = join(dir, "killed.json");
    const r = await interruptedRun(report, () => sshd!.restart());
    const left = await settled();
    assertOriginalIntact(r.output);
    assert.deepEqual(left, [], "a temp file was left behind");
    assert.equal(r.status, 4, `exit ${r.status} (signal ${r.signal})\n${r.output}`);
    assertReport(report, r.output);
  });

  test("not interrupted: the copy lands whole", async () => {
    const { status, output } = await startRun(join(dir, "whole.json")).exited;
    assert.equal(status, 0, output);
    assert.ok(readFileSync(victim).equals(readFileSync(join(dir, "files", "big.bin"))), "the copy is the source");
    assert.deepEqual(tempFiles(), []);
  });
});
