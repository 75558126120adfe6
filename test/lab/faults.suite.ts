/**
 * Faults on purpose (issue 14): each of the lab's eight faults is injected into one node of a
 * run of test/faults/app.yml (a template, a data file, packages, a release marker on three
 * nodes), and the run must survive it:
 *
 *   - the broken host ends unreachable or failed, with a reason naming the host, the task and
 *     what happened, within a bounded time (hang and link too: keepalive 3 s x 3 here);
 *   - the other hosts complete the run; the exit code is Ansible's (2 failed, 4 unreachable);
 *   - every file the run was writing on the broken node holds the old or the new content
 *     (sha256 after the heal), never a mix, and the new content once re-run;
 *   - after `heal`, a re-run converges that host, and the run after it has changed=0;
 *   - rekey: the run refuses the host with its new fingerprint and how to accept it; doing what
 *     it says (ssh-keygen -R, then --accept-new-host-keys) lets the retry converge the host.
 *
 * The fixed point: faults that hit a running task (down, sshd-kill, link, reboot, hang) are
 * injected while the data file's write holds at a gate (its validate step: the new content is
 * whole in a temp file, the old file untouched) on that node only; the suite waits for the
 * gate's marker, injects, then opens the gate. The others (disk-full, apt-down, rekey) are in
 * place before the run starts. No sleep decides anything.
 *
 * Fresh nodes of its own (prefix piflt, 10.213.11.0/24), always taken down. Standalone:
 * `node --import tsx --test test/lab/faults.suite.ts`.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { bootLab, labAvailable, type Lab, type LabNodeRequest } from "../support/lab.ts";
import { labNames, namedLabConfig } from "../../scripts/lib/lab/config.ts";
import { healNode, injectFault } from "../../scripts/lib/lab/fault/index.ts";
import type { FaultKind, FaultOptions } from "../../scripts/lib/lab/fault/types.ts";
import { readState } from "../../scripts/lib/lab/state.ts";
import { runCommand } from "../support/run-command.ts";
import { readJsonReport, type JsonReport } from "../support/json-report.ts";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const PLAYBOOK = "test/faults/app.yml";
const CONFIG = namedLabConfig("test-lab-flt", "piflt", 11);
const SPEC: { nodes: LabNodeRequest[] } = { nodes: [{ name: "f1" }, { name: "f2" }, { name: "f3" }] };
/** Keepalive for this suite's runs: a silent host is given up after about 3 s x 3. */
const ALIVE = { interval: 3, count: 3 };
/** A fault run ends within this after the fault (keepalive, a connect timeout, the rest of the play). */
const FAULT_BOUND_MS = 90_000;
const RUN_TIMEOUT_MS = 4 * 60_000;
const APP = "/opt/fault-app";
const FILES = ["app.conf", "data.bin", "deployed"];
const WRITE_TASK = "Write the app data";

const reason = await labAvailable(SPEC, CONFIG);

interface Run {
  code: number | null;
  output: string;
  report?: JsonReport;
  seconds: number;
}

/** How one fault is staged: which node, when, and what the broken host must end as. */
interface Scenario {
  kind: FaultKind;
  node: string;
  /** "mid-write": at the data file's gate; "before": in place before the run starts. */
  at: "mid-write" | "before";
  options?: FaultOptions;
  /** What the host ends as, and the exit code that goes with it. */
  ends: "unreachable" | "failed";
  /** The task the host ends in. */
  task: string;
  /** What the reason must say (besides host and task). */
  says: RegExp;
  /** Packages of this version (apt-down adds one, so apt must reach the proxy). */
  packages?: string[];
}

const LOST = /lost|closed|reset|no answer|timed out|unreachable|refused|keepalive/i;
const SCENARIOS: Scenario[] = [
  { kind: "down", node: "f1", at: "mid-write", ends: "unreachable", task: WRITE_TASK, says: LOST },
  { kind: "sshd-kill", node: "f2", at: "mid-write", ends: "unreachable", task: WRITE_TASK, says: LOST },
  // Longer than the keepalive bound: the host is given up, then the link comes back by itself.
  { kind: "link", node: "f3", at: "mid-write", options: { forMs: 30_000 }, ends: "unreachable", task: WRITE_TASK, says: /no answer|keepalive|timed out/i },
  { kind: "reboot", node: "f1", at: "mid-write", ends: "unreachable", task: WRITE_TASK, says: LOST },
  { kind: "hang", node: "f2", at: "mid-write", ends: "unreachable", task: WRITE_TASK, says: /no answer|keepalive|timed out/i },
  { kind: "disk-full", node: "f3", at: "before", options: { path: APP }, ends: "failed", task: "Write the app configuration", says: /no space left on device/i },
  { kind: "apt-down", node: "f1", at: "before", ends: "failed", task: "Install the app's packages", says: /refused|could not connect|unable to fetch|failed to fetch/i, packages: ["tree", "bc"] },
  { kind: "rekey", node: "f2", at: "before", ends: "unreachable", task: "Install the write gate", says: /HAS CHANGED/ },
];

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The value of `--limit` in the retry command a run printed after its recap. */
function retryLimit(output: string): string {
  const m = /--limit (\S+)\s*$/.exec(output.split("\n").filter((l) => /--limit /.test(l)).pop() ?? "");
  assert.ok(m, `the run printed no retry command (--limit HOSTS)\n${output}`);
  return m[1].replace(/^'(.*)'$/, "$1");
}

