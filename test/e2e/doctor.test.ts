/**
 * The doctor end to end over REAL SSH, under Node (`npx zx doctor`, the documented entry) and
 * Deno (`deno run -A scripts/doctor.ts`): two inventory hosts that are both the loopback sshd,
 * i.e. the same machine. So their hostnames collide (the check must say so), one has a static
 * address that exists (127.0.0.1/8) and one that does not; a storage node (group ssd) gets the
 * iscsid check; a server in the inventory makes the cluster checks ask `k3s kubectl` there.
 * The mount point goes to the host quoted: a command in it is never run.
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { useSshd, sshdAvailable, type Sshd } from "../support/sshd.ts";
import { which } from "../../scripts/lib/lab/preflight.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const deno = join(root, "node_modules", ".bin", "deno");
const missing = sshdAvailable();
const sshd: Sshd | undefined = missing ? undefined : await useSshd();
const dir = mkdtempSync(join(tmpdir(), "doctor-e2e-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const canary = join(dir, "injected");

function inventory(): string {
  const host = (name: string, extra: string[]) => [
    `        ${name}:`,
    "          ansible_host: 127.0.0.1",
    `          ansible_port: ${sshd!.port}`,
    `          ansible_user: ${sshd!.user}`,
    `          ansible_ssh_private_key_file: ${sshd!.keyFile}`,
    `          ansible_ssh_common_args: -o UserKnownHostsFile=${sshd!.knownHostsFile}`,
    ...extra.map((l) => `          ${l}`),
  ];
  const file = join(dir, "hosts.yml");
  writeFileSync(
    file,
    [
      "all:",
      "  children:",
      "    cluster:",
      "      children:",
      "        servers:",
      "          hosts:",
      ...host("d1", ["static_ip_address: 127.0.0.1/8", "ssd_storage_device: /dev/disk/by-id/none", `ssd_storage_mount: "/mnt/x'$(touch ${canary})'"`]).map((l) => `    ${l}`),
      "        agents:",
      "          hosts:",
      ...host("d2", ["static_ip_address: 10.255.255.1/32"]).map((l) => `    ${l}`),
      "    ssd:",
      "      hosts:",
      "        d1:",
    ].join("\n") + "\n",
  );
  return file;
}

const LINE = /^(OK|FAIL|SKIP)\s+(d1|d2)\s+(memory-cgroup|hostname-unique|time-sync|static-address|ssd-mount|iscsid|node-ready|longhorn-schedulable)\s+(.*)$/;

interface Verdict {
  host: string;
  check: string;
  status: string;
  detail: string;
}

function run(command: string, args: string[]) {
  const r = spawnSync(command, args, { cwd: root, encoding: "utf8", env: { ...process.env, CI: "true", NO_COLOR: "1" }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout ?? "", output: `${r.stdout}\n${r.stderr}` };
}

function assertVerdicts(verdicts: Verdict[], output: string): void {
  const of = (host: string, check: string) => verdicts.find((v) => v.host === host && v.check === check);
  for (const h of ["d1", "d2"]) {
    for (const c of ["memory-cgroup", "hostname-unique", "time-sync", "static-address", "ssd-mount", "iscsid", "node-ready"]) assert.ok(of(h, c), `${h} ${c} missing\n${output}`);
  }
  assert.equal(of("d1", "longhorn-schedulable")?.status, "fail", output);
  assert.equal(of("d2", "longhorn-schedulable"), undefined, "d2 is no storage node");
  // Both hosts are this machine: the same hostname, which the doctor must refuse.
  assert.equal(of("d1", "hostname-unique")?.status, "fail");
  assert.match(of("d1", "hostname-unique")!.detail, /also the hostname of d2/);
  assert.equal(of("d1", "static-address")?.status, "ok", output);
  assert.match(of("d1", "static-address")!.detail, /^127\.0\.0\.1\/8 on lo$/);
  assert.equal(of("d2", "static-address")?.status, "fail");
  assert.equal(of("d2", "ssd-mount")?.status, "skip");
  assert.equal(of("d2", "iscsid")?.status, "skip");
  assert.equal(of("d1", "ssd-mount")?.status, "fail", "the odd mount point has no fstab entry");
  if (!which("k3s")) assert.match(of("d1", "node-ready")!.detail, /k3s/, "the failure says what could not run");
  assert.equal(existsSync(canary), false, "a command inside an inventory value ran on the host");
}

function parseLines(stdout: string): Verdict[] {
  const lines = stdout.trim().split("\n");
  const summary = lines.pop()!;
  assert.match(summary, /check\(s\) failed$/);
  return lines.map((l) => {
    const m = LINE.exec(l);
    assert.ok(m, `not a verdict line: ${JSON.stringify(l)}`);
    return { status: m[1].toLowerCase(), host: m[2], check: m[3], detail: m[4] };
  });
}

describe("doctor over real SSH", { skip: missing }, () => {
  test("Node (npx zx doctor): one line per host per check, exit 2, --json the same verdicts", () => {
    const inv = inventory();
    const text = run("npx", ["zx", "doctor", "-i", inv]);
    assert.equal(text.status, 2, text.output);
    const lines = parseLines(text.stdout);
    assertVerdicts(lines, text.output);
    const json = run("npx", ["zx", "doctor", "-i", inv, "--json"]);
    assert.equal(json.status, 2, json.output);
    const report = JSON.parse(json.stdout) as { ok: boolean; verdicts: Verdict[] };
    assert.equal(report.ok, false);
    assertVerdicts(report.verdicts, json.output);
    assert.deepEqual(report.verdicts.map((v) => `${v.host} ${v.check} ${v.status}`), lines.map((v) => `${v.host} ${v.check} ${v.status}`));
  });

  test("--limit checks only the hosts it names; a limit that matches nothing is an error", () => {
    const inv = inventory();
    const r = run("npx", ["zx", "doctor", "-i", inv, "--limit", "d2", "--json"]);
    const report = JSON.parse(r.stdout) as { verdicts: Verdict[] };
    assert.deepEqual([...new Set(report.verdicts.map((v) => v.host))], ["d2"]);
    assert.equal(report.verdicts.find((v) => v.check === "hostname-unique")?.status, "ok", "alone, d2's hostname is unique");
    const none = run("npx", ["zx", "doctor", "-i", inv, "--limit", "nosuchhost"]);
    assert.equal(none.status, 1);
    assert.match(none.output, /--limit "nosuchhost" matches no host to check/);
    assert.doesNotMatch(none.output, /    at /, "no stack trace for a user mistake");
    const bad = run("npx", ["zx", "doctor", "--bogus"]);
    assert.equal(bad.status, 5);
    assert.match(bad.output, /unknown option "--bogus"/);
  });

  test("Deno (deno run -A scripts/doctor.ts): the same verdicts", { skip: !existsSync(deno) && "deno is not installed (npm ci installs it)" }, () => {
    const inv = inventory();
    const r = run(deno, ["run", "-A", "scripts/doctor.ts", "-i", inv]);
    assert.equal(r.status, 2, r.output);
    assertVerdicts(parseLines(r.stdout), r.output);
  });
});
