/**
 * Reaching into a running node from the host without ssh (a fault must work when ssh does
 * not): its init process, the processes of its PID namespace, and commands run inside its
 * namespaces with nsenter (argv, never a shell).
 */
import { readlinkSync, readdirSync, readFileSync } from "node:fs";
import { UserError, ExitCode } from "../../errors.ts";
import { run, type CommandResult } from "../exec.ts";
import { childrenOf, isAlive } from "../processes.ts";
import { nspawnPids } from "../node.ts";
import type { NodeState } from "../state.ts";

/** The node's PID 1 as the host sees it (the child of its systemd-nspawn), or undefined when it is not running. */
export function nodeInitPid(node: NodeState): number | undefined {
  return nspawnPids(node.machine).flatMap(childrenOf)[0];
}

/** The node's init, or a clear error naming the node when it is not running. */
export function requireInit(node: NodeState): number {
  const pid = nodeInitPid(node);
  if (!pid) {
    throw new UserError(`Node ${node.name} is not running`, { hint: `heal it first (npm run lab -- heal ${node.name}) or see npm run lab -- status`, exitCode: ExitCode.error });
  }
  return pid;
}

function pidNamespace(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** The process name the kernel keeps (`comm`), or undefined when the process is gone. */
export function processName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** Host PIDs of the node's live processes called `name` (its PID namespace, matched by comm). */
export function nodeProcesses(initPid: number, name: string): number[] {
  const ns = pidNamespace(initPid);
  if (!ns) return [];
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => processName(pid) === name && pidNamespace(pid) === ns && isAlive(pid));
}

/** Runs argv inside the node (its mount, UTS, IPC, network and PID namespaces); never throws on rc != 0. */
export function nodeExec(initPid: number, argv: string[], input?: string): Promise<CommandResult> {
  return run(["nsenter", `--target=${initPid}`, "--mount", "--uts", "--ipc", "--net", "--pid", "--", ...argv], { check: false, input });
}

/** As nodeExec, but a non-zero exit is an error naming the node and the command. */
export async function nodeExecOk(node: NodeState, initPid: number, argv: string[], input?: string): Promise<string> {
  const r = await nodeExec(initPid, argv, input);
  if (r.code !== 0) throw new Error(`${node.name}: ${argv.join(" ")} exited with ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}
