/**
 * What the compatibility suites share (test/lab/compat*.suite.ts): run a playbook with
 * ansible-playbook (json callback) and with our runner (--json), read both reports into one
 * status per task, and compare them task by task.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { labAvailable, type Lab, type LabNode, type LabNodeRequest } from "./lab.ts";
import type { LabConfig } from "../../scripts/lib/lab/config.ts";
import { which } from "../../scripts/lib/lab/preflight.ts";
import { runCommand } from "./run-command.ts";
import type { HostResult, JsonReport } from "./json-report.ts";

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const RUN_TIMEOUT_MS = 5 * 60_000;

type Status = "changed" | "ok" | "failed" | "skipped" | "unreachable";


/** One task as a tool reported it. */
export interface TaskOutcome {
  name: string;
  /** The task's status; a loop's is followed by its items' ("changed [changed ok]"). */
  status: string;
  msg: string;
}

export interface ToolRun {
  code: number | null;
  seconds: number;
  tasks: TaskOutcome[];
  output: string;
}

/** Why a compatibility suite cannot run here, or false. */
export async function compatSkipReason(spec: { nodes: LabNodeRequest[] }, config: LabConfig): Promise<string | false> {
  if (!which("ansible-playbook")) return "ansible-playbook is not installed (apt-get install ansible)";
  const reason = await labAvailable(spec, config);
  return reason ? `no lab: ${reason}` : false;
}

function statusOf(r: HostResult): Status {
  if (r.unreachable) return "unreachable";
  if (r.failed) return "failed";
  if (r.skipped) return "skipped";
  return r.changed ? "changed" : "ok";
}

/** A loop's status with every item's: "changed [changed ok]". */
function statusWithItems(r: HostResult): string {
  const own = statusOf(r);
  return r.results?.length ? `${own} [${r.results.map(statusOf).join(" ")}]` : own;
}

function messageOf(r: HostResult): string {
  const own = typeof r.msg === "string" ? r.msg : r.msg === undefined ? "" : JSON.stringify(r.msg);
  const items = (r.results ?? []).map((i) => (typeof i.msg === "string" ? i.msg : "")).filter(Boolean);
  return [own, ...items].filter(Boolean).join(" | ").slice(0, 500);
}

/** The host's outcome of every task, in order. */
function outcomes(report: JsonReport | undefined, host: string): TaskOutcome[] {
  if (!report) return [];
  return report.plays.flatMap((p) =>
    p.tasks.filter((t) => t.hosts[host]).map((t) => ({ name: t.task.name, status: statusWithItems(t.hosts[host]), msg: messageOf(t.hosts[host]) })),
  );
}

function readReport(text: string): JsonReport | undefined {
  try {
    return JSON.parse(text) as JsonReport;
  } catch {
    // ansible-playbook may print warnings before the JSON document
    const start = text.indexOf("{\n");
    if (start < 0) return undefined;
    try {
      return JSON.parse(text.slice(start)) as JsonReport;
    } catch {
      return undefined;
    }
  }
}

const run = (command: string, args: string[], env: Record<string, string>) => runCommand(command, args, { cwd: repo, env, timeoutMs: RUN_TIMEOUT_MS });

/**
 * Inventory with the one host `target` at `node` (same name on both sides: same templating),
 * plus `vars`; written into `dir`.
 */
export function writeTargetInventory(lab: Lab, node: LabNode, dir: string, vars: Record<string, unknown> = {}): string {
  const inventory = {
    all: {
      hosts: {
        target: {
          ansible_host: node.address,
          ansible_user: "root",
          ansible_ssh_private_key_file: lab.keyFile,
          ansible_ssh_common_args: `-o UserKnownHostsFile=${lab.knownHostsFile} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes`,
          ansible_python_interpreter: "/usr/bin/python3",
          ...vars,
        },
      },
    },
  };
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `inventory-${node.name}.yml`);
  writeFileSync(file, stringify(inventory));
  return file;
}

