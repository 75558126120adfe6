/**
 * Walks a host through items in order: tags, --start-at-task and --step decide which tasks
 * run; blocks give rescue/always and pass their keywords down; includes run their items in
 * place; meta actions and failures change what the host does next; handlers run when flushed.
 */
import { formatPosition } from "../errors.ts";
import { selectedByTags } from "../playbook/tags.ts";
import type { Block, BoolKeyword, Item, Task } from "../playbook/types.ts";
import type { HostPlay, PlayState, Scope } from "./state.ts";
import { announce, runTask, type TaskOutcome } from "./task.ts";
import { invalidateBases, varsFor } from "./vars.ts";
import { keywordBool } from "./keyword-values.ts";
import { Templar } from "../template/templar.ts";

/** The scope a play starts its items with. */
export function rootScope(): Scope {
  return { vars: {}, when: [], environment: [], rescuable: false, notify: [] };
}

/** Whether this host does nothing more in this play. */
export function hostDone(ps: PlayState, hp: HostPlay): boolean {
  if (ps.run.options.signal?.aborted) ps.run.interrupted = true;
  return hp.failed || hp.unreachable || hp.ended || ps.stopped || ps.run.interrupted;
}

/** Runs items in order on one host (stops at the host's first unhandled failure). */
export async function runItems(ps: PlayState, hp: HostPlay, items: Item[], scope: Scope): Promise<void> {
  for (const item of items) {
    if (hostDone(ps, hp)) return;
    if (item.kind === "block") await runBlock(ps, hp, item, scope);
    else await runOne(ps, hp, item, scope);
  }
}

/** Keywords of a block (or role wrapper) layered over the scope. */
export function innerScope(scope: Scope, b: Block): Scope {
  return {
    vars: b.vars ? { ...scope.vars, ...b.vars } : scope.vars,
    params: scope.params,
    role: b.role ?? scope.role,
    when: b.when?.length ? [...scope.when, ...b.when] : scope.when,
    become: b.become ?? scope.become,
    becomeUser: b.becomeUser ?? scope.becomeUser,
    environment: b.environment ? [...scope.environment, b.environment] : scope.environment,
    ignoreErrors: b.ignoreErrors ?? scope.ignoreErrors,
    noLog: b.noLog ?? scope.noLog,
    runOnce: b.runOnce ?? scope.runOnce,
    delegateTo: b.delegateTo ?? scope.delegateTo,
    checkMode: b.checkMode ?? scope.checkMode,
    diff: b.diff ?? scope.diff,
    anyErrorsFatal: b.anyErrorsFatal ?? scope.anyErrorsFatal,
    rescuable: scope.rescuable,
    notify: b.notify?.length ? [...scope.notify, ...b.notify] : scope.notify,
  };
}

async function runBlock(ps: PlayState, hp: HostPlay, b: Block, scope: Scope): Promise<void> {
  const inner = innerScope(scope, b);
  if (b.handlers?.length) addHandlers(ps, b.handlers);
  const hasRescue = b.rescue.length > 0;
  await runItems(ps, hp, b.block, hasRescue ? { ...inner, rescuable: true } : inner);
  if (hp.failed && !hp.unreachable && hasRescue && !ps.stopped && !ps.run.interrupted) {
    hp.failed = false;
    const failure = hp.lastFailure;
    const rescueScope = failure
      ? { ...inner, vars: { ...inner.vars, ansible_failed_task: { name: failure.task.name, action: failure.task.module }, ansible_failed_result: failure.result } }
      : inner;
    await runItems(ps, hp, b.rescue, rescueScope);
  }
  if (b.always.length && !hp.unreachable && !hp.ended && !ps.run.interrupted) {
    const wasFailed = hp.failed;
    hp.failed = false;
    await runItems(ps, hp, b.always, inner);
    hp.failed = hp.failed || wasFailed;
  }
}

/** Adds handlers (of an included role) to the play's, once each. */
export function addHandlers(ps: PlayState, handlers: Task[]): void {
  for (const h of handlers) if (!ps.handlers.includes(h)) ps.handlers.push(h);
}

