/**
 * One task on one host, in the order Ansible's TaskExecutor takes it: the keywords (no_log,
 * ignore_errors, check_mode, run_once), the loop or the single run (task-loop.ts, task-item.ts),
 * the missing-handler check, register and facts, then the result counted and reported. The
 * walker (walk.ts) decides which tasks run; this file runs one.
 */
import { formatPosition } from "../errors.ts";
import type { Item, Task } from "../playbook/types.ts";
import { maskSecrets, plainValue, secretStrings } from "../shell/secret.ts";
import { Templar } from "../template/templar.ts";
import { markUnsafe } from "../template/unsafe.ts";
import { pyStr } from "../template/python.ts";
import type { TaskResult } from "./events.ts";
import { keywordBool } from "./keyword-values.ts";
import { errorOutcome, type StepOutcome } from "./outcome.ts";
import type { HostPlay, PlayState, Scope } from "./state.ts";
import { countResult } from "./stats.ts";
import { isCheck, runItem } from "./task-item.ts";
import { aggregateLoop, loopItems, runLoop, type LoopItemOutcome, type TaskContext } from "./task-loop.ts";
import { setHostVars, varsFor } from "./vars.ts";

const NO_LOG_MSG = "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

type Include = NonNullable<StepOutcome["include"]>;

/** What the walker needs to know after a task ran on a host. */
export interface TaskOutcome {
  /** The final status after ignore_errors (failed here means the host failed). */
  status: TaskResult["status"];
  /** The failure was ignored (ignore_errors). */
  ignored: boolean;
  meta?: string;
  includes: Include[];
  /** What run_once shares with the other hosts. */
  register?: Record<string, unknown>;
  hostVars?: Record<string, unknown>;
  changed: boolean;
}

/** The keywords rendered before the task runs. */
interface TaskKeywords {
  noLog: boolean;
  ignoreErrors: boolean;
  check: boolean;
  /** A keyword that could not be rendered ends the task with this outcome. */
  error?: StepOutcome;
}

/** What running the task gave: its one outcome, and the items' when it looped. */
interface Execution {
  final: StepOutcome;
  items?: LoopItemOutcome[];
  includes: Include[];
}

/**
 * Emits task-start once per task and play (the first host to reach it announces it). A name
 * with `{{ }}` is templated with that host's variables, as Ansible's strategy does before its
 * task-start callback (an undefined variable leaves the name as written).
 */
export function announce(ps: PlayState, task: Task, isHandler: boolean, only?: string[], vars?: () => Record<string, unknown>): void {
  if (ps.announced.has(task)) return;
  ps.announced.add(task);
  const hosts = (only ?? ps.batch).filter((h) => {
    const hp = ps.hosts.get(h);
    return hp && !hp.failed && !hp.unreachable && !hp.ended;
  });
  ps.run.options.sink({ type: "task-start", play: ps.play, task, hosts, isHandler, name: templatedName(task, vars) });
}

function templatedName(task: Task, vars: (() => Record<string, unknown>) | undefined): string | undefined {
  if (!vars || !task.name?.includes("{{")) return undefined;
  try {
    return maskSecrets(pyStr(new Templar(vars()).render(task.name)));
  } catch {
    return undefined;
  }
}

/** Runs `task` on one host with the inherited `scope`. */
export async function runTask(ps: PlayState, hp: HostPlay, task: Task, scope: Scope, isHandler = false): Promise<TaskOutcome> {
  // add_host bypasses the host loop in Ansible: it runs once per play (per loop item).
  const runOnce = onceFor(ps, hp, task, scope) ?? task.action === "add_host";
  if (runOnce) {
    let shared = ps.once.get(task) as Promise<TaskOutcome> | undefined;
    if (shared) {
      const outcome = await shared;
      // The other hosts get the first host's result as their own (register, set_fact, notify).
      if (task.register && outcome.register) setHostVars(hp, { [task.register]: outcome.register });
      if (outcome.hostVars) setHostVars(hp, outcome.hostVars);
      if (outcome.changed) notify(ps, hp, task, scope, undefined);
      return { ...outcome, status: outcome.status === "failed" && !outcome.ignored ? "failed" : outcome.status };
    }
    shared = runTaskHere(ps, hp, task, scope, isHandler);
    ps.once.set(task, shared);
    return shared;
  }
  return runTaskHere(ps, hp, task, scope, isHandler);
}

