/**
 * The runner survives a host that fails under it (issue 14), end to end: `node scripts/play.ts`
 * against two throwaway sshds on loopback (test/support/sshd.ts), `broken` and `healthy`. The
 * faults are made on the sshd we started, by PID: frozen (SIGSTOP: the host stops answering
 * with its TCP connection open), killed mid-task (a reboot), given a new host key (a reflash),
 * a full filesystem under the file a task writes. Each time: the affected host ends
 * unreachable or failed with a reason that names the task and what to do, within a bounded
 * time; the other host completes; the exit code is ansible-playbook's; nothing is half-written;
 * and the printed retry flag re-runs only the hosts that did not complete.
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startSshd, sshdAvailable, type Sshd } from "../support/sshd.ts";
import { createTransport, connectionSettingsFromVars } from "../../scripts/lib/transport/connect.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const missing = sshdAvailable();
const dir = mkdtempSync(join(tmpdir(), "faults-e2e-"));
const started: Sshd[] = [];
after(async () => {
  await Promise.all(started.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

async function sshd(options: Parameters<typeof startSshd>[0] = {}): Promise<Sshd> {
  const s = await startSshd(options);
  started.push(s);
  return s;
}

/** An inventory line block for one host on a loopback sshd (its own known_hosts, a fast keepalive). */
function hostEntry(name: string, s: Sshd, extraArgs = ""): string {
  return [
    `        ${name}:`,
    "          ansible_host: 127.0.0.1",
    `          ansible_port: ${s.port}`,
    `          ansible_user: ${s.user}`,
    `          ansible_ssh_private_key_file: ${s.keyFile}`,
    `          ansible_ssh_common_args: -o UserKnownHostsFile=${s.knownHostsFile}${extraArgs ? ` ${extraArgs}` : ""}`,
  ].join("\n");
}

function inventory(file: string, hosts: string[]): string {
  writeFileSync(file, ["all:", "  children:", "    nodes:", "      hosts:", ...hosts].join("\n") + "\n");
  return file;
}

interface Run {
  status: number | null;
  output: string;
  ms: number;
}

