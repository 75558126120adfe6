/**
 * The runner as users start it (`zx run`), behind a jump host: the loopback sshd
 * (test/support/sshd.ts) is the jump host, and targets fail behind it. The process must end
 * (exit 4) instead of hanging on the jump connection; an ssh option that would send the
 * connection somewhere else (ProxyCommand) is refused with a message, never ignored. HOME is a
 * temp dir, so the user's own ~/.ssh is never read.
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { useSshd, freePort, sshdAvailable, type Sshd } from "../support/sshd.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const missing = sshdAvailable();
const sshd: Sshd | undefined = missing ? undefined : await useSshd();
const dir = mkdtempSync(join(tmpdir(), "proxy-e2e-"));
after(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, "home"));

const PLAYBOOK = join(dir, "play.yml");
writeFileSync(PLAYBOOK, "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: echo reached\n");

/** An inventory of `hosts` (name -> vars) sharing the loopback sshd's user and key. */
function inventory(name: string, hosts: Record<string, Record<string, unknown>>, vars: Record<string, unknown> = {}): string {
  const file = join(dir, `${name}.yml`);
  const all = { vars: { ansible_user: sshd!.user, ansible_ssh_private_key_file: sshd!.keyFile, ...vars }, hosts };
  writeFileSync(file, JSON.stringify({ all }, null, 2));
  return file;
}

/** `zx run` with a time limit: a process that does not end fails the test instead of hanging it. */
function zxRun(args: string[], home = join(dir, "home")) {
  const started = Date.now();
  const r = spawnSync(join(root, "node_modules", ".bin", "zx"), ["run", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 30_000,
    killSignal: "SIGKILL",
    env: { ...process.env, HOME: home, CI: "true", NO_COLOR: "1", PI_RUNNER_LOADER: "tsx", SSH_AUTH_SOCK: "" },
  });
  return { status: r.status, signal: r.signal, out: r.stdout + r.stderr, ms: Date.now() - started };
}

describe("ProxyJump: a failing target behind the jump host", { skip: missing }, () => {
  test("a refused port and an unknown host key behind the jump host: the run ends with exit 4", async () => {
    const jump = `-J ${sshd!.user}@127.0.0.1:${sshd!.port} -o UserKnownHostsFile=${sshd!.knownHostsFile}`;
    const inv = inventory("jump-fail", {
      refused: { ansible_host: "127.0.0.1", ansible_port: await freePort() },
      // The same sshd, named so that known_hosts has no key for it.
      unknownkey: { ansible_host: "localhost", ansible_port: sshd!.port },
    }, { ansible_ssh_common_args: jump });
    const r = zxRun([PLAYBOOK, "-i", inv]);
    assert.equal(r.signal, null, `the runner did not exit within 30 s:\n${r.out}`);
    assert.equal(r.status, 4, r.out);
    assert.match(r.out, /refused\s+: ok=0\s+changed=0\s+unreachable=1/);
    assert.match(r.out, /unknownkey\s+: ok=0\s+changed=0\s+unreachable=1/);
    assert.match(r.out, /jump host 127\.0\.0\.1 could not reach 127\.0\.0\.1:\d+/);
  });

  test("a target behind the jump host that works still runs", () => {
    const jump = `-J ${sshd!.user}@127.0.0.1:${sshd!.port} -o UserKnownHostsFile=${sshd!.knownHostsFile}`;
    const inv = inventory("jump-ok", { good: { ansible_host: "127.0.0.1", ansible_port: sshd!.port } }, { ansible_ssh_common_args: jump });
    const r = zxRun([PLAYBOOK, "-i", inv]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /good\s+: ok=1\s+changed=1/);
  });
});

describe("ProxyCommand is refused, never ignored", { skip: missing }, () => {
  test("-o ProxyCommand in ansible_ssh_common_args: the host fails with a message, nothing runs there", () => {
    // The address is the reachable loopback sshd: connecting directly would have worked.
    const inv = inventory("proxy-command", { direct: { ansible_host: "127.0.0.1", ansible_port: sshd!.port } }, {
      ansible_ssh_common_args: `-o UserKnownHostsFile=${sshd!.knownHostsFile} -o "ProxyCommand=ssh -W %h:%p bastion.example"`,
    });
    const r = zxRun([PLAYBOOK, "-i", inv]);
    assert.equal(r.signal, null, r.out);
    assert.equal(r.status, 2, r.out);
    assert.match(r.out, /host direct: -o ProxyCommand in the ssh arguments \("ssh -W %h:%p bastion\.example"\) is not supported/);
    assert.match(r.out, /direct\s+: ok=0\s+changed=0\s+unreachable=0\s+failed=1/);
  });
});
