/** include_role: loads the role now; its blocks carry their handlers, which join the play's. */
import type { Block, Item, Task } from "../../playbook/types.ts";
import { loadIncludedRole } from "../../playbook/load.ts";
import { checkIncludeDepth } from "../include-depth.ts";
import { done } from "../outcome.ts";
import { sharedInclude } from "../shared-includes.ts";
import type { ControllerActionRunner } from "./types.ts";

export const includeRole: ControllerActionRunner = async (tr) => {
  const args = tr.templar.render(tr.task.args) as Record<string, unknown>;
  const name = String(args.name);
  const tasksFrom = typeof args.tasks_from === "string" ? args.tasks_from : undefined;
  checkIncludeDepth(tr, `role ${name}`);
  const item = tr.task.loop === undefined ? undefined : tr.vars[tr.task.loopControl?.loopVar ?? "item"];
  const items = sharedInclude(tr.ps, tr.task, tr.host, [args, item], () => (tr.ps.run.options.loadIncludedRole ?? loadIncludedRole)(name, tr.task, { tasksFrom }));
  const handlers: Task[] = [];
  const collect = (list: Item[]) => {
    for (const i of list) if (i.kind === "block") {
      handlers.push(...((i as Block).handlers ?? []));
      collect(i.block);
    }
  };
  collect(items);
  const out = done(false, `included role: ${name}`, { include_role: name });
  out.include = { items, params: {}, handlers };
  return out;
};
