/**
 * Process bookkeeping by PID. PID 1 on these machines does not reap orphans, so a killed
 * detached process can linger as a zombie: "alive" means present and not a zombie.
 */
import { readFileSync, readdirSync } from "node:fs";
import { sleep } from "./exec.ts";

/** True when `pid` is a running (not zombie) process. */
export function isAlive(pid: number | undefined): boolean {
  if (!pid || pid <= 1) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state letter follows the command name in parentheses (which may hold spaces).
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** The argv of a process, or undefined when it is gone. */
export function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter((s) => s !== "");
  } catch {
    return undefined;
  }
}

/** Live processes whose argv contains an argument for which `match` is true. */
export function findProcesses(match: (argv: string[]) => boolean): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const argv = commandLine(pid);
    if (argv && argv.length > 0 && match(argv) && isAlive(pid)) found.push(pid);
  }
  return found;
}

/** Live children of a process. */
export function childrenOf(parent: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parent && isAlive(Number(entry))) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Sends a signal, ignoring processes that are already gone. */
export function signal(pid: number | undefined, sig: NodeJS.Signals): void {
  if (!pid || pid <= 1) return;
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Waits until every PID is gone (or zombie); false when `timeoutMs` passed first. */
export async function waitGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL whatever is left. */
export async function terminate(pids: number[], graceMs: number): Promise<void> {
  for (const pid of pids) signal(pid, "SIGTERM");
  if (await waitGone(pids, graceMs)) return;
  for (const pid of pids) if (isAlive(pid)) signal(pid, "SIGKILL");
  await waitGone(pids, 5000);
}
