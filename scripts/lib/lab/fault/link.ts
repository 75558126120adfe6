/**
 * `link`: the node's cable is pulled: the host side of its veth goes down (the node's eth0
 * loses carrier; nothing inside the node changes). With --for, a detached timer process
 * (recorded by PID) plugs it back in; heal does it at once otherwise.
 */
import { spawn } from "node:child_process";
import { run } from "../exec.ts";
import { childrenOf, commandLine, isAlive, signal } from "../processes.ts";
import { waitUntilBack } from "./wait-back.ts";
import type { FaultHandler, Recorded } from "./types.ts";

/** Marks the timer's argv so that heal and down only ever kill our own timer. */
const TIMER_TAG = "pi-lab-link-restore";

function startRestoreTimer(link: string, ms: number): number {
  // The link name is $1, never part of the script text.
  const script = `sleep ${(ms / 1000).toFixed(3)}; exec ip link set dev "$1" up`;
  const child = spawn("/bin/sh", ["-c", script, TIMER_TAG, link], { detached: true, stdio: "ignore" });
  child.unref();
  return child.pid!;
}

function stopRestoreTimer(record: Recorded<"link">): void {
  const pid = record.restorePid;
  if (!pid || !isAlive(pid) || !(commandLine(pid) ?? []).includes(TIMER_TAG)) return;
  const sleeper = childrenOf(pid);
  signal(pid, "SIGKILL");
  for (const child of sleeper) signal(child, "SIGKILL");
}

export const linkDown: FaultHandler<"link"> = {
  async inject({ node }, options) {
    await run(["ip", "link", "set", "dev", node.veth, "down"]);
    const restorePid = options.forMs ? startRestoreTimer(node.veth, options.forMs) : undefined;
    const back = options.forMs ? `comes back in ${options.forMs / 1000}s` : "stays down until heal";
    return { record: { kind: "link", link: node.veth, forMs: options.forMs, restorePid }, said: `${node.name}'s link (${node.veth}) is down; it ${back}` };
  },
  async heal(ctx, record) {
    stopRestoreTimer(record);
    await run(["ip", "link", "set", "dev", record.link, "up"]);
    await waitUntilBack(ctx);
    return `${ctx.node.name}'s link is up`;
  },
  release: stopRestoreTimer,
};
