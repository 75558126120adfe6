/**
 * A bound on nested include_tasks/include_role. An include may include itself under a `when:`
 * that ends it, so cycles are legal; a file that includes itself unconditionally would run
 * (and reload) until memory runs out. The chain of include sites is in the scope.
 */
import { formatPosition, UserError } from "../errors.ts";
import type { TaskRun } from "./task-run.ts";

export const MAX_INCLUDE_DEPTH = 64;

/** Refuses an include nested deeper than the bound, naming the chain of include sites. */
export function checkIncludeDepth(tr: TaskRun, target: string): void {
  const chain = tr.scope.includes ?? [];
  if (chain.length < MAX_INCLUDE_DEPTH) return;
  const sites = [...chain, formatPosition(tr.task.where)];
  const shown = sites.length > 7 ? [...sites.slice(0, 3), `… ${sites.length - 6} more …`, ...sites.slice(-3)] : sites;
  throw new UserError(`Includes nested more than ${MAX_INCLUDE_DEPTH} deep (including ${target}): ${shown.join(" → ")}`, {
    where: tr.task.where,
    hint: "An include that includes itself (directly or through other files) needs a when: that ends it.",
  });
}