/** Runs the runner as a user would; `during` runs while it does (the fault), with the live output so far. */
async function runner(args: string[], during?: (output: () => string) => Promise<void>, env: Record<string, string> = {}): Promise<Run> {
  const t0 = Date.now();
  // From the scratch folder (paths show relative to it); HOME there too: no ansible.cfg or ssh config of the user's.
  const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), join(root, "scripts", "play.ts"), ...args], {
    cwd: dir,
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("ANSIBLE_"))), CI: "true", NO_COLOR: "1", HOME: dir, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (b: Buffer) => (output += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (output += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (status) => resolve(status)));
  // Bounded: a runner that hangs is a failure of this test, not a stuck CI.
  const guard = setTimeout(() => child.kill("SIGKILL"), 120_000);
  try {
    if (during) await during(() => output);
    const status = await exited;
    return { status, output, ms: Date.now() - t0 };
  } finally {
    clearTimeout(guard);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The PLAY RECAP line of a host as counters. */
function recap(output: string, host: string): Record<string, number> {
  const line = output.split("\n").find((l) => l.startsWith(`${host} `) && l.includes(" : ok="));
  assert.ok(line, `no recap line for ${host}\n${output}`);
  return Object.fromEntries([...line.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
}

/** The `--limit ...` of the printed retry command, as words (the value is single-quoted when it needs to be). */
function retryLimit(output: string): string {
  const m = /--limit (\S+)\s*$/m.exec(output.split("\n").filter((l) => /--limit/.test(l)).pop() ?? "");
  assert.ok(m, `no retry command with --limit printed\n${output}`);
  return m[1].replace(/^'(.*)'$/, "$1");
}

/** A playbook: a first task, then one that marks on the target that it started and lasts a while, then a last task. */
function playbook(file: string, marker: string, seconds: number): string {
  writeFileSync(
    file,
    `- hosts: nodes
  gather_facts: false
  tasks:
    - name: Before the fault
      command: "true"
    - name: Work that outlasts the fault
      shell: "touch ${marker}-{{ inventory_hostname }}; sleep ${seconds}"
    - name: After the fault
      command: "true"
`,
  );
  return file;
}

describe("a host that fails mid-run", { skip: missing, concurrency: false }, () => {
  let broken: Sshd;
  let healthy: Sshd;
  before(async () => {
    broken = await sshd();
    healthy = await sshd();
  });

  test("hang (sshd stopped, TCP open): unreachable after the keepalive limit, naming the task; the other host completes; exit 4; the retry flag re-runs only it", async () => {
    const marker = join(dir, "hang");
    const hosts = inventory(join(dir, "hang.yml"), [hostEntry("broken", broken, "-o ServerAliveInterval=1 -o ServerAliveCountMax=2"), hostEntry("healthy", healthy)]);
    const site = playbook(join(dir, "hang-site.yml"), marker, 3);
    let frozenAt = 0;
    let run: Run;
    try {
      run = await runner([site, "-i", hosts], async (output) => {
        await until("the task to start on broken", () => existsSync(`${marker}-broken`));
        broken.freeze();
        frozenAt = Date.now();
        await until("broken to be given up", () => /unreachable: \[broken\]/.test(output()), 60_000);
      });
    } finally {
      broken.thaw();
    }
    const givenUpAfter = Date.now() - frozenAt;
    assert.equal(run.status, 4, run.output);
    // 1 s x 2 keepalives: given up within a few seconds, not the 45 s default, never hanging.
    assert.ok(givenUpAfter < 20_000, `took ${givenUpAfter} ms after the freeze\n${run.output}`);
    assert.match(run.output, /unreachable: \[broken\] Work that outlasts the fault \(hang-site\.yml:\d+\) — lost the SSH connection while the command ran: no answer from 127\.0\.0\.1:\d+ for \d+ s/);
    assert.match(run.output, /ServerAliveInterval x ServerAliveCountMax \(now 1 s x 2\)/);
    assert.deepEqual(
      { ...recap(run.output, "broken") },
      { ok: 1, changed: 1, unreachable: 1, failed: 0, skipped: 0, rescued: 0, ignored: 0 },
    );
    assert.equal(recap(run.output, "healthy").ok, 3, "the healthy host ran every task");
    assert.doesNotMatch(run.output, /\n\s+at |internal error|Error: /, "no stack trace or raw error");

    // The retry: only the host that did not complete runs.
    assert.equal(retryLimit(run.output), "broken");
    const retry = await runner([site, "-i", hosts, "--limit", retryLimit(run.output)]);
    assert.equal(retry.status, 0, retry.output);
    assert.equal(recap(retry.output, "broken").ok, 3);
    assert.doesNotMatch(retry.output, /^healthy /m, "the retry ran only the failed host");
  });

  test("hung before the run (TCP accepted, no SSH banner): unreachable after the connect timeout (ANSIBLE_TIMEOUT), the other host completes", async () => {
    const hosts = inventory(join(dir, "hung.yml"), [hostEntry("broken", broken), hostEntry("healthy", healthy)]);
    const site = playbook(join(dir, "hung-site.yml"), join(dir, "hung"), 0);
    broken.freeze();
    let run: Run;
    try {
      run = await runner([site, "-i", hosts], undefined, { ANSIBLE_TIMEOUT: "2" });
    } finally {
      broken.thaw();
    }
    assert.equal(run.status, 4, run.output);
    assert.match(run.output, /unreachable: \[broken\] Before the fault \(hung-site\.yml:\d+\) — timed out after 2 s during the SSH handshake with 127\.0\.0\.1:\d+/);
    assert.match(run.output, /The limit \(now 2 s\) is timeout in ansible\.cfg, ANSIBLE_TIMEOUT or a host's ansible_ssh_timeout/);
    assert.equal(recap(run.output, "healthy").ok, 3);
    assert.ok(run.ms < 30_000, `took ${run.ms} ms`);
  });

  test("sshd killed mid-task (a reboot): unreachable with the task and the reason, not failed; the other host completes; exit 4", async () => {
    const marker = join(dir, "killed");
    const hosts = inventory(join(dir, "killed.yml"), [hostEntry("broken", broken), hostEntry("healthy", healthy)]);
    const site = playbook(join(dir, "killed-site.yml"), marker, 3);
    let run: Run;
    try {
      run = await runner([site, "-i", hosts], async () => {
        await until("the task to start on broken", () => existsSync(`${marker}-broken`));
        await broken.kill();
      });
    } finally {
      await broken.restart();
    }
    assert.equal(run.status, 4, run.output);
    assert.match(run.output, /unreachable: \[broken\] Work that outlasts the fault \(killed-site\.yml:\d+\) — lost the SSH connection to 127\.0\.0\.1:\d+ while the command ran/);
    assert.match(run.output, /When the node answers again, run again \(a playbook run prints the --limit that retries only such hosts after its recap\)/);
    assert.equal(recap(run.output, "broken").unreachable, 1);
    assert.equal(recap(run.output, "broken").failed, 0);
    assert.equal(recap(run.output, "healthy").ok, 3);
    assert.doesNotMatch(run.output, /\n\s+at |internal error|Error: /);
  });

  test("exit codes as ansible-playbook's: 2 when a host failed, 4 when one is unreachable (even if another failed)", async () => {
    const hosts = inventory(join(dir, "codes.yml"), [hostEntry("broken", broken), hostEntry("healthy", healthy)]);
    const fails = join(dir, "fails.yml");
    writeFileSync(fails, `- hosts: nodes\n  gather_facts: false\n  tasks:\n    - name: Fail on one host\n      command: "false"\n      when: inventory_hostname == 'broken'\n`);
    const failed = await runner([fails, "-i", hosts]);
    assert.equal(failed.status, 2, failed.output);
    assert.equal(retryLimit(failed.output), "broken");
    // Ansible's retry files, when asked for: <playbook>.retry beside it, and --limit @file.
    const withFile = await runner([fails, "-i", hosts], undefined, { ANSIBLE_RETRY_FILES_ENABLED: "True" });
    assert.equal(withFile.status, 2, withFile.output);
    assert.equal(readFileSync(join(dir, "fails.retry"), "utf8"), "broken\n");
    assert.equal(retryLimit(withFile.output), "@fails.retry");
    const retried = await runner([fails, "-i", hosts, "--limit", "@fails.retry"]);
    assert.match(retried.output, /failed: \[broken\]/);
    assert.doesNotMatch(retried.output, /\[healthy\]/, "only the host in the retry file ran");
    // One host failed, one refuses connections: unreachable wins, as in Ansible.
    const down = await sshd();
    await down.kill();
    const both = inventory(join(dir, "codes-both.yml"), [hostEntry("healthy", healthy), hostEntry("down", down)]);
    const mixed = join(dir, "mixed.yml");
    writeFileSync(mixed, `- hosts: nodes\n  gather_facts: false\n  tasks:\n    - name: Fail on healthy\n      command: "false"\n`);
    const run = await runner([mixed, "-i", both]);
    assert.equal(run.status, 4, run.output);
    assert.match(run.output, /unreachable: \[down\] Fail on healthy .*connection refused on 127\.0\.0\.1:\d+/);
    assert.equal(retryLimit(run.output), "down,healthy");
  });
});

describe("a changed host key (a reflashed node)", { skip: missing }, () => {
  test("refused with the host, the new fingerprint, the known_hosts line and the command to accept it; nothing runs; following it works", async () => {
    const node = await sshd();
    const hosts = inventory(join(dir, "rekey.yml"), [hostEntry("reflashed", node)]);
    const marker = join(dir, "rekey-ran");
    const site = join(dir, "rekey-site.yml");
    writeFileSync(site, `- hosts: nodes\n  gather_facts: false\n  tasks:\n    - name: Touch a marker\n      command: touch ${marker}\n`);
    const knownBefore = readFileSync(node.knownHostsFile, "utf8");
    await node.rekey();
    const pub = readFileSync(join(node.dir, "host_key.pub"), "utf8").trim().split(/\s+/)[1];
    const newFingerprint = "SHA256:" + createHash("sha256").update(Buffer.from(pub, "base64")).digest("base64").replace(/=+$/, "");

    for (const extra of [[], ["--accept-new-host-keys"]]) {
      const run = await runner([site, "-i", hosts, ...extra]);
      assert.equal(run.status, 4, run.output);
      assert.match(run.output, /unreachable: \[reflashed\] Touch a marker .*HOST KEY FOR reflashed \(127\.0\.0\.1:\d+\) HAS CHANGED/);
      assert.ok(run.output.includes(newFingerprint), `the new fingerprint ${newFingerprint} is named\n${run.output}`);
      assert.ok(run.output.includes(`${node.knownHostsFile}:1`), `the known_hosts file and line are named\n${run.output}`);
      assert.equal(existsSync(marker), false, "nothing ran on the host");
      assert.equal(readFileSync(node.knownHostsFile, "utf8"), knownBefore, "known_hosts untouched");
    }
    // The printed way to accept it works as printed.
    const run = await runner([site, "-i", hosts]);
    const command = /ssh-keygen -R .*$/m.exec(run.output)?.[0];
    assert.ok(command, run.output);
    const removed = spawnSync("sh", ["-c", command.replace(/, then .*$/, "")], { encoding: "utf8" });
    assert.equal(removed.status, 0, removed.stderr);
    assert.match(run.output, /then run again with --accept-new-host-keys/);
    const accepted = await runner([site, "-i", hosts, "--accept-new-host-keys"]);
    assert.equal(accepted.status, 0, accepted.output);
    assert.ok(existsSync(marker));
    assert.ok(readFileSync(node.knownHostsFile, "utf8").includes(pub), "the new key is recorded");
  });
});

const isRoot = process.getuid?.() === 0;
describe("disk full on the target", { skip: missing ?? (isRoot ? false : "needs root for the sshd's private tmpfs") }, () => {
  test("the copy fails with 'no space left on device' naming the path; the original is intact; no temp file; exit 2", async () => {
    const small = join(dir, "small");
    // A 1 MB filesystem that only the sshd's sessions see (its private mount namespace).
    const node = await sshd({ namespaceSetup: [`mkdir -p '${small}'`, `mount -t tmpfs -o size=1m none '${small}'`] });
    const t = createTransport("full", {
      ...connectionSettingsFromVars("full", { ansible_host: "127.0.0.1", ansible_port: node.port, ansible_user: node.user, ansible_ssh_private_key_file: node.keyFile }),
      knownHostsFiles: [node.knownHostsFile],
      useSshConfig: false,
      agentSocket: "",
    });
    after(() => t.close());
    const victim = `${small}/app.conf`;
    const original = "ORIGINAL\n";
    const setup = await t.exec(`printf '${original.replace("\n", "\\n")}' > ${victim} && head -c 900k /dev/zero > ${small}/filler && df -k ${small}`);
    assert.equal(setup.rc, 0, setup.stderr);
    writeFileSync(join(dir, "big.conf"), randomBytes(300 * 1024));
    const site = join(dir, "full-site.yml");
    writeFileSync(site, `- hosts: nodes\n  gather_facts: false\n  tasks:\n    - name: Write the new configuration\n      copy:\n        src: big.conf\n        dest: ${victim}\n`);
    const hosts = inventory(join(dir, "full.yml"), [hostEntry("full", node)]);
    const run = await runner([site, "-i", hosts]);
    assert.equal(run.status, 2, run.output);
    assert.match(run.output, new RegExp(`failed: \\[full\\] Write the new configuration .*Cannot write ${victim}: no space left on device on the node`));
    assert.match(run.output, new RegExp(`${victim} was left as it was`));
    assert.match(run.output, /Free some space there \(df -h .*\) and run again/);
    const after_ = await t.exec(`cat ${victim}; ls -A ${small}`);
    assert.equal(after_.stdout, `${original}app.conf\nfiller\n`, "the original is intact and no temp file stayed");
  });
});
