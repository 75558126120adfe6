/**
 * The SSH transport against a real OpenSSH sshd on loopback (test/support/sshd.ts), and the
 * local transport. Host keys live in temp known_hosts files: the user's own are never read
 * or written (useSshConfig false, knownHostsFiles explicit, no agent).
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useSshd, freePort, type Sshd } from "../support/sshd.ts";
import { createTransport, connectionSettingsFromVars, type ConnectionSettings } from "../../scripts/lib/transport/connect.ts";
import { SshTransport } from "../../scripts/lib/transport/ssh.ts";
import { LocalTransport } from "../../scripts/lib/transport/local.ts";
import { UnreachableError, type Transport } from "../../scripts/lib/transport/types.ts";
import { parseKnownHosts } from "../../scripts/lib/transport/known-hosts.ts";

const sshd: Sshd = await useSshd();
const scratch = mkdtempSync(join(tmpdir(), "transport-e2e-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Settings for the loopback sshd, with a known_hosts that already trusts it. */
function settings(extra: Partial<ConnectionSettings> = {}): ConnectionSettings {
  const s = connectionSettingsFromVars("loopback", {
    ansible_host: "127.0.0.1",
    ansible_port: sshd.port,
    ansible_user: sshd.user,
    ansible_ssh_private_key_file: sshd.keyFile,
  });
  return { ...s, knownHostsFiles: [sshd.knownHostsFile], useSshConfig: false, agentSocket: "", warn: () => {}, ...extra };
}

const open: Transport[] = [];
function transport(extra: Partial<ConnectionSettings> = {}): Transport {
  const t = createTransport("loopback", settings(extra));
  open.push(t);
  return t;
}
after(async () => {
  await Promise.all(open.map((t) => t.close()));
});

