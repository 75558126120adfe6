/**
 * A task's loop (Ansible's TaskExecutor._get_loop_items and _run_loop): the items rendered from
 * loop/with_*, every item run in turn with its loop variables, and the items' outcomes folded
 * into the task's one outcome.
 */
import { existsSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { UserError } from "../errors.ts";
import type { Task } from "../playbook/types.ts";
import { maskValue, Secret } from "../shell/secret.ts";
import { type FileKind, firstFound, subelements } from "../template/lookups.ts";
import { pyStr } from "../template/python.ts";
import { TemplateError, Templar } from "../template/templar.ts";
import { errorOutcome, skipped, type StepOutcome } from "./outcome.ts";
import { sleep } from "./sleep.ts";
import type { HostPlay, PlayState, Scope } from "./state.ts";
import { runItem } from "./task-item.ts";

/** Where a task runs on one host: what every item's run needs besides its own variables. */
export interface TaskContext {
  host: string;
  /** The task's `when` after the enclosing blocks' and roles'. */
  when: Array<string | boolean> | undefined;
  /** The host's variables for this task, without loop variables. */
  vars: Record<string, unknown>;
  /** "host H, task 'T' (file:line)", for template errors. */
  where: string;
  /** Where relative files are found: the role, then the task's folder. */
  searchPaths: string[];
}

/** One loop item's run, with the label Ansible shows for it. */
export interface LoopItemOutcome {
  label: string;
  outcome: StepOutcome;
}

/**
 * The items of the task's loop, or the outcome that ends the task instead: a loop that cannot be
 * rendered because a variable is undefined waits for `when` (Ansible's TaskExecutor evaluates it
 * once without an item: false skips the task, true raises the loop's error).
 */
export async function loopItems(task: Task, ctx: TaskContext): Promise<{ items: unknown[] } | { outcome: StepOutcome }> {
  try {
    return { items: await loopList(task, new Templar(ctx.vars, { where: ctx.where, searchPaths: ctx.searchPaths })) };
  } catch (e) {
    const undefinedVariable = e instanceof TemplateError && e.variable !== undefined && Boolean(ctx.when?.length);
    return { outcome: undefinedVariable ? whenBeforeLoop(e as TemplateError, ctx.when!, new Templar(ctx.vars, { where: ctx.where, searchPaths: ctx.searchPaths }), ctx.host, task) : errorOutcome(e, ctx.host, task) };
  }
}

/** Runs every item in turn with its loop variables (loop_control: loop_var, index_var, extended, label, pause). */
export async function runLoop(ps: PlayState, hp: HostPlay, task: Task, scope: Scope, ctx: TaskContext, items: unknown[], noLog: boolean): Promise<LoopItemOutcome[]> {
  const signal = ps.run.options.signal;
  const lc = task.loopControl ?? {};
  const loopVar = lc.loopVar ?? "item";
  const outcomes: LoopItemOutcome[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const extra: Record<string, unknown> = { [loopVar]: item, ansible_loop_var: loopVar };
    if (lc.indexVar) extra[lc.indexVar] = i;
    if (lc.extended) {
      extra.ansible_loop = {
        index: i + 1, index0: i, first: i === 0, last: i === items.length - 1, length: items.length,
        revindex: items.length - i, revindex0: items.length - i - 1,
        allitems: items, previtem: items[i - 1], nextitem: items[i + 1],
      };
    }
    const itemVars = Object.assign({}, ctx.vars, extra);
    const o = await runItem(ps, hp, task, scope, itemVars, ctx.when, ctx.where, ctx.searchPaths);
    if (o.include) o.include.params = { ...task.vars, ...extra };
    o.data[loopVar] = item;
    o.data.ansible_loop_var = loopVar;
    if (lc.indexVar) o.data[lc.indexVar] = i;
    outcomes.push({ label: noLog ? "None" : itemLabel(lc.label, item, itemVars, ctx), outcome: o });
    if (o.status === "unreachable") break;
    // Ctrl-C: the items done stay done; the rest of a long loop is not started.
    if (signal?.aborted) break;
    if (lc.pause && i < items.length - 1) await sleep(lc.pause * 1000, signal);
  }
  return outcomes;
}

/** A loop's items as one outcome, as Ansible: changed if any item changed, failed if any failed, skipped if all skipped. */
export function aggregateLoop(outcomes: LoopItemOutcome[]): StepOutcome {
  const anyFailed = outcomes.some((o) => o.outcome.status === "failed");
  const unreachable = outcomes.find((o) => o.outcome.status === "unreachable");
  const anyChanged = outcomes.some((o) => o.outcome.status === "changed" || o.outcome.data.changed === true);
  const allSkipped = outcomes.length === 0 || outcomes.every((o) => o.outcome.status === "skipped");
  // Ansible's messages: none for an empty list, "All items skipped" when every item was.
  const data: Record<string, unknown> = {
    changed: anyChanged,
    msg: anyFailed ? "One or more items failed" : allSkipped ? "All items skipped" : "All items completed",
    results: outcomes.map((o) => o.outcome.data),
  };
  if (anyFailed) data.failed = true;
  if (allSkipped) {
    data.skipped = true;
    if (outcomes.length === 0) {
      data.skipped_reason = "No items in the list";
      delete data.msg;
    }
  }
  const status = unreachable ? "unreachable" : anyFailed ? "failed" : allSkipped ? "skipped" : anyChanged ? "changed" : "ok";
  const diffs = outcomes.flatMap((o) => o.outcome.diff ?? []);
  const final: StepOutcome = {
    status,
    msg: unreachable ? unreachable.outcome.msg : anyFailed ? outcomes.find((o) => o.outcome.status === "failed")!.outcome.msg : undefined,
    data,
    diff: diffs.length ? diffs : undefined,
  };
  // A loop (not a spread of every item's facts into one call's arguments): loops may be long.
  for (const o of outcomes) if (o.outcome.hostVars) final.hostVars = Object.assign(final.hostVars ?? {}, o.outcome.hostVars);
  return final;
}

/** loop_control.label rendered with the item's variables, else the item itself. */
function itemLabel(label: string | undefined, item: unknown, itemVars: Record<string, unknown>, ctx: TaskContext): string {
  try {
    return label !== undefined ? display(new Templar(itemVars, { where: ctx.where, searchPaths: ctx.searchPaths }).render(label)) : display(item);
  } catch {
    return display(item);
  }
}

/** The loop's items: rendered; with_items flattened one level, with_dict as key/value pairs, with_fileglob expanded. */
async function loopList(task: Task, templar: Templar): Promise<unknown[]> {
  let value = templar.render(task.loop);
  if (task.loopFrom === "with_subelements") {
    if (!Array.isArray(value)) throw new UserError("with_subelements needs a list: [the list, \"its key\"] (and optionally {skip_missing: true})", { where: task.where });
    return subelements(value);
  }
  if (typeof value === "string" && task.loopFrom !== "with_fileglob" && task.loopFrom !== "with_first_found") {
    throw new UserError(`loop needs a list, got the string ${JSON.stringify(value)}`, { where: task.where, hint: "Write loop: \"{{ var }}\" with a list variable, or use split()." });
  }
  if (task.loopFrom === "with_dict" && value && typeof value === "object" && !Array.isArray(value)) {
    value = Object.entries(value).map(([key, v]) => ({ key, value: v }));
  }
  if (task.loopFrom === "with_first_found") {
    // In a role Ansible also looks in the role's tasks/ (include_tasks: "{{ item }}" over setup-<os>.yml).
    const inRoleTasks = (n: string) => (task.role && !isAbsolute(n) && existsSync(join(task.role.path, "tasks", n)) ? join(task.role.path, "tasks", n) : undefined);
    return firstFound(Array.isArray(value) ? value : [value], {}, firstFoundKind(task.module), (n, kind) => templar.findFile(n, kind) ?? inRoleTasks(n));
  }
  if (task.loopFrom === "with_fileglob") {
    const patterns = (Array.isArray(value) ? value : [value]).map(String);
    const out: string[] = [];
    const bases = [...(task.role ? [`${task.role.path}/files`] : []), `${task.baseDir}/files`, task.baseDir];
    for (const p of patterns) {
      for (const base of p.startsWith("/") ? ["/"] : bases) {
        const found: string[] = [];
        // zx's glob (globby) only when a playbook uses with_fileglob: node:fs glob needs Node 22.
        const { glob } = await import("zx");
        for (const f of await glob(p, { cwd: base })) found.push(p.startsWith("/") ? String(f) : `${base}/${f}`);
        if (found.length) {
          out.push(...found.sort());
          break;
        }
      }
    }
    return out;
  }
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new UserError(`loop needs a list, got ${typeof value === "object" ? "a mapping" : JSON.stringify(value)}`, {
      where: task.where,
      hint: "For a mapping, loop over \"{{ x | dict2items }}\".",
    });
  }
  if (task.loopFrom === "with_items") return value.flatMap((v) => (Array.isArray(v) ? v : [v]));
  return value;
}

/** The task's outcome when its loop could not be rendered: skipped under a false `when`, else the loop's error. */
function whenBeforeLoop(loopError: TemplateError, when: Array<string | boolean>, templar: Templar, host: string, task: Task): StepOutcome {
  try {
    for (const c of when) if (!templar.isTrue([c])) return skipped("Conditional result was False", { false_condition: c });
  } catch (e) {
    return errorOutcome(e, host, task);
  }
  return errorOutcome(loopError, host, task);
}

/** Ansible's TaskExecutor gives with_first_found the subfolder its action names: template, var, else file. */
function firstFoundKind(module: string): FileKind {
  return module.includes("template") ? "templates" : module.includes("var") ? "vars" : "files";
}

function display(v: unknown): string {
  if (typeof v === "string") return v;
  if (v instanceof Secret) return "***";
  try {
    // Python's repr, as Ansible prints `(item={'key': 'a', 'value': 1})`; secrets inside show as ***.
    return pyStr(maskValue(v));
  } catch {
    return String(v);
  }
}