/** ansible-playbook with the json callback; `dir` holds its ANSIBLE_HOME. */
export async function runAnsible(playbook: string, inventory: string, dir: string, label: string, extra: string[] = []): Promise<ToolRun> {
  const home = join(dir, "ansible-home");
  const r = await run("ansible-playbook", ["-i", inventory, playbook, ...extra], {
    ANSIBLE_STDOUT_CALLBACK: "json",
    ANSIBLE_HOME: home,
    ANSIBLE_LOCAL_TEMP: join(home, "tmp"),
    ANSIBLE_PIPELINING: "1",
    ANSIBLE_HOST_KEY_CHECKING: "1",
    ANSIBLE_RETRY_FILES_ENABLED: "0",
    ANSIBLE_NOCOLOR: "1",
    ANSIBLE_DEPRECATION_WARNINGS: "0",
  });
  process.stderr.write(`# ${label}: ansible-playbook -> exit ${r.code} in ${r.seconds.toFixed(1)} s\n`);
  return { code: r.code, seconds: r.seconds, tasks: outcomes(readReport(r.stdout), "target"), output: `${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}` };
}

/** Our runner through the user's entry point, as the README documents it, with --json. */
export async function runOurs(playbook: string, inventory: string, dir: string, label: string, extra: string[] = []): Promise<ToolRun> {
  const json = join(dir, `ours-${label.replace(/\W+/g, "-")}.json`);
  const r = await run("npx", ["zx", "run", "-i", inventory, playbook, "--json", json, ...extra], { CI: "true" });
  process.stderr.write(`# ${label}: our runner -> exit ${r.code} in ${r.seconds.toFixed(1)} s\n`);
  const report = existsSync(json) ? readReport(readFileSync(json, "utf8")) : undefined;
  return { code: r.code, seconds: r.seconds, tasks: outcomes(report, "target"), output: `${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}` };
}

/** The names of the tasks a run reports as changed. */
export function changedTasks(r: ToolRun): string[] {
  return r.tasks.filter((t) => t.status.startsWith("changed")).map((t) => t.name);
}

/** Every task's status matches (same tasks, same order), and both tools succeeded. */
export function compareRuns(a: ToolRun, o: ToolRun, pass: number, label = "compat"): void {
  assert.ok(a.tasks.length > 0, `pass ${pass}: no task results from ansible-playbook (exit ${a.code})\n${a.output}`);
  assert.ok(o.tasks.length > 0, `pass ${pass}: no task results from our runner (exit ${o.code})\n${o.output}`);
  // A task that runs twice (a role applied again with other parameters) is matched by occurrence.
  const keyed = (r: ToolRun) => {
    const seen = new Map<string, number>();
    return new Map(r.tasks.map((t) => {
      const n = (seen.get(t.name) ?? 0) + 1;
      seen.set(t.name, n);
      return [n === 1 ? t.name : `${t.name} (run ${n})`, t] as const;
    }));
  };
  const [ak, ok] = [keyed(a), keyed(o)];
  const names = [...new Set([...ak.keys(), ...ok.keys()])];
  const mismatches: string[] = [];
  for (const name of names) {
    const x = ak.get(name);
    const y = ok.get(name);
    if (x?.status === y?.status) continue;
    mismatches.push(
      `task "${name}": ansible ${x?.status ?? "(not run)"}${x?.msg ? ` (${x.msg})` : ""} / ours ${y?.status ?? "(not run)"}${y?.msg ? ` (${y.msg})` : ""}`,
    );
  }
  const summary = (r: ToolRun) => ["changed", "ok", "failed", "skipped"].map((s) => `${s}=${r.tasks.filter((t) => t.status.split(" ")[0] === s).length}`).join(" ");
  process.stderr.write(`# ${label} pass ${pass}: ${names.length} tasks; ansible ${summary(a)}; ours ${summary(o)}\n`);
  const loops = a.tasks.filter((t) => t.status.includes("[")).map((t) => `${t.name}: ${t.status}`).join("; ");
  if (loops) process.stderr.write(`# ${label} pass ${pass} loops (both): ${loops}\n`);
  if (pass > 1) process.stderr.write(`# ${label} pass ${pass} changed: ansible [${changedTasks(a).join(", ")}]; ours [${changedTasks(o).join(", ")}]\n`);
  assert.deepEqual(mismatches, [], `pass ${pass}: task statuses differ between ansible-playbook and our runner`);
  assert.equal(a.tasks.map((t) => t.name).join("\n"), o.tasks.map((t) => t.name).join("\n"), `pass ${pass}: the tasks ran in a different order`);
  assert.equal(a.code, 0, `pass ${pass}: ansible-playbook failed\n${a.output}`);
  assert.equal(o.code, 0, `pass ${pass}: our runner failed\n${o.output}`);
}