describe("exec over SSH", () => {
  let t: Transport;
  before(async () => {
    t = transport();
    await t.connect();
  });

  test("keeps rc, stdout and stderr apart", async () => {
    const r = await t.exec("echo out; echo err >&2; exit 3");
    assert.deepEqual(r, { rc: 3, stdout: "out\n", stderr: "err\n" });
  });

  test("a non-zero rc is a result, not an exception", async () => {
    const r = await t.exec("false");
    assert.equal(r.rc, 1);
  });

  test("stdin: binary bytes round-trip (sha256 matches)", async () => {
    const data = randomBytes(256 * 1024);
    const r = await t.exec("cat", { stdin: data });
    // stdout is decoded as utf8, so compare hashes computed on the remote side instead.
    const h = await t.exec("sha256sum | cut -d' ' -f1", { stdin: data });
    assert.equal(h.stdout.trim(), createHash("sha256").update(data).digest("hex"));
    assert.equal(r.rc, 0);
  });

  test("plain commands share one remote shell, and nothing a command does leaks into the next", async () => {
    const ssh = t as SshTransport;
    const before = ssh.shellRuns;
    const home = (await t.exec("pwd")).stdout;
    assert.deepEqual(await t.exec("cd /tmp; X=leaked; set -e; trap 'echo trapped' EXIT; exit 7"), { rc: 7, stdout: "trapped\n", stderr: "" });
    assert.deepEqual(await t.exec('pwd; echo "[$X]"; false; echo still'), { rc: 0, stdout: `${home}[]\nstill\n`, stderr: "" });
    // A syntax error fails that command only (sh reports it, rc 2), the shell goes on.
    const bad = await t.exec("if then fi");
    assert.equal(bad.rc, 2);
    assert.match(bad.stderr, /syntax error|unexpected/i);
    // Output without a final newline, and text that looks like a marker, come back exactly.
    assert.deepEqual(await t.exec("printf abc; printf err >&2"), { rc: 0, stdout: "abc", stderr: "err" });
    assert.equal((await t.exec("printf '\\n@@PI_END_0123456789abcdef 0\\n'")).stdout, "\n@@PI_END_0123456789abcdef 0\n");
    // The command cannot read the shell's own input (the commands after it).
    assert.deepEqual(await t.exec("cat; echo done"), { rc: 0, stdout: "done\n", stderr: "" });
    assert.equal(ssh.shellRuns - before, 7, "every plain command went through the shell");
    // Commands with stdin still take an exec channel.
    assert.equal((await t.exec("cat", { stdin: "in" })).stdout, "in");
    assert.equal(ssh.shellRuns - before, 7);
  });

  test("env is exported inside the command", async () => {
    const r = await t.exec('printf %s "$GREETING"', { env: { GREETING: "it's $HOME\nok" } });
    assert.equal(r.stdout, "it's $HOME\nok");
  });

  test("60 parallel execs on one connection under MaxSessions 10", async () => {
    const ssh = t as SshTransport;
    const retriesBefore = ssh.channelRetries;
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => t.exec(`sleep 0.0$((${i} % 5)); echo ${i}`)));
    results.forEach((r, i) => assert.deepEqual(r, { rc: 0, stdout: `${i}\n`, stderr: "" }));
    assert.equal(ssh.channelRetries, retriesBefore, "the 6-channel cap keeps below MaxSessions: no refusals");
  });

  test("per-command timeout gives rc -1 and says so, and the command is killed", async () => {
    const marker = join(scratch, "not-killed");
    const started = Date.now();
    const r = await t.exec(`sleep 1.5; touch ${marker}`, { timeoutMs: 300 });
    assert.equal(r.rc, -1);
    assert.match(r.stderr, /timed out after 0\.3 s/);
    assert.ok(Date.now() - started < 1200);
    await new Promise((res) => setTimeout(res, 1700));
    assert.equal(existsSync(marker), false, "the timed-out command went on running");
  });

  test("more channels than MaxSessions: refused opens are retried", async () => {
    // maxChannels 16 > MaxSessions 10: sshd refuses some opens; every exec still succeeds.
    const wide = new SshTransport({ host: "loopback", address: "127.0.0.1", port: sshd.port, user: sshd.user, keyFiles: [sshd.keyFile], maxChannels: 16 });
    open.push(wide);
    const results = await Promise.all(Array.from({ length: 48 }, (_, i) => wide.exec(`sleep 0.05; echo ${i}`)));
    results.forEach((r, i) => assert.equal(r.stdout, `${i}\n`));
    assert.ok(wide.channelRetries > 0, "sshd refused no channel: the retry path was not exercised");
  });

  test("latency: sequential no-op execs (median reported)", async () => {
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const a = performance.now();
      await t.exec("true");
      times.push(performance.now() - a);
    }
    times.sort((a, b) => a - b);
    const median = times[100];
    console.log(`# exec("true") x200 over one connection: median ${median.toFixed(2)} ms, p90 ${times[180].toFixed(2)} ms`);
    // Loose bound (shared CI machines); ~3 ms here. Nagle alone would make it ~45 ms.
    assert.ok(median < 30, `median ${median} ms`);
  });
});

describe("become", () => {
  const hasSudo = existsSync("/usr/bin/sudo");
  test("sudo -n wraps the command once; root to root skips sudo", { skip: hasSudo ? false : "sudo is not installed on this machine" }, async () => {
    const t = transport();
    // We connect as root: become root runs without sudo, same output.
    const r = await t.exec("id -un; printf '%s' \"$X\"", { become: {}, env: { X: "a'b" } });
    assert.equal(r.rc, 0, r.stderr);
    assert.equal(r.stdout, `root\na'b`);
    // To another user: through sudo -n.
    const n = await t.exec("id -un", { become: { user: "nobody" } });
    assert.equal(n.rc, 0, n.stderr);
    assert.equal(n.stdout.trim(), "nobody");
    // With a password (root's sudo does not ask): stdin still reaches the command intact.
    const p = await t.exec("id -un; cat", { become: { user: "nobody", password: "secret" }, stdin: "data\n" });
    assert.equal(p.rc, 0, p.stderr);
    assert.equal(p.stdout, "nobody\ndata\n");
    assert.doesNotMatch(p.stdout + p.stderr, /secret|sudo-(prompt|ready)/);
  });
});

