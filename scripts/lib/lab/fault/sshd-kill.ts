/**
 * `sshd-kill`: every sshd process of the node (the listener and each session) gets SIGKILL,
 * as the OOM killer would do. Heal starts sshd again (systemctl restart ssh) unless it
 * already answers.
 */
import { signal } from "../processes.ts";
import { nodeExec, nodeProcesses, requireInit } from "./in-node.ts";
import { sshBanner } from "../ssh-ready.ts";
import { waitUntilBack } from "./wait-back.ts";
import { UserError, ExitCode } from "../../errors.ts";
import type { FaultHandler } from "./types.ts";

export const sshdKill: FaultHandler<"sshd-kill"> = {
  async inject({ node }) {
    const pids = nodeProcesses(requireInit(node), "sshd");
    if (pids.length === 0) throw new UserError(`No sshd runs in node ${node.name}`, { hint: `npm run lab -- heal ${node.name}`, exitCode: ExitCode.error });
    for (const pid of pids) signal(pid, "SIGKILL");
    return { record: { kind: "sshd-kill", killed: pids }, said: `killed ${pids.length} sshd process(es) of ${node.name} (the listener and its sessions)` };
  },
  async heal(ctx) {
    const { node } = ctx;
    if (await sshBanner(node.address, 3000)) return `${node.name}: sshd answers`;
    await nodeExec(requireInit(node), ["systemctl", "restart", "ssh.service"]);
    await waitUntilBack(ctx);
    return `${node.name}: sshd started again`;
  },
};
