/** group_by: puts the current host into a group named by `key` (templated), for later plays. */
import { plainValue } from "../../shell/secret.ts";
import { done } from "../outcome.ts";
import type { ControllerActionRunner } from "./types.ts";

export const groupBy: ControllerActionRunner = async (tr) => {
  // A key rendered from a secret (a no_log result) names the real group.
  const args = plainValue(tr.templar.render(tr.task.args)) as Record<string, unknown>;
  const key = String(args.key).replace(/[^A-Za-z0-9_]/g, "_");
  const parents = (Array.isArray(args.parents) ? args.parents : args.parents ? [args.parents] : []).map(String);
  const changed = tr.ps.run.inventory.addToGroup(tr.host, key, parents);
  return done(changed, changed ? `added to group ${key}` : `already in group ${key}`, { add_group: key, parent_groups: parents });
};