async function runTaskHere(ps: PlayState, hp: HostPlay, task: Task, scope: Scope, isHandler: boolean): Promise<TaskOutcome> {
  const started = Date.now();
  // meta tasks are the strategy's own steps in Ansible: no banner, no recap count (reportResult).
  const isMeta = task.action === "meta";
  if (!isMeta) announce(ps, task, isHandler, undefined, () => varsFor(ps, hp, scope, task.vars));
  ps.run.options.sink({ type: "host-task-start", host: hp.state.name, task });

  const ctx = taskContext(ps, hp, task, scope);
  const keywords = taskKeywords(ps, task, scope, ctx);
  const execution = await execute(ps, hp, task, scope, ctx, keywords);
  const notified = isChange(execution.final) ? notifiedHandlers(ps, task, scope, ctx.vars) : undefined;
  const final = notified?.missing.length ? missingHandlerFailure(execution.final, notified.missing) : execution.final;
  const registered = storeResult(hp, task, final, keywords.noLog);
  const ignored = final.status === "failed" && keywords.ignoreErrors;
  reportResult(ps, hp, task, scope, { ...execution, final }, keywords, { ignored, isHandler, isMeta, started });

  const changed = isChange(final);
  if (changed && notified) for (const h of notified.handlers) hp.notified.add(h);
  return { status: final.status, ignored, meta: final.meta, includes: execution.includes, register: registered, hostVars: final.hostVars, changed };
}

function taskContext(ps: PlayState, hp: HostPlay, task: Task, scope: Scope): TaskContext {
  const host = hp.state.name;
  return {
    host,
    when: scope.when.length ? [...scope.when, ...(task.when ?? [])] : task.when,
    vars: varsFor(ps, hp, scope, task.vars),
    where: `host ${host}, task '${task.name ?? task.module}' (${formatPosition(task.where)})`,
    searchPaths: task.role ? [task.role.path, task.baseDir] : [task.baseDir],
  };
}

function taskKeywords(ps: PlayState, task: Task, scope: Scope, ctx: TaskContext): TaskKeywords {
  const templar = () => new Templar(ctx.vars, { where: ctx.where, searchPaths: ctx.searchPaths });
  const keywords: TaskKeywords = { noLog: false, ignoreErrors: false, check: false };
  try {
    keywords.noLog = keywordBool(task.noLog ?? scope.noLog, "no_log", templar, task.where) ?? false;
    keywords.ignoreErrors = keywordBool(task.ignoreErrors ?? scope.ignoreErrors, "ignore_errors", templar, task.where) ?? false;
    keywords.check = isCheck(ps, task, scope, templar);
    keywordBool(task.runOnce ?? scope.runOnce, "run_once", templar, task.where); // its error, reported here
  } catch (e) {
    // As Ansible, keywords are rendered after `when`: a task that `when` skips does not fail on them.
    if (!(task.loop === undefined && skippedByWhen(ctx.when, templar))) keywords.error = errorOutcome(e, ctx.host, task);
  }
  return keywords;
}

/** The single run, or the loop's items and their aggregate. */
async function execute(ps: PlayState, hp: HostPlay, task: Task, scope: Scope, ctx: TaskContext, keywords: TaskKeywords): Promise<Execution> {
  if (keywords.error) return { final: keywords.error, includes: [] };
  if (task.loop === undefined) {
    const final = await runItem(ps, hp, task, scope, ctx.vars, ctx.when, ctx.where, ctx.searchPaths);
    if (final.include) final.include.params = { ...task.vars };
    return { final, includes: final.include ? [final.include] : [] };
  }
  const loop = await loopItems(task, ctx);
  if ("outcome" in loop) return { final: loop.outcome, includes: [] };
  const items = await runLoop(ps, hp, task, scope, ctx, loop.items, keywords.noLog);
  return { final: aggregateLoop(items), items, includes: items.flatMap((o) => (o.outcome.include ? [o.outcome.include] : [])) };
}

/**
 * A change that notifies a handler nobody defined fails the host, as Ansible stops with an error
 * (ERROR_ON_MISSING_HANDLER): the restart it was meant to trigger must not be skipped silently.
 * Usually a typo between notify: and the handler's name.
 */
function missingHandlerFailure(final: StepOutcome, missing: string[]): StepOutcome {
  const msg = `The requested handler ${missing.map((m) => `"${m}"`).join(", ")} was not found among the play's handlers nor their listen topics: check the name under notify: and under handlers:`;
  return { ...final, status: "failed", msg, data: { ...final.data, failed: true, msg } };
}

