/**
 * The parts of `lab fault`/`lab heal` that need no lab: the command line (kinds, --for,
 * --path), the fingerprints a rekey reports, and the known_hosts update its heal makes.
 * The faults themselves run on real nodes in test/lab/faults.suite.ts.
 */
import { describe, test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserError } from "../../../scripts/lib/errors.ts";
import { parseDuration } from "../../../scripts/lib/lab/fault/duration.ts";
import { parseFaultKind } from "../../../scripts/lib/lab/fault/index.ts";
import { checkDiskFullPath } from "../../../scripts/lib/lab/fault/disk-full.ts";
import { keyFingerprints, replaceKnownHosts } from "../../../scripts/lib/lab/fault/rekey.ts";
import { FAULT_KINDS } from "../../../scripts/lib/lab/fault/types.ts";
import type { NodeState } from "../../../scripts/lib/lab/state.ts";

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "lab-fault-"));
  dirs.push(d);
  return d;
}

describe("lab fault: the command line", () => {
  test("every kind of the issue is known; a typo gets the closest kind", () => {
    assert.deepEqual([...FAULT_KINDS].sort(), ["apt-down", "disk-full", "down", "hang", "link", "reboot", "rekey", "sshd-kill"]);
    for (const kind of FAULT_KINDS) assert.equal(parseFaultKind(kind), kind);
    assert.throws(() => parseFaultKind("hnag"), (e: unknown) => e instanceof UserError && /Unknown fault "hnag"/.test(e.message) && /did you mean "hang"/.test(e.hint ?? ""));
    assert.throws(() => parseFaultKind(undefined), (e: unknown) => e instanceof UserError && /kinds: down, sshd-kill, link/.test(e.hint ?? ""));
  });

  test("--for takes ms, s, m or plain seconds, and refuses anything else with the value quoted", () => {
    assert.equal(parseDuration("10s"), 10_000);
    assert.equal(parseDuration("500ms"), 500);
    assert.equal(parseDuration("2m"), 120_000);
    assert.equal(parseDuration("1.5"), 1500);
    for (const bad of ["", "0", "-3s", "10h", "ten", "2d"]) {
      assert.throws(() => parseDuration(bad), (e: unknown) => e instanceof UserError && e.message === `--for "${bad}" is not a duration`, bad);
    }
  });

  test("disk-full --path must be an absolute folder below /, as written", () => {
    assert.equal(checkDiskFullPath("/opt/app"), "/opt/app");
    assert.equal(checkDiskFullPath("/opt/app/"), "/opt/app");
    for (const bad of ["/", "opt/app", "/opt/../etc", "/opt//app", "/opt/a\nb"]) {
      assert.throws(() => checkDiskFullPath(bad), UserError, JSON.stringify(bad));
    }
    assert.throws(() => checkDiskFullPath(undefined), (e: unknown) => e instanceof UserError && /--path/.test(e.hint ?? ""));
  });
});

describe("lab fault rekey: fingerprints and known_hosts", () => {
  function newKey(dir: string, name: string): string {
    const file = join(dir, name);
    const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", file]);
    assert.equal(r.status, 0, String(r.stderr));
    return readFileSync(`${file}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
  }

  test("the fingerprint is the one ssh-keygen -l prints", () => {
    const dir = tempDir();
    const key = newKey(dir, "k");
    const expected = spawnSync("ssh-keygen", ["-l", "-E", "sha256", "-f", join(dir, "k.pub")], { encoding: "utf8" }).stdout.split(" ")[1];
    assert.match(expected, /^SHA256:/);
    assert.deepEqual(keyFingerprints([key]), [expected]);
  });

  test("heal replaces only the node's lines (by name or address) with its current keys", () => {
    const dir = tempDir();
    const rootfs = join(dir, "rootfs");
    mkdirSync(join(rootfs, "etc/ssh"), { recursive: true });
    const current = newKey(join(rootfs, "etc/ssh"), "ssh_host_ed25519_key");
    const known = join(dir, "known_hosts");
    writeFileSync(known, ["f1,10.213.11.11 ssh-ed25519 AAAAold1", "f2,10.213.11.12 ssh-ed25519 AAAAother", "10.213.11.11 ssh-rsa AAAAold2", ""].join("\n"));
    const node = { name: "f1", address: "10.213.11.11", rootfs } as NodeState;
    replaceKnownHosts(known, node);
    assert.deepEqual(readFileSync(known, "utf8").split("\n"), ["f2,10.213.11.12 ssh-ed25519 AAAAother", `f1,10.213.11.11 ${current}`, ""]);
  });
});
