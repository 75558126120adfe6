/** include_tasks: loads the file now (per host and loop item); the walker runs its items. */
import { loadIncludedTasks } from "../../playbook/load.ts";
import { checkIncludeDepth } from "../include-depth.ts";
import { done } from "../outcome.ts";
import { sharedInclude } from "../shared-includes.ts";
import type { ControllerActionRunner } from "./types.ts";

export const includeTasks: ControllerActionRunner = async (tr) => {
  const file = String(tr.templar.render(tr.task.args.file ?? tr.task.args._raw_params));
  checkIncludeDepth(tr, file);
  const item = tr.task.loop === undefined ? undefined : tr.vars[tr.task.loopControl?.loopVar ?? "item"];
  const items = sharedInclude(tr.ps, tr.task, tr.host, [file, item], () => (tr.ps.run.options.loadIncludedTasks ?? loadIncludedTasks)(file, tr.task));
  const out = done(false, `included: ${file}`, { include: file });
  out.include = { items, params: {}, handlers: [] };
  return out;
};