describe("host keys", () => {
  test("unknown host key: refused with the fingerprint and the opt-in", async () => {
    const empty = join(scratch, "empty_known_hosts");
    writeFileSync(empty, "");
    const t = transport({ knownHostsFiles: [empty] });
    await assert.rejects(t.connect(), (e: Error) => {
      assert.ok(e instanceof UnreachableError);
      assert.match(e.message, /host key for loopback \(127\.0\.0\.1:\d+\) is not known/);
      assert.match(e.message, /SHA256:[A-Za-z0-9+/]{43}/);
      assert.match(e.message, /--accept-new-host-keys/);
      assert.match(e.message, /ssh-keyscan/);
      return true;
    });
    assert.equal(readFileSync(empty, "utf8"), "", "nothing recorded without the opt-in");
  });

  test("accept-new records the key (hashed) and the next connection works without the opt-in", async () => {
    const file = join(scratch, "accept_known_hosts");
    const first = transport({ knownHostsFiles: [file], acceptNewHostKeys: true, hashKnownHosts: true });
    await first.connect();
    const entries = parseKnownHosts(readFileSync(file, "utf8"));
    assert.equal(entries.length, 1);
    assert.ok(entries[0].hashed, "recorded hashed");
    assert.equal(entries[0].key.toString("base64"), sshd.hostKeyPublic.split(" ")[1]);
    const second = transport({ knownHostsFiles: [file] });
    await second.connect();
    assert.equal((await second.exec("echo ok")).stdout, "ok\n");
  });

  test("a changed key is refused loudly, even with accept-new", async () => {
    const file = join(scratch, "changed_known_hosts");
    writeFileSync(file, `[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n`);
    const t = transport({ knownHostsFiles: [file], acceptNewHostKeys: true });
    await assert.rejects(t.connect(), /HOST KEY FOR loopback \(127\.0\.0\.1:\d+\) HAS CHANGED[\s\S]*man-in-the-middle[\s\S]*ssh-keygen -R/);
    assert.equal(parseKnownHosts(readFileSync(file, "utf8")).length, 1, "the old key is left alone");
  });

  test("StrictHostKeyChecking=no in ansible_ssh_common_args: accepted with a warning", async () => {
    const file = join(scratch, "nostrict_known_hosts");
    const warnings: string[] = [];
    const t = transport({ knownHostsFiles: [file], sshArgs: "-o StrictHostKeyChecking=no", warn: (m) => warnings.push(m) });
    await t.connect();
    assert.ok(warnings.some((w) => /StrictHostKeyChecking=no/.test(w)), warnings.join("\n"));
  });

  test("UserKnownHostsFile=/dev/null + StrictHostKeyChecking=no: no recorded key is trusted or written", async () => {
    const file = join(scratch, "devnull_defaults");
    writeFileSync(file, `[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n`);
    const warnings: string[] = [];
    const t = transport({ knownHostsFiles: [file], sshArgs: "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no", warn: (m) => warnings.push(m) });
    await t.connect();
    assert.match(warnings.join("\n"), /host key checking is off/);
    assert.equal(parseKnownHosts(readFileSync(file, "utf8")).length, 1);
  });

  test("UserKnownHostsFile from ssh args is consulted", async () => {
    const t = transport({ knownHostsFiles: [join(scratch, "does-not-exist")], sshArgs: `-o UserKnownHostsFile=${sshd.knownHostsFile}` });
    await t.connect();
  });
});

describe("unreachable", () => {
  test("connection refused: UnreachableError in well under 2 s", async () => {
    const port = await freePort();
    const t = transport({ port });
    const started = Date.now();
    await assert.rejects(t.connect(), (e: Error) => {
      assert.ok(e instanceof UnreachableError);
      assert.equal(e.message, `connection refused on 127.0.0.1:${port}`);
      return true;
    });
    assert.ok(Date.now() - started < 2000);
  });

  test("a silent port: timed out after the connect timeout", async () => {
    // A listener that never speaks SSH: the handshake times out.
    const server: Server = createServer(() => {});
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const t = transport({ port, connectTimeoutMs: 500 });
      await assert.rejects(t.connect(), /timed out after 0\.5 s/);
    } finally {
      server.close();
    }
  });

  test("authentication failure names the user and what was tried", async () => {
    const otherKey = join(scratch, "other_key");
    const { spawnSync } = await import("node:child_process");
    spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", otherKey]);
    const t = transport({ privateKeyFile: otherKey });
    await assert.rejects(t.connect(), (e: Error) => {
      assert.ok(e instanceof UnreachableError);
      assert.match(e.message, new RegExp(`authentication failed for user ${sshd.user} .*tried key ${otherKey}`));
      return true;
    });
  });

  test("encrypted key without passphrase: a clear error", async () => {
    const key = join(scratch, "encrypted_key");
    const { spawnSync } = await import("node:child_process");
    spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "hunter2", "-f", key]);
    const t = transport({ privateKeyFile: key });
    await assert.rejects(t.connect(), /encrypted with a passphrase.*ssh-add/);
  });
});