/** Runs the `ssh-keygen -R HOST -f FILE` a changed-key refusal prints (as argv: no shell). */
function removeOldKeyAsAdvised(msg: string): void {
  const unquote = (w: string) => w.replace(/^'(.*)'$/, "$1");
  const commands = [...msg.matchAll(/ssh-keygen -R (\S+) -f (\S+?)(?=,| &&|\s|$)/g)];
  assert.ok(commands.length > 0, `no ssh-keygen -R command in the refusal\n${msg}`);
  for (const [, host, file] of commands) {
    const r = spawnSync("ssh-keygen", ["-R", unquote(host), "-f", unquote(file)], { encoding: "utf8" });
    assert.equal(r.status, 0, `ssh-keygen -R ${host} -f ${file}: ${r.stderr}`);
    // ssh-keygen keeps the previous file as FILE.old: not the lab's to keep.
    rmSync(`${unquote(file)}.old`, { force: true });
  }
}

function statuses(report: JsonReport | undefined, host: string): Array<{ task: string; status: string; msg: string }> {
  return (report?.plays ?? []).flatMap((p) =>
    p.tasks.flatMap((t) => {
      const r = t.task && t.hosts[host];
      if (!r) return [];
      const status = r.unreachable ? "unreachable" : r.failed ? "failed" : r.skipped ? "skipped" : r.changed ? "changed" : "ok";
      return [{ task: t.task.name, status, msg: typeof r.msg === "string" ? r.msg : JSON.stringify(r.msg ?? "") }];
    }),
  );
}

