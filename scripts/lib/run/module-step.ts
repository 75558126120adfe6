/**
 * Runs one module on one host: render the arguments (omit dropped), validate them now that
 * they are values, build the ModuleContext, then planThenApply: plan (read-only, ideally one
 * round trip), and apply only when the plan says changed and the run is not in check mode.
 * The module tests (test/support/run-module.ts, test/unit/modules/fixtures.test.ts) run the
 * same planThenApply.
 */
import { existsSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { UserError } from "../errors.ts";
import type { ModuleContext, ModuleDefinition } from "../modules/types.ts";
import { planThenApply } from "../modules/plan-apply.ts";
import { validateModuleArgs } from "../playbook/validate-args.ts";
import { dropOmitted } from "../template/templar.ts";
import type { Task } from "../playbook/types.ts";
import { done, skipped, type StepOutcome } from "./outcome.ts";
import type { TaskRun } from "./task-run.ts";
import { addModuleFacts } from "./vars.ts";

/** Runs `module` for the task run (errors propagate: the caller turns them into failures). */
export async function runModule(tr: TaskRun, module: ModuleDefinition): Promise<StepOutcome> {
  const rendered = dropOmitted(tr.templar.render(tr.task.args)) as Record<string, unknown>;
  const args = validateModuleArgs(module, rendered, tr.task.where, { templated: false });
  const transport = await tr.transport();
  const ctx: ModuleContext = {
    host: tr.host,
    check: tr.check,
    diff: tr.diff,
    vars: tr.vars,
    run: (command, options = {}) =>
      transport.exec(command, {
        stdin: options.stdin,
        timeoutMs: options.timeoutMs,
        become: options.become === false ? undefined : tr.become,
        env: tr.env || options.env ? { ...tr.env, ...options.env } : undefined,
      }),
    findFile: (kind, path) => findControllerFile(tr.task, kind, path),
    renderTemplate: (text, sourceName, options) => tr.templar.renderFile(text, sourceName, options),
    reconnect: (options) => transport.reconnect(options),
    warn: (message) => tr.warn(message),
  };
  const step = await planThenApply(module, args, ctx);
  if (step.skipped !== undefined) return skipped(step.skipped, step.result);
  const out = done(step.changed, step.changed ? step.msg : step.reason, step.result);
  out.diff = step.diff;
  if (step.changed && step.diff) out.data.diff = step.diff;
  out.hostVars = step.hostVars;
  // A module's ansible_facts join the host's facts, as Ansible merges them (service_facts, hostname).
  const facts = step.result?.ansible_facts;
  if (facts && typeof facts === "object" && !Array.isArray(facts)) addModuleFacts(tr.hp, facts as Record<string, unknown>);
  return out;
}

/**
 * A controller-side file as Ansible finds it: the role's files/ (or templates/, vars/) first,
 * then <playbook dir>/<kind>/, then the playbook dir itself.
 */
export function findControllerFile(task: Task, kind: "files" | "templates" | "vars", path: string): string {
  if (isAbsolute(path)) {
    if (existsSync(path)) return path;
    throw new UserError(`${kind.replace(/s$/, "")} "${path}" not found`, { where: task.where, exitCode: 2 });
  }
  const places: string[] = [];
  if (task.role) places.push(join(task.role.path, kind, path), join(task.role.path, path));
  places.push(join(task.baseDir, kind, path), join(task.baseDir, path));
  for (const p of places) if (existsSync(p)) return p;
  throw new UserError(`Could not find "${path}" (searched ${places.join(", ")})`, {
    where: task.where,
    hint: `Put it in the role's ${kind}/ folder or next to the playbook.`,
    exitCode: 2,
  });
}