describe("ssh-agent", () => {
  const hasAgent = existsSync("/usr/bin/ssh-agent") && existsSync("/usr/bin/ssh-add");
  test("authenticates with a key held only by the agent", { skip: hasAgent ? false : "ssh-agent not installed" }, async () => {
    const { spawn, spawnSync } = await import("node:child_process");
    const socket = join(scratch, "agent.sock");
    // -D: foreground, so the PID we hold is the agent's and we end it ourselves.
    const agent = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
    try {
      for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 20));
      const added = spawnSync("ssh-add", [sshd.keyFile], { env: { ...process.env, SSH_AUTH_SOCK: socket }, encoding: "utf8" });
      assert.equal(added.status, 0, added.stderr);
      const t = new SshTransport({ host: "loopback", address: "127.0.0.1", port: sshd.port, user: sshd.user, agent: socket, keyFiles: [] });
      open.push(t);
      await t.connect();
      assert.equal((await t.exec("echo agent")).stdout, "agent\n");
    } finally {
      agent.kill("SIGTERM");
    }
  });
});

describe("reconnect", () => {
  test("after the sshd restarts on the same port (refused for a while, then back)", async () => {
    const t = transport();
    await t.connect();
    assert.equal((await t.exec("echo before")).stdout, "before\n");
    // A command running when the host goes down: UnreachableError, not a silent rc -1.
    const running = t.exec("sleep 5").then(
      (r) => r,
      (e: Error) => e,
    );
    await new Promise((r) => setTimeout(r, 200));
    await sshd.kill();
    const outcome = await running;
    assert.ok(outcome instanceof UnreachableError, `expected UnreachableError, got ${JSON.stringify(outcome)}`);
    assert.match(outcome.message, /lost the SSH connection to 127\.0\.0\.1:\d+/);
    // And the next exec too (the port refuses now).
    await assert.rejects(t.exec("echo during"), UnreachableError);
    const restarted = new Promise<void>((resolve, reject) => setTimeout(() => sshd.restart().then(resolve, reject), 800));
    try {
      await t.reconnect({ timeoutMs: 15_000 });
    } finally {
      await restarted;
    }
    assert.equal((await t.exec("echo after")).stdout, "after\n");
  });

  test("reconnect to a new address (static IP step): host key checked under the new address", async () => {
    const t = transport({ address: "127.0.0.9" });
    await assert.rejects(t.connect(), /connection refused on 127\.0\.0\.9/);
    await t.reconnect({ address: "127.0.0.1", timeoutMs: 2000 });
    assert.equal((await t.exec("echo moved")).stdout, "moved\n");
  });

  test("reconnect gives up after its timeout with the reason", async () => {
    const port = await freePort();
    const t = transport({ port });
    const started = Date.now();
    await assert.rejects(t.reconnect({ timeoutMs: 1200 }), /connection refused/);
    assert.ok(Date.now() - started >= 1000);
  });
});

describe("ProxyJump", () => {
  test("through the same loopback sshd (jump to itself), -J in ssh args", async () => {
    const t = transport({ sshArgs: `-J ${sshd.user}@127.0.0.1:${sshd.port} -o UserKnownHostsFile=${sshd.knownHostsFile}` });
    await t.connect();
    const r = await t.exec("echo $SSH_CONNECTION");
    // The target sees the connection coming from the jump host's forwarded channel.
    assert.equal(r.rc, 0);
    assert.match(r.stdout, /^127\.0\.0\.1 \d+ 127\.0\.0\.1 \d+/);
    assert.ok(t instanceof SshTransport);
  });

  test("the jump host cannot reach the target: says which hop failed", async () => {
    const port = await freePort();
    const t = transport({ port, sshArgs: `-J ${sshd.user}@127.0.0.1:${sshd.port} -o UserKnownHostsFile=${sshd.knownHostsFile}` });
    const started = Date.now();
    await assert.rejects(t.connect(), (e: Error) => {
      assert.ok(e instanceof UnreachableError);
      assert.match(e.message, new RegExp(`jump host 127\\.0\\.0\\.1 could not reach 127\\.0\\.0\\.1:${port}`));
      return true;
    });
    assert.ok(Date.now() - started < 2000, "a refused forward is not retried like a MaxSessions refusal");
  });

  test("ProxyJump from ~/.ssh/config (via -F)", async () => {
    const config = join(scratch, "ssh_config");
    writeFileSync(config, [`Host jumpbox`, `  HostName 127.0.0.1`, `  Port ${sshd.port}`, `  User ${sshd.user}`, `  IdentityFile ${sshd.keyFile}`, `Host 127.0.0.*`, `  ProxyJump jumpbox`, ""].join("\n"));
    const t = transport({ useSshConfig: true, sshArgs: `-F ${config}` });
    await t.connect();
    assert.equal((await t.exec("echo via")).stdout, "via\n");
  });
});