describe("faults: every run survives a node broken on purpose", { skip: reason ? `no lab: ${reason}` : false, concurrency: false }, () => {
  let lab: Lab | undefined;
  let dir: string;
  let inventory: string;
  let version = 1;
  let packages = ["tree"];
  let runs = 0;
  const t0 = Date.now();

  /** A node's file as its root file system holds it (read on the host: works while the node is down). */
  const rootfs = (node: string, path: string) => join(CONFIG.dir, "nodes", node, "rootfs", path.replace(/^\//, ""));
  const fileSums = (node: string): Record<string, string | undefined> =>
    Object.fromEntries(FILES.map((f) => [f, existsSync(rootfs(node, `${APP}/${f}`)) ? sha256(readFileSync(rootfs(node, `${APP}/${f}`))) : undefined]));
  /** Temp files a write left in the app folder (only a killed write script leaves one). */
  const leftovers = (node: string) => (existsSync(rootfs(node, APP)) ? readdirSync(rootfs(node, APP)).filter((f) => f.startsWith(".")) : []);
  const marker = (node: string, name: "hold" | "held" | "go") => rootfs(node, `/var/tmp/fault-${name}`);
  const clearMarkers = (node: string) => {
    for (const m of ["hold", "held", "go"] as const) rmSync(marker(node, m), { force: true });
  };
  const dataFile = (v: number) => join(dir, `data-${v}.bin`);

  before(
    async () => {
      dir = mkdtempSync(join(tmpdir(), "pi-faults-"));
      lab = await bootLab(SPEC, { config: CONFIG });
      // The lab's inventory, with the keepalive this suite bounds hang and link by.
      const inv = parse(readFileSync(lab.inventoryFile, "utf8")) as { all: { children: { lab: { hosts: Record<string, Record<string, string>> } } } };
      for (const vars of Object.values(inv.all.children.lab.hosts)) {
        vars.ansible_ssh_common_args += ` -o ServerAliveInterval=${ALIVE.interval} -o ServerAliveCountMax=${ALIVE.count}`;
      }
      inventory = join(dir, "inventory.yml");
      writeFileSync(inventory, stringify(inv));
    },
    { timeout: 20 * 60_000 },
  );

  after(async () => {
    if (lab) await lab.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
    process.stderr.write(`# faults lab: ${runs} runs, ${((Date.now() - t0) / 1000).toFixed(0)} s in all\n`);
  });

  /** One run of the app playbook at the current version (`extra`: more flags); `during` runs while it does. */
  async function play(label: string, options: { extra?: string[]; during?: (running: () => boolean) => Promise<void> } = {}): Promise<Run> {
    const { extra = [], during } = options;
    if (!existsSync(dataFile(version))) writeFileSync(dataFile(version), randomBytes(2 << 20));
    const json = join(dir, `${label}.json`);
    const args = ["zx", "run", PLAYBOOK, "-i", inventory, "--json", json, "-e", JSON.stringify({ fault_app_version: version, fault_app_data: dataFile(version), fault_app_packages: packages }), ...extra];
    runs++;
    let finished = false;
    const result = runCommand("npx", args, { cwd: repo, env: { CI: "true" }, timeoutMs: RUN_TIMEOUT_MS, killSignal: "SIGTERM" }).then(({ code, output, seconds }): Run => {
      finished = true;
      return { code, output: output.slice(-8000), report: readJsonReport(json), seconds };
    });
    if (during) await during(() => !finished);
    const r = await result;
    process.stderr.write(`# faults lab: ${label}: exit ${r.code} in ${r.seconds.toFixed(1)} s\n`);
    return r;
  }

  /** A run that must change nothing, or converge with no failure. */
  async function clean(label: string, extra: string[] = []): Promise<Run> {
    const r = await play(label, { extra });
    assert.equal(r.code, 0, `${label} failed\n${r.output}`);
    return r;
  }

  test("the app converges on fresh nodes, then a second run changes nothing", { timeout: 2 * RUN_TIMEOUT_MS }, async () => {
    await clean("converge");
    const again = await clean("converge-again");
    for (const node of lab!.nodes) assert.equal(again.report?.stats[node.name]?.changed, 0, `${node.name} changed on the second run\n${again.output}`);
  });

  for (const s of SCENARIOS) {
    test(`${s.kind} on ${s.node}: ${s.ends} with the reason, the others complete, nothing half-written, heal and re-run converge`, { timeout: 3 * RUN_TIMEOUT_MS + FAULT_BOUND_MS }, async () => {
      assert.ok(lab, "the lab is not up");
      try {
        await scenario(s);
      } finally {
        // A failed assertion must not leave the node broken for the next scenario.
        await healNode(CONFIG, s.node, () => {});
        clearMarkers(s.node);
      }
    });
  }

  async function scenario(s: Scenario): Promise<void> {
    assert.ok(lab, "the lab is not up");
    version++;
    if (s.packages) packages = s.packages;
    const old = fileSums(s.node);
    const leftBefore = new Set(leftovers(s.node));
    const others = lab.nodes.map((n) => n.name).filter((n) => n !== s.node);
    clearMarkers(s.node);
    let injectedAt = 0;
    const inject = async () => {
      const said = await injectFault(CONFIG, s.node, s.kind, s.options ?? {}, () => {});
      injectedAt = Date.now();
      process.stderr.write(`# faults lab: ${said}\n`);
    };
    if (s.at === "before") await inject();
    else writeFileSync(marker(s.node, "hold"), "");

    // The gate says the write is under way (new content whole in a temp file, not renamed yet).
    const injectAtGate = async (running: () => boolean) => {
      const deadline = Date.now() + RUN_TIMEOUT_MS;
      while (!existsSync(marker(s.node, "held")) && running() && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      assert.ok(existsSync(marker(s.node, "held")), `${s.node} never reached the write gate`);
      await inject();
      // Open the gate on the node's disk: a node that still runs the write may finish it.
      writeFileSync(marker(s.node, "go"), "");
    };
    const r = await play(s.kind, { during: s.at === "mid-write" ? injectAtGate : undefined });

    // Bounded: the run ends soon after the fault, not at some long default.
    if (s.at === "mid-write") assert.ok(Date.now() - injectedAt < FAULT_BOUND_MS, `the run took ${((Date.now() - injectedAt) / 1000).toFixed(0)} s after the fault`);
    assert.equal(r.code, s.ends === "unreachable" ? 4 : 2, `exit code\n${r.output}`);
    const stats = r.report?.stats ?? {};
    assert.equal(stats[s.node]?.[s.ends === "unreachable" ? "unreachable" : "failures"], 1, `${s.node} should end ${s.ends}\n${r.output}`);
    const mine = statuses(r.report, s.node);
    const last = mine.find((x) => x.status === s.ends);
    assert.equal(last?.task, s.task, `${s.node} should end ${s.ends} in "${s.task}"\n${r.output}`);
    assert.match(last!.msg, s.says, `the reason for ${s.node}`);
    process.stderr.write(`# faults lab: ${s.kind}: ${s.node} ${s.ends} in "${last!.task}" after ${((Date.now() - (injectedAt || Date.now())) / 1000).toFixed(1)} s: ${last!.msg.split("\n")[0]}\n`);
    // A person reads the host, the task and the reason together in the output.
    assert.ok(r.output.split("\n").some((line) => line.includes(s.node) && (line.includes(last!.msg.split("\n")[0].slice(0, 40)) || s.says.test(line))), `the output should name ${s.node} with its reason\n${r.output}`);
    assert.ok(r.output.includes(s.task), `the output should name the task "${s.task}"`);
    for (const other of others) {
      assert.equal(stats[other]?.failures, 0, `${other} failed\n${r.output}`);
      assert.equal(stats[other]?.unreachable, 0, `${other} unreachable\n${r.output}`);
      assert.equal(readFileSync(rootfs(other, `${APP}/deployed`), "utf8"), `${version}\n`, `${other} did not complete the run`);
      assert.equal(fileSums(other)["data.bin"], sha256(readFileSync(dataFile(version))), `${other}: data.bin`);
    }

    if (s.kind === "rekey") {
      // Refused before anything ran, with the new key's fingerprint and how to accept it.
      const fingerprints = (readState(labNames(CONFIG).stateFile)?.nodes.find((n) => n.name === s.node)?.fault as { fingerprints: string[] }).fingerprints;
      assert.ok(fingerprints.some((fp) => last!.msg.includes(fp)), `the refusal should show the new fingerprint (${fingerprints.join(", ")})\n${last!.msg}`);
      assert.match(last!.msg, /ssh-keygen -R /, "the refusal should say how to accept the new key");
      assert.equal(stats[s.node].ok + stats[s.node].changed, 0, `${s.node} ran tasks with a changed host key`);
      assert.deepEqual(fileSums(s.node), old, `${s.node}'s files changed although its host key was refused`);
    }
    if (s.kind === "disk-full") {
      // On the full file system itself: the old file intact, no temp file left behind.
      const seen = await lab.ssh(s.node, `cd ${APP} && sha256sum app.conf && ls -A`);
      assert.equal(seen.rc, 0, seen.stderr);
      assert.equal(seen.stdout.split(/\s+/)[0], old["app.conf"], "app.conf changed on the full file system");
      assert.deepEqual(seen.stdout.trim().split("\n").slice(1).filter((f) => f.startsWith(".") && f !== ".lab-disk-full"), [], "a temp file was left on the full file system");
    }

    // rekey is healed the way the refusal says, as a user would after checking the fingerprint;
    // the lab's own heal (its known_hosts) comes after the runs, in the finally above.
    if (s.kind === "rekey") removeOldKeyAsAdvised(last!.msg);
    else process.stderr.write(`# faults lab: ${await healNode(CONFIG, s.node, () => {})}\n`);
    clearMarkers(s.node);
    // Old or new content, never a mix: the new one is known once the re-run has written it.
    const afterHeal = fileSums(s.node);
    const left = leftovers(s.node).filter((f) => !leftBefore.has(f));
    if (left.length) process.stderr.write(`# faults lab: ${s.kind}: temp files left on ${s.node} (the write script was killed): ${left.join(" ")}\n`);
    // The re-run is the retry the fault run printed: one flag, only the host that did not complete.
    const limit = retryLimit(r.output);
    assert.equal(limit, s.node, `the retry flag should select ${s.node} only`);
    const converge = await clean(`${s.kind}-retry`, ["--limit", limit, ...(s.kind === "rekey" ? ["--accept-new-host-keys"] : [])]);
    assert.deepEqual(Object.keys(converge.report?.stats ?? {}), [s.node], "the retry ran other hosts");
    assert.ok((converge.report?.stats[s.node]?.changed ?? 0) > 0, `the retry should converge ${s.node}\n${converge.output}`);
    const now = fileSums(s.node);
    for (const f of FILES) {
      assert.ok(afterHeal[f] === old[f] || afterHeal[f] === now[f], `${s.node}:${APP}/${f} after the fault is neither the old nor the new content`);
      assert.notEqual(now[f], old[f], `${s.node}:${APP}/${f} was not rewritten by the re-run`);
    }
    const noop = await clean(`${s.kind}-noop`);
    for (const node of lab.nodes) assert.equal(noop.report?.stats[node.name]?.changed, 0, `${node.name} changed in the run after the re-run\n${noop.output}`);
  }
});
