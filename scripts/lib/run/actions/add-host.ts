/** add_host: a host (with variables and groups) for the following plays of this run; runs once per play. */
import { done } from "../outcome.ts";
import type { ControllerActionRunner } from "./types.ts";

export const addHost: ControllerActionRunner = async (tr) => {
  const args = tr.templar.render(tr.task.args) as Record<string, unknown>;
  const { name, groups, groupname: _g, group: _h, host: _i, hostname: _j, ...vars } = args;
  const groupList = (Array.isArray(groups) ? groups : typeof groups === "string" ? groups.split(",") : []).map((g) => String(g).trim()).filter(Boolean);
  const run = tr.ps.run;
  const isNew = run.inventory.addHost(String(name), groupList, vars);
  run.ensureHost(String(name));
  return done(isNew, isNew ? `added host ${name}` : undefined, { add_host: { host_name: name, groups: groupList, host_vars: vars } });
};