describe("become with a password (a stand-in sudo that really prompts)", () => {
  // A fake `sudo` first on PATH: prompts with -p on stderr, reads one line, checks it, then
  // runs the command. Exercises the prompt/ready dance and stdin hand-over for real, without
  // creating users or changing sudoers on this machine.
  const bin = join(scratch, "fake-sudo-bin");
  const savedPath = process.env.PATH;
  before(() => {
    mkdirSync(bin, { recursive: true });
    writeFileSync(
      join(bin, "sudo"),
      [
        "#!/bin/sh",
        'prompt=""; nonint=""',
        'while [ $# -gt 0 ]; do case "$1" in -p) prompt="$2"; shift 2;; -u) shift 2;; -n) nonint=1; shift;; -S) shift;; --) shift; break;; *) break;; esac; done',
        'if [ -n "$nonint" ]; then echo "sudo: a password is required" >&2; exit 1; fi',
        'for try in 1 2 3; do printf "%s" "$prompt" >&2; IFS= read -r pw || exit 1; if [ "$pw" = "right" ]; then exec "$@"; fi; echo "Sorry, try again." >&2; done',
        'echo "sudo: 3 incorrect password attempts" >&2; exit 1',
        "",
      ].join("\n"),
    );
    chmodSync(join(bin, "sudo"), 0o755);
    process.env.PATH = `${bin}:${savedPath}`;
  });
  after(() => {
    process.env.PATH = savedPath;
  });

  test("the password goes to sudo's prompt, the command still gets its own stdin", async () => {
    const t = new LocalTransport("localhost");
    const r = await t.exec("cat; echo done >&2", { become: { user: "nobody", password: "right" }, stdin: "payload\n" });
    assert.deepEqual(r, { rc: 0, stdout: "payload\n", stderr: "done\n" });
  });

  test("a wrong password: stopped after sudo asks again, explained", async () => {
    const t = new LocalTransport("localhost");
    const r = await t.exec("echo never", { become: { user: "nobody", password: "wrong" }, timeoutMs: 5000 });
    assert.notEqual(r.rc, 0);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /incorrect become password/);
    assert.doesNotMatch(r.stderr, /wrong|sudo-prompt/);
  });

  test("no password but sudo needs one: a clear failure", async () => {
    const t = new LocalTransport("localhost");
    const r = await t.exec("echo never", { become: { user: "nobody" } });
    assert.equal(r.rc, 1);
    assert.match(r.stderr, /^become \(sudo to nobody\) needs a password: pass --ask-become-pass \(-K\) or set ansible_become_password/);
  });
});

describe("LocalTransport", () => {
  const t = new LocalTransport("localhost");
  test("rc, stdout, stderr, stdin, env", async () => {
    assert.deepEqual(await t.exec("echo o; echo e >&2; exit 4"), { rc: 4, stdout: "o\n", stderr: "e\n" });
    assert.equal((await t.exec("cat", { stdin: "in" })).stdout, "in");
    assert.equal((await t.exec('printf %s "$V"', { env: { V: "x'y" } })).stdout, "x'y");
  });
  test("timeout kills the command group", async () => {
    const r = await t.exec("sleep 5; echo no", { timeoutMs: 200 });
    assert.equal(r.rc, -1);
    assert.match(r.stderr, /timed out/);
  });
  test("become to another user via sudo", { skip: existsSync("/usr/bin/sudo") ? false : "sudo is not installed on this machine" }, async () => {
    const r = await t.exec("id -un", { become: { user: "nobody" } });
    assert.equal(r.stdout.trim(), "nobody", r.stderr);
  });
});