function matchesStart(task: Task, name: string): boolean {
  if (!task.name) return false;
  if (task.name === name) return true;
  if (task.role && `${task.role.name} : ${task.name}` === name) return true;
  if (/[*?[]/.test(name)) {
    const re = new RegExp(`^${name.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
    return re.test(task.name) || (task.role !== undefined && re.test(`${task.role.name} : ${task.name}`));
  }
  return false;
}

async function askStep(ps: PlayState, task: Task): Promise<boolean> {
  const run = ps.run;
  if (!run.options.step || run.stepDone) return true;
  let answer = run.stepAnswers.get(task);
  if (!answer) {
    answer = run.options.step(task).then((a) => {
      if (a === "continue") run.stepDone = true;
      return a !== "no";
    });
    run.stepAnswers.set(task, answer);
  }
  return answer;
}

async function runOne(ps: PlayState, hp: HostPlay, task: Task, scope: Scope): Promise<void> {
  const options = ps.run.options;
  // Tasks not selected by tags are silently left out (not reported).
  if (!selectedByTags(task.tags, options.tags, task.roleTags)) return;
  if (!hp.state.started) {
    if (!options.startAtTask || !matchesStart(task, options.startAtTask)) return;
    hp.state.started = true;
  }
  if (!(await askStep(ps, task))) return;
  if (hostDone(ps, hp)) return;
  const outcome = await runTask(ps, hp, task, scope);
  await afterTask(ps, hp, task, scope, outcome);
}

/** Failure bookkeeping, meta actions and includes after a task ran on a host. */
export async function afterTask(ps: PlayState, hp: HostPlay, task: Task, scope: Scope, outcome: TaskOutcome): Promise<void> {
  if (outcome.status === "unreachable") {
    if (!keywordFor(ps, hp, task, scope, task.ignoreUnreachable, "ignore_unreachable", false)) {
      hp.unreachable = true;
      onHostFailure(ps, hp, task, scope);
    }
    return;
  }
  if (outcome.status === "failed" && !outcome.ignored) {
    hp.failed = true;
    if (!scope.rescuable) onHostFailure(ps, hp, task, scope);
    return;
  }
  if (outcome.meta) await runMeta(ps, hp, outcome.meta);
  for (const inc of outcome.includes) {
    if (hostDone(ps, hp)) return;
    addHandlers(ps, inc.handlers);
    const incScope: Scope = { ...scope, params: { ...scope.params, ...inc.params }, includes: [...(scope.includes ?? []), formatPosition(task.where)] };
    await runItems(ps, hp, inc.items, incScope);
  }
}

/** any_errors_fatal and max_fail_percentage: a host's failure may stop the play for everyone. */
function onHostFailure(ps: PlayState, hp: HostPlay, task: Task, scope: Scope): void {
  // A template that cannot be rendered stops the play: the safe reading when a host failed.
  const fatal = keywordFor(ps, hp, task, scope, task.anyErrorsFatal ?? scope.anyErrorsFatal, "any_errors_fatal", true) ?? ps.play.anyErrorsFatal;
  if (fatal) {
    ps.stopped = true;
    ps.abortPlay = true;
    ps.endPlaybook = true;
    return;
  }
  const pct = ps.play.maxFailPercentage;
  if (pct !== undefined) {
    const down = ps.batch.filter((h) => {
      const x = ps.hosts.get(h)!;
      return x.failed || x.unreachable;
    }).length;
    if ((down / ps.batch.length) * 100 > pct) {
      ps.stopped = true;
      ps.abortPlay = true;
      ps.endPlaybook = true;
    }
  }
}

async function runMeta(ps: PlayState, hp: HostPlay, what: string): Promise<void> {
  switch (what) {
    case "flush_handlers":
      await flushHandlers(ps, [hp]);
      break;
    case "end_host":
      hp.ended = true;
      break;
    case "end_play":
      ps.stopped = true;
      ps.abortPlay = true;
      break;
    case "end_batch":
      ps.stopped = true;
      break;
    case "clear_facts":
      hp.state.facts = undefined;
      hp.state.moduleFacts = undefined;
      hp.state.hostVars = {};
      invalidateBases(hp);
      hp.state.version++;
      break;
    case "clear_host_errors":
      break;
    case "reset_connection":
      if (hp.transport) {
        try {
          await (await hp.transport).reconnect();
        } catch {
          /* the next task reports unreachable */
        }
      }
      break;
    default:
      break;
  }
}

/** A yes/no keyword read after the task ran: a template is rendered with the host's variables. */
function keywordFor(ps: PlayState, hp: HostPlay, task: Task, scope: Scope, value: BoolKeyword | undefined, key: string, onError: boolean): boolean | undefined {
  if (typeof value !== "string") return value;
  try {
    return keywordBool(value, key, () => new Templar(varsFor(ps, hp, scope, task.vars), { searchPaths: [task.baseDir] }), task.where);
  } catch {
    return onError;
  }
}

/**
 * Handlers (here because running one is walking it: a handler's includes and meta actions go
 * through afterTask, and may flush again): run at the end of the play (batch) and at meta:
 * flush_handlers, once each, in the order of the handlers section, only on hosts that were
 * notified (and are not failed). Hosts run each handler in parallel; handlers are walked in
 * order, and a handler notified by an earlier one still runs in the same flush.
 */
export async function flushHandlers(ps: PlayState, hosts: HostPlay[]): Promise<void> {
  for (let round = 0; round < 10; round++) {
    let ran = false;
    for (const handler of [...ps.handlers]) {
      const targets = hosts.filter((hp) => hp.notified.has(handler) && !hostDone(ps, hp));
      if (targets.length === 0) continue;
      ran = true;
      for (const hp of targets) hp.notified.delete(handler);
      announce(ps, handler, true, targets.map((hp) => hp.state.name));
      await Promise.all(targets.map((hp) => runHandler(ps, hp, handler)));
      // A handler may run again at a later flush: announce it afresh then.
      ps.announced.delete(handler);
    }
    if (!ran || !hosts.some((hp) => hp.notified.size > 0 && !hostDone(ps, hp))) return;
  }
}

async function runHandler(ps: PlayState, hp: HostPlay, handler: Task): Promise<void> {
  const scope = rootScope();
  scope.role = handler.role;
  const outcome = await runTask(ps, hp, handler, scope, true);
  await afterTask(ps, hp, handler, scope, outcome);
}
