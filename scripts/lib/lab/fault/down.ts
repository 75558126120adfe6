/**
 * `down`: the node loses power. Its container is killed at once (no shutdown, nothing
 * flushed by the node itself); heal starts it again with the same supervisor script, as
 * switching the power back on.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError, ExitCode } from "../../errors.ts";
import { isAlive } from "../processes.ts";
import { startSupervisor, stopNode } from "../node.ts";
import { nodeInitPid } from "./in-node.ts";
import { waitUntilBack } from "./wait-back.ts";
import type { FaultHandler } from "./types.ts";

export const powerOff: FaultHandler<"down"> = {
  async inject({ node }) {
    if (!nodeInitPid(node)) throw new UserError(`Node ${node.name} is not running`, { hint: "npm run lab -- status", exitCode: ExitCode.error });
    await stopNode(node.supervisorPid, node.machine);
    return { record: { kind: "down" }, said: `${node.name} is powered off (its container killed, no shutdown)` };
  },
  async heal(ctx) {
    const { node } = ctx;
    if (!isAlive(node.supervisorPid) && !nodeInitPid(node)) {
      node.supervisorPid = startSupervisor(node.dir, readFileSync(join(node.dir, "supervisor.sh"), "utf8"));
    }
    await waitUntilBack(ctx, { booted: true });
    return `${node.name} is powered on and booted`;
  },
};
