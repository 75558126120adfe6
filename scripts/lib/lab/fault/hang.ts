/**
 * `hang`: the node stops answering but its TCP connections stay open: every sshd process of
 * the node (listener and sessions) gets SIGSTOP, by PID; the kernel still acknowledges
 * packets, nothing answers them. Heal sends those PIDs SIGCONT.
 */
import { signal } from "../processes.ts";
import { nodeProcesses, processName, requireInit } from "./in-node.ts";
import { waitUntilBack } from "./wait-back.ts";
import { UserError, ExitCode } from "../../errors.ts";
import type { FaultHandler } from "./types.ts";

export const hangSshd: FaultHandler<"hang"> = {
  async inject({ node }) {
    const init = requireInit(node);
    const stopped = new Set<number>();
    // A session may be forked while we stop the others: look again until none is new.
    for (let pass = 0; pass < 5; pass++) {
      const fresh = nodeProcesses(init, "sshd").filter((pid) => !stopped.has(pid));
      if (fresh.length === 0) break;
      for (const pid of fresh) {
        signal(pid, "SIGSTOP");
        stopped.add(pid);
      }
    }
    if (stopped.size === 0) throw new UserError(`No sshd runs in node ${node.name}`, { hint: `npm run lab -- heal ${node.name}`, exitCode: ExitCode.error });
    return { record: { kind: "hang", stopped: [...stopped] }, said: `${node.name} hangs: ${stopped.size} sshd process(es) stopped (SIGSTOP), connections left open` };
  },
  async heal(ctx, record) {
    // Only PIDs that are still sshd processes (a PID may have been reused after a reboot).
    for (const pid of record.stopped) if (processName(pid) === "sshd") signal(pid, "SIGCONT");
    await waitUntilBack(ctx);
    return `${ctx.node.name}'s sshd runs again`;
  },
};
