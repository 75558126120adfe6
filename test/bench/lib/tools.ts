/**
 * The commands the benchmark times: ansible-playbook (default and best settings) and our
 * runner as users type it. Each run reports its wall time and the per-host stats of its JSON
 * report (Ansible's json stdout callback; our --json FILE, the same shape).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

/** The tools compared. */
export type Tool = "ansible-default" | "ansible-best" | "ours";

/** What a host's recap says (only what both tools must agree on). */
export interface HostCounts {
  changed: number;
  failures: number;
  unreachable: number;
}

/** One timed run. */
export interface RunResult {
  /** Wall time of the whole command, ms. */
  wallMs: number;
  /** Ours only: the runner's own time, first play start to last play end of its JSON report, ms. */
  ownMs?: number;
  counts: Record<string, HostCounts>;
}

/** What every run needs to know. */
export interface RunContext {
  repoRoot: string;
  inventoryFile: string;
}

interface JsonReport {
  plays: Array<{ play: { duration: { start: string; end?: string } } }>;
  stats: Record<string, { changed?: number; failures?: number; unreachable?: number }>;
}

/** Runs a command, resolves with its output; rejects with its output when it exits non-zero. */
export function runCommand(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const r = { stdout, stderr, code: code ?? -1 };
      if (code === 0) resolve(r);
      else reject(Object.assign(new Error(`${cmd} ${args.join(" ")} exited ${code}\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`), r));
    });
  });
}

function countsOf(report: JsonReport): Record<string, HostCounts> {
  return Object.fromEntries(
    Object.entries(report.stats).map(([host, s]) => [host, { changed: s.changed ?? 0, failures: s.failures ?? 0, unreachable: s.unreachable ?? 0 }]),
  );
}

/** First play start to last play end of a JSON report, ms. */
function reportSpanMs(report: JsonReport): number | undefined {
  const first = report.plays[0]?.play.duration.start;
  const last = report.plays.at(-1)?.play.duration.end;
  if (!first || !last) return undefined;
  return Date.parse(last) - Date.parse(first);
}

/**
 * Ansible's environment. Best: pipelining, ControlMaster/ControlPersist (in a fresh control
 * directory per run, so every run pays its own handshakes as ours does), facts are off in the
 * playbooks already. Host keys are checked against the lab's known_hosts (inventory ssh args).
 */
function ansibleEnv(tool: Tool, cfgDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ANSIBLE_STDOUT_CALLBACK: "json", ANSIBLE_NOCOLOR: "1", ANSIBLE_RETRY_FILES_ENABLED: "0" };
  // An ansible.cfg of our own, so no user/system config changes the figures.
  const cfg = join(cfgDir, "ansible.cfg");
  if (tool === "ansible-best") {
    writeFileSync(cfg, `[defaults]\ngathering = explicit\nforks = 8\n[ssh_connection]\npipelining = True\nssh_args = -o ControlMaster=auto -o ControlPersist=60s\ncontrol_path_dir = ${join(cfgDir, "cp")}\n`);
    env.ANSIBLE_PIPELINING = "1";
    env.ANSIBLE_SSH_ARGS = "-o ControlMaster=auto -o ControlPersist=60s";
    env.ANSIBLE_SSH_CONTROL_PATH_DIR = join(cfgDir, "cp");
  } else {
    writeFileSync(cfg, `[defaults]\n`);
  }
  env.ANSIBLE_CONFIG = cfg;
  return env;
}

/** Runs one playbook with one tool, limited to `hosts`. */
export async function runTool(tool: Tool, playbook: string, hosts: string[], ctx: RunContext): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), "bench-run-"));
  try {
    const limit = hosts.join(",");
    if (tool === "ours") {
      const jsonFile = join(dir, "report.json");
      const t0 = performance.now();
      await runCommand("npx", ["zx", "run", playbook, "-i", ctx.inventoryFile, "--limit", limit, "--json", jsonFile], { cwd: ctx.repoRoot });
      const wallMs = performance.now() - t0;
      const report = JSON.parse(readFileSync(jsonFile, "utf8")) as JsonReport;
      return { wallMs, ownMs: reportSpanMs(report), counts: countsOf(report) };
    }
    const env = ansibleEnv(tool, dir);
    const t0 = performance.now();
    const r = await runCommand("ansible-playbook", [playbook, "-i", ctx.inventoryFile, "--limit", limit], { cwd: ctx.repoRoot, env });
    const wallMs = performance.now() - t0;
    const report = JSON.parse(r.stdout.slice(r.stdout.indexOf("{"))) as JsonReport;
    return { wallMs, counts: countsOf(report) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