/** register and the facts the task set; returns the registered value (what run_once shares). */
function storeResult(hp: HostPlay, task: Task, final: StepOutcome, noLog: boolean): Record<string, unknown> {
  // register stores the real values; a no_log task's are Secrets: usable as data, never shown.
  const registered = noLog ? (secretStrings(final.data) as Record<string, unknown>) : final.data;
  // A module's result is data, never templated (Ansible's unsafe); controller actions' results hold variables.
  if (task.register && !task.action) markUnsafe(registered);
  if (task.register && final.status !== "unreachable") setHostVars(hp, { [task.register]: registered });
  if (final.hostVars && final.status !== "failed") setHostVars(hp, final.hostVars);
  if (final.status === "failed") hp.lastFailure = { task, result: final.data };
  return registered;
}

/** Counts the result in the recap and sends it to the reporters: masked, and censored under no_log. */
function reportResult(
  ps: PlayState,
  hp: HostPlay,
  task: Task,
  scope: Scope,
  execution: Execution,
  keywords: TaskKeywords,
  how: { ignored: boolean; isHandler: boolean; isMeta: boolean; started: number },
): void {
  const { final, items } = execution;
  const host = hp.state.name;
  const result: TaskResult = { ...censored(final, keywords.noLog), durationMs: Date.now() - how.started };
  if (how.ignored) result.ignored = true;
  if (final.status === "failed" && !how.ignored && scope.rescuable) result.rescued = true;
  if (items) result.items = items.map((o) => ({ label: o.label, result: { ...censored(o.outcome, keywords.noLog), durationMs: 0 } }));
  if (keywords.check) result.checkMode = true;
  if (!how.isMeta || result.status === "failed") countResult(ps.run.stats[host], result);
  if (!how.isMeta || result.status === "failed" || result.status === "skipped") ps.run.options.sink({ type: "host-task-result", host, task, result, isHandler: how.isHandler });
}

/** An outcome as reporters see it: its message masked; under no_log only whether it changed. */
function censored(o: StepOutcome, noLog: boolean): Omit<TaskResult, "durationMs"> {
  if (noLog) return { status: o.status, msg: NO_LOG_MSG, diff: undefined, data: { censored: NO_LOG_MSG, changed: o.data.changed === true } };
  return { status: o.status, msg: o.msg === undefined ? undefined : maskSecrets(o.msg), diff: o.diff, data: o.data };
}

/** run_once for this host (a template is rendered with its variables; its error is reported by runTaskHere). */
function onceFor(ps: PlayState, hp: HostPlay, task: Task, scope: Scope): boolean | undefined {
  const value = task.runOnce ?? scope.runOnce;
  if (typeof value !== "string") return value;
  try {
    return keywordBool(value, "run_once", () => new Templar(varsFor(ps, hp, scope, task.vars), { searchPaths: [task.baseDir] }), task.where);
  } catch {
    return false;
  }
}

/** `when` is false for this host (an error rendering it counts as not skipped). */
function skippedByWhen(when: Array<string | boolean> | undefined, templar: () => Templar): boolean {
  if (!when?.length) return false;
  try {
    return !templar().isTrue(when);
  } catch {
    return false;
  }
}

/** The handlers a changed task notifies (names are templated; listen topics count), and the names nothing answers. */
function notifiedHandlers(ps: PlayState, task: Task, scope: Scope, vars: Record<string, unknown> | undefined): { handlers: Task[]; missing: string[] } {
  const names = scope.notify.length ? [...(task.notify ?? []), ...scope.notify] : task.notify;
  const handlers: Task[] = [];
  const missing: string[] = [];
  if (!names || names.length === 0) return { handlers, missing };
  const templar = vars ? new Templar(vars) : undefined;
  for (const raw of names) {
    let name = raw;
    if (templar && /\{\{/.test(raw)) {
      try {
        name = String(plainValue(templar.render(raw)));
      } catch {
        /* keep the raw name */
      }
    }
    const matches = ps.handlers.filter((h) => h.name === name || (h.role && `${h.role.name} : ${h.name}` === name) || h.listen?.includes(name));
    if (matches.length === 0) missing.push(name);
    handlers.push(...matches);
  }
  return { handlers, missing };
}

/** Whether a step's outcome counts as a change (and so notifies its handlers). */
function isChange(o: StepOutcome): boolean {
  return o.status === "changed" || (o.status !== "failed" && o.data.changed === true);
}

/** Marks the handlers a changed task notifies. */
function notify(ps: PlayState, hp: HostPlay, task: Task, scope: Scope, vars: Record<string, unknown> | undefined): void {
  for (const h of notifiedHandlers(ps, task, scope, vars).handlers) hp.notified.add(h);
}

export type { Item };
