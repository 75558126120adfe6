/**
 * The module contract as one step, the only place it is enforced: the executor
 * (run/module-step.ts) and the module tests (test/support/run-module.ts, the fixtures) call it.
 */
import { ModuleFailure, type FileDiff, type ModuleContext, type ModuleDefinition } from "./types.ts";
import { plainValue } from "../shell/secret.ts";

/** What one plan → apply step gave (a ModuleFailure is thrown instead). */
export interface ModuleStep {
  changed: boolean;
  /** Skipped with this reason: the plan's own, or check mode for a command it cannot probe. */
  skipped?: string;
  /** The plan's no-op reason. */
  reason?: string;
  /** apply's message, else the plan's. */
  msg?: string;
  /** The plan's diff, when ctx.diff. */
  diff?: FileDiff[];
  /** The plan's result with apply's merged over it (for `register`). */
  result: Record<string, unknown>;
  hostVars?: Record<string, unknown>;
}

/**
 * The module contract as the executor enforces it, and as the module tests run it: Secrets
 * revealed except in the module's secretArgs; plan (read-only); in check mode a command-like module whose plan cannot probe is skipped; apply
 * only when the plan says changed and the run is not in check mode; a failure while applying
 * counts as changed.
 */
export async function planThenApply<Args>(module: ModuleDefinition<Args>, validArgs: Args, ctx: ModuleContext): Promise<ModuleStep> {
  const args = revealSecretArgs(validArgs as Record<string, unknown>, module.secretArgs ?? []) as Args;
  const plan = await module.plan(args, ctx);
  const result: Record<string, unknown> = { ...plan.result };
  if (plan.skipped) return { changed: false, skipped: plan.skipped, reason: plan.reason, msg: plan.msg, result };
  // A command-like module cannot know what its command would do: in check mode it does not run,
  // unless its arguments (creates/removes) let its plan decide.
  if (module.nonIdempotent && ctx.check && plan.changed && !module.planDecides?.(args)) {
    return { changed: false, skipped: "check mode: command not run", reason: plan.reason, msg: plan.msg, result };
  }
  const step: ModuleStep = { changed: plan.changed, reason: plan.reason, msg: plan.msg, diff: ctx.diff ? plan.diff : undefined, result };
  if (!plan.changed || ctx.check || !module.apply) return step;
  let applied;
  try {
    applied = await module.apply(plan, args, ctx);
  } catch (e) {
    // A failure while applying happened after something ran: Ansible reports such results as changed.
    if (e instanceof ModuleFailure && e.result.changed === undefined) e.result.changed = true;
    throw e;
  }
  if (applied) {
    step.msg = applied.msg ?? step.msg;
    Object.assign(result, applied.result);
    step.hostVars = applied.hostVars;
  }
  return step;
}

/**
 * The arguments with Secrets replaced by their text (remembered, so output still masks it
 * where the module echoes it), except those the module takes as Secrets.
 */
function revealSecretArgs(args: Record<string, unknown>, keep: readonly string[]): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(args)) {
    if (keep.includes(k) || typeof v !== "object" || v === null) continue;
    const r = plainValue(v);
    if (r !== v) (out ??= { ...args })[k] = r;
  }
  return out ?? args;
}
