/** add_host: a host (with variables and groups) for the following plays of this run; runs once per play. */
import { plainValue } from "../../shell/secret.ts";
import { done } from "../outcome.ts";
import type { ControllerActionRunner } from "./types.ts";

export const addHost: ControllerActionRunner = async (tr) => {
  const args = tr.templar.render(tr.task.args) as Record<string, unknown>;
  const { name: rawName, groups: rawGroups, groupname: _g, group: _h, host: _i, hostname: _j, ...vars } = args;
  // A name rendered from a secret (a no_log result) names the real host; the variables stay as they are.
  const name = plainValue(rawName);
  const groups = plainValue(rawGroups);
  const groupList = (Array.isArray(groups) ? groups : typeof groups === "string" ? groups.split(",") : []).map((g) => String(g).trim()).filter(Boolean);
  const run = tr.ps.run;
  const isNew = run.inventory.addHost(String(name), groupList, vars);
  run.ensureHost(String(name));
  return done(isNew, isNew ? `added host ${name}` : undefined, { add_host: { host_name: name, groups: groupList, host_vars: vars } });
};
