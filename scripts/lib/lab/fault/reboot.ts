/**
 * `reboot`: the node resets unannounced: reboot(2) inside it (`systemctl reboot -ff`: no
 * unit stopped, no file system unmounted, sessions cut), as a watchdog or a power blip does.
 * The lab's supervisor boots it again by itself; heal waits until it has.
 */
import { nodeExec, nodeInitPid, requireInit } from "./in-node.ts";
import { waitGone } from "../processes.ts";
import { waitUntilBack } from "./wait-back.ts";
import type { FaultHandler } from "./types.ts";

export const resetNode: FaultHandler<"reboot"> = {
  async inject({ node }) {
    const init = requireInit(node);
    const bootId = (await nodeExec(init, ["cat", "/proc/sys/kernel/random/boot_id"])).stdout.trim() || undefined;
    // nsenter's child dies with the node: its exit status says nothing.
    await nodeExec(init, ["systemctl", "reboot", "-ff"]);
    await waitGone([init], 10_000);
    return { record: { kind: "reboot", bootId }, said: `${node.name} was reset (reboot -ff); it boots again by itself` };
  },
  async heal(ctx, record) {
    await waitUntilBack(ctx, { booted: true });
    const init = nodeInitPid(ctx.node);
    const bootId = init ? (await nodeExec(init, ["cat", "/proc/sys/kernel/random/boot_id"])).stdout.trim() : "";
    return `${ctx.node.name} is back${bootId && record.bootId && bootId !== record.bootId ? " (a new boot)" : ""}`;
  },
};
