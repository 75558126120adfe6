/**
 * One task on one host: when (per loop item), loop + loop_control, retries/until, the module or
 * controller action, changed_when/failed_when, ignore_errors, register, notify, no_log, run_once,
 * delegate_to, check_mode/diff/become/environment. Emits host-task-start/host-task-result and
 * counts the result. The walker (walk.ts) decides which tasks run; this file runs one.
 */
import { existsSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { formatPosition, UserError } from "../errors.ts";
import { ModuleFailure } from "../modules/types.ts";
import { getModule } from "../modules/registry.ts";
import { getControllerAction } from "../playbook/actions.ts";
import type { Item, Task } from "../playbook/types.ts";
import { markSecret, maskSecrets, maskValue, plainValue, registerSecret, Secret, secretStrings } from "../shell/secret.ts";
import { TemplateError, Templar } from "../template/templar.ts";
import { type FileKind, firstFound, subelements } from "../template/lookups.ts";
import { markUnsafe } from "../template/unsafe.ts";
import { pyStr } from "../template/python.ts";
import { UnreachableError, type BecomeOptions, type Transport } from "../transport/types.ts";
import { controllerAction } from "./actions/index.ts";
import type { TaskResult } from "./events.ts";
import { runModule } from "./module-step.ts";
import { failed, skipped, type StepOutcome } from "./outcome.ts";
import { sleep } from "./sleep.ts";
import type { HostPlay, PlayState, Scope } from "./state.ts";
import { countResult } from "./stats.ts";
import type { TaskRun } from "./task-run.ts";
import { magicVars, setHostFacts, varsFor } from "./vars.ts";
import { keywordBool } from "./keyword-values.ts";
import { parseBoolean } from "../boolean.ts";

const NO_LOG_MSG = "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

/** What the walker needs to know after a task ran on a host. */
export interface TaskOutcome {
  /** The final status after ignore_errors (failed here means the host failed). */
  status: TaskResult["status"];
  /** The failure was ignored (ignore_errors). */
  ignored: boolean;
  meta?: string;
  includes: Array<NonNullable<StepOutcome["include"]>>;
  /** What run_once shares with the other hosts. */
  register?: Record<string, unknown>;
  hostFacts?: Record<string, unknown>;
  changed: boolean;
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
  const runOnce = onceFor(ps, hp, task, scope) ?? /(^|\.)add_host$/.test(task.module);
  if (runOnce) {
    let shared = ps.once.get(task) as Promise<TaskOutcome> | undefined;
    if (shared) {
      const outcome = await shared;
      // The other hosts get the first host's result as their own (register, set_fact, notify).
      if (task.register && outcome.register) setHostFacts(hp, { [task.register]: outcome.register });
      if (outcome.hostFacts) setHostFacts(hp, outcome.hostFacts);
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
  const options = ps.run.options;
  const host = hp.state.name;
  const started = Date.now();
  // meta tasks are the strategy's own steps in Ansible: no banner, no recap count (below).
  const isMeta = /(^|\.)meta$/.test(task.module);
  if (!isMeta) announce(ps, task, isHandler, undefined, () => varsFor(ps, hp, scope, task.vars));
  options.sink({ type: "host-task-start", host, task });

  const when = scope.when.length ? [...scope.when, ...(task.when ?? [])] : task.when;
  const baseVars = varsFor(ps, hp, scope, task.vars);
  const where = `host ${host}, task '${task.name ?? task.module}' (${formatPosition(task.where)})`;
  const searchPaths = task.role ? [task.role.path, task.baseDir] : [task.baseDir];
  const keywordTemplar = () => new Templar(baseVars, { where, searchPaths });

  let loopItems: unknown[] | undefined;
  let outcomes: Array<{ label: string; outcome: StepOutcome }> = [];
  let single: StepOutcome | undefined;
  let noLog = false;
  let ignoreErrors = false;
  let check = false;
  try {
    noLog = keywordBool(task.noLog ?? scope.noLog, "no_log", keywordTemplar, task.where) ?? false;
    ignoreErrors = keywordBool(task.ignoreErrors ?? scope.ignoreErrors, "ignore_errors", keywordTemplar, task.where) ?? false;
    check = isCheck(ps, task, scope, keywordTemplar);
    keywordBool(task.runOnce ?? scope.runOnce, "run_once", keywordTemplar, task.where); // its error, reported here
  } catch (e) {
    // As Ansible, keywords are rendered after `when`: a task that `when` skips does not fail on them.
    if (!(task.loop === undefined && skippedByWhen(when, keywordTemplar))) single = errorOutcome(e, host, task);
  }
  try {
    if (!single && task.loop !== undefined) {
      const templar = new Templar(baseVars, { where, searchPaths });
      loopItems = await loopList(task, templar);
    }
  } catch (e) {
    // As Ansible's TaskExecutor: a loop with an undefined variable is kept aside while `when` is
    // evaluated once, without an item; a false `when` skips the task, a true one raises the loop's error.
    single = e instanceof TemplateError && e.variable !== undefined && when?.length ? whenBeforeLoop(e, when, new Templar(baseVars, { where, searchPaths }), host, task) : errorOutcome(e, host, task);
  }

  if (!single && loopItems === undefined) {
    single = await runItem(ps, hp, task, scope, baseVars, when, undefined, where, searchPaths);
    if (single.include) single.include.params = { ...task.vars };
  } else if (!single && loopItems) {
    const lc = task.loopControl ?? {};
    const loopVar = lc.loopVar ?? "item";
    for (let i = 0; i < loopItems.length; i++) {
      const item = loopItems[i];
      const extra: Record<string, unknown> = { [loopVar]: item, ansible_loop_var: loopVar };
      if (lc.indexVar) extra[lc.indexVar] = i;
      if (lc.extended) {
        extra.ansible_loop = {
          index: i + 1, index0: i, first: i === 0, last: i === loopItems.length - 1, length: loopItems.length,
          revindex: loopItems.length - i, revindex0: loopItems.length - i - 1,
          allitems: loopItems, previtem: loopItems[i - 1], nextitem: loopItems[i + 1],
        };
      }
      const itemVars = Object.assign({}, baseVars, extra);
      const o = await runItem(ps, hp, task, scope, itemVars, when, extra, where, searchPaths);
      if (o.include) o.include.params = { ...task.vars, ...extra };
      o.data[loopVar] = item;
      o.data.ansible_loop_var = loopVar;
      if (lc.indexVar) o.data[lc.indexVar] = i;
      let label: string;
      try {
        label = lc.label !== undefined ? display(new Templar(itemVars, { where, searchPaths }).render(lc.label)) : display(item);
      } catch {
        label = display(item);
      }
      outcomes.push({ label: noLog ? "None" : label, outcome: o });
      if (o.status === "unreachable") break;
      // Ctrl-C: the items done stay done; the rest of a long loop is not started.
      if (options.signal?.aborted) break;
      if (lc.pause && i < loopItems.length - 1) await sleep(lc.pause * 1000, options.signal);
    }
  }

  // Aggregate a loop as Ansible: changed if any item changed, failed if any failed, skipped if all skipped.
  let final: StepOutcome;
  if (single) final = single;
  else {
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
    final = {
      status,
      msg: unreachable ? unreachable.outcome.msg : anyFailed ? outcomes.find((o) => o.outcome.status === "failed")!.outcome.msg : undefined,
      data,
      diff: diffs.length ? diffs : undefined,
    };
    // A loop (not a spread of every item's facts into one call's arguments): loops may be long.
    for (const o of outcomes) if (o.outcome.hostFacts) final.hostFacts = Object.assign(final.hostFacts ?? {}, o.outcome.hostFacts);
    const includes = outcomes.filter((o) => o.outcome.include).map((o) => o.outcome.include!);
    (final as { includes?: typeof includes }).includes = includes;
  }

  // A change that notifies a handler nobody defined fails the host, as Ansible stops with an
  // error (ERROR_ON_MISSING_HANDLER): the restart it was meant to trigger must not be skipped
  // silently. Usually a typo between notify: and the handler's name.
  const notified = isChange(final) ? notifiedHandlers(ps, task, scope, baseVars) : undefined;
  if (notified && notified.missing.length) {
    const msg = `The requested handler ${notified.missing.map((m) => `"${m}"`).join(", ")} was not found among the play's handlers nor their listen topics: check the name under notify: and under handlers:`;
    final = { ...final, status: "failed", msg, data: { ...final.data, failed: true, msg } };
  }

  // register stores the real values; a no_log task's are Secrets: usable as data, never shown.
  const registered = noLog ? (secretStrings(final.data) as Record<string, unknown>) : final.data;
  // A module's result is data, never templated (Ansible's unsafe); controller actions' results hold variables.
  if (task.register && !getControllerAction(task.module)) markUnsafe(registered);
  if (task.register && final.status !== "unreachable") setHostFacts(hp, { [task.register]: registered });
  if (final.hostFacts && final.status !== "failed") setHostFacts(hp, final.hostFacts);
  if (final.status === "failed") hp.lastFailure = { task, result: final.data };

  const ignored = final.status === "failed" && ignoreErrors;
  const result: TaskResult = {
    status: final.status,
    msg: final.msg === undefined ? undefined : maskSecrets(final.msg),
    diff: final.diff,
    data: final.data,
    durationMs: Date.now() - started,
  };
  if (ignored) result.ignored = true;
  if (final.status === "failed" && !ignored && scope.rescuable) result.rescued = true;
  if (loopItems) result.items = outcomes.map((o) => ({ label: o.label, result: itemResult(o.outcome, noLog) }));
  if (check) result.checkMode = true;
  if (noLog) {
    result.msg = NO_LOG_MSG;
    result.data = { censored: NO_LOG_MSG, changed: final.data.changed === true };
    result.diff = undefined;
  }
  if (!isMeta || result.status === "failed") countResult(ps.run.stats[host], result);
  if (!isMeta || result.status === "failed" || result.status === "skipped") options.sink({ type: "host-task-result", host, task, result, isHandler });

  const changed = isChange(final);
  if (changed && notified) for (const h of notified.handlers) hp.notified.add(h);
  return {
    status: final.status,
    ignored,
    meta: final.meta,
    includes: single ? (single.include ? [single.include] : []) : ((final as { includes?: TaskOutcome["includes"] }).includes ?? []),
    register: registered,
    hostFacts: final.hostFacts,
    changed,
  };
}

/** One loop item (or the task without a loop): when, then the attempts (retries/until). */
async function runItem(
  ps: PlayState,
  hp: HostPlay,
  task: Task,
  scope: Scope,
  vars: Record<string, unknown>,
  when: Array<string | boolean> | undefined,
  _extra: Record<string, unknown> | undefined,
  where: string,
  searchPaths: string[],
): Promise<StepOutcome> {
  const host = hp.state.name;
  const templar = new Templar(vars, { where, searchPaths });
  try {
    if (when && when.length) {
      for (const c of when) {
        if (!templar.isTrue([c])) return skipped("Conditional result was False", { false_condition: c });
      }
    }
    // until/changed_when/failed_when add the result to the variables: work on a copy (vars may be a cached view).
    if (task.until || task.changedWhen || task.failedWhen) vars = { ...vars };
    const tr = makeTaskRun(ps, hp, task, scope, vars, task.until || task.changedWhen || task.failedWhen ? new Templar(vars, { where, searchPaths }) : templar);
    const attempts = task.until ? (task.retries === undefined ? 3 : task.retries <= 0 ? 1 : task.retries + 1) : 1;
    const delayMs = (task.delay ?? 5) * 1000;
    let outcome!: StepOutcome;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      outcome = await runStep(tr, task);
      if (outcome.status === "unreachable" || outcome.status === "skipped") return outcome;
      applyConditions(tr, task, outcome);
      if (!task.until) break;
      outcome.data.attempts = attempt;
      if (task.register) vars[task.register] = outcome.data;
      // A fresh Templar each attempt: the one before cached variables computed from the old
      // result (a `vars:` template reading the registered value never saw it change).
      tr.templar = new Templar(vars, { where, searchPaths });
      if (tr.templar.isTrue(task.until)) break;
      if (attempt === attempts) {
        outcome.status = "failed";
        outcome.data.failed = true;
        outcome.msg = outcome.msg ?? `Retries exhausted (${attempts} attempts)`;
        if (outcome.data.msg === undefined) outcome.data.msg = outcome.msg;
        break;
      }
      ps.run.options.sink({ type: "warning", host, task, message: `FAILED - RETRYING: ${task.name ?? task.module} (${attempts - attempt} retries left)` });
      await sleep(delayMs, ps.run.options.signal);
      if (ps.run.options.signal?.aborted) break;
    }
    return outcome;
  } catch (e) {
    return errorOutcome(e, host, task);
  }
}

/** The module or controller action, with errors turned into outcomes. */
async function runStep(tr: TaskRun, task: Task): Promise<StepOutcome> {
  try {
    const action = controllerAction(task.module);
    const module = getModule(task.module);
    // The loader's controller actions always run here; our extras (wait_for_connection) yield to a module of that name.
    if (action && (!module || getControllerAction(task.module) || /(^|\.)(gather_facts|setup)$/.test(task.module))) return await action(tr);
    if (module) return await runModule(tr, module);
    return failed(`Unknown module "${task.module}" (${formatPosition(task.where)})`);
  } catch (e) {
    return errorOutcome(e, tr.host, task);
  }
}

/** changed_when / failed_when with the result visible under the register name and as bare fields. */
function applyConditions(tr: TaskRun, task: Task, outcome: StepOutcome): void {
  if (!task.changedWhen && !task.failedWhen) return;
  const vars = tr.vars;
  for (const [k, v] of Object.entries(outcome.data)) if (!Object.hasOwn(vars, k)) vars[k] = v;
  if (task.register) vars[task.register] = outcome.data;
  const templar = new Templar(vars, { where: tr.templar.where, searchPaths: tr.templar.searchPaths });
  if (task.changedWhen) {
    const changed = templar.isTrue(task.changedWhen);
    outcome.data.changed = changed;
    if (outcome.status === "changed" || outcome.status === "ok") outcome.status = changed ? "changed" : "ok";
  }
  if (task.failedWhen) {
    const isFailed = templar.isTrue(task.failedWhen);
    outcome.data.failed = isFailed;
    if (isFailed) {
      if (outcome.status !== "failed") {
        outcome.status = "failed";
        outcome.msg = outcome.msg ?? "failed_when condition was true";
        outcome.data.failed_when_result = true;
      }
    } else if (outcome.status === "failed") {
      outcome.status = outcome.data.changed === true ? "changed" : "ok";
      outcome.data.failed_when_result = false;
    }
  }
}

/** Exceptions while running a step become failed (or unreachable) outcomes naming host and task. */
export function errorOutcome(e: unknown, host: string, task: Task): StepOutcome {
  if (e instanceof UnreachableError) return { status: "unreachable", msg: e.message, data: { unreachable: true, msg: e.message, changed: false } };
  if (e instanceof ModuleFailure) return failed(e.message, e.result);
  if (e instanceof UserError) {
    const where = e.where ? `${formatPosition(e.where)}: ` : "";
    // Template errors already say where they were rendered; others get the host and task.
    const site = e.message.includes(`host ${host}`) ? "" : ` (host ${host}, task '${task.name ?? task.module}')`;
    return failed(`${where}${e.message}${site}${e.hint ? ` (hint: ${e.hint})` : ""}`);
  }
  const err = e as Error;
  return failed(`Unexpected error on host ${host}, task '${task.name ?? task.module}': ${err?.message ?? String(e)}`, { exception: err?.stack });
}

function isCheck(ps: PlayState, task: Task, scope: Scope, templar: () => Templar): boolean {
  return keywordBool(task.checkMode ?? scope.checkMode, "check_mode", templar, task.where) ?? ps.play.checkMode ?? ps.run.options.check;
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

function makeTaskRun(ps: PlayState, hp: HostPlay, task: Task, scope: Scope, vars: Record<string, unknown>, templar: Templar): TaskRun {
  const options = ps.run.options;
  const host = hp.state.name;
  const keywordTemplar = () => templar;
  const becomeOn = keywordBool(task.become ?? scope.become, "become", keywordTemplar, task.where) ?? ps.play.become ?? asBool(vars.ansible_become) ?? options.connection.become ?? false;
  let become: BecomeOptions | undefined;
  const pw = options.connection.becomePassword ?? vars.ansible_become_password ?? vars.ansible_become_pass;
  const password = pw === undefined ? undefined : (() => {
    // A secret variable may hold a template ("{{ vault_become_pass }}"): render its text.
    const r = templar.render(pw instanceof Secret ? pw.reveal() : pw);
    return r instanceof Secret ? r.reveal() : String(r);
  })();
  // The become password is masked wherever it shows (debug, -v data, --json), not only kept off command lines.
  if (password) registerSecret(password);
  if (becomeOn) {
    const user = task.becomeUser ?? scope.becomeUser ?? ps.play.becomeUser ?? (vars.ansible_become_user !== undefined ? String(plainValue(templar.render(vars.ansible_become_user))) : options.connection.becomeUser);
    become = { user: user === undefined ? undefined : String(plainValue(templar.render(user))), password };
  }
  let env: Record<string, string> | undefined;
  const envs = task.environment ? [...scope.environment, task.environment] : scope.environment;
  if (envs.length) {
    env = {};
    for (const e of envs) {
      const r = templar.render(e) as Record<string, unknown>;
      for (const [k, v] of Object.entries(r ?? {})) env[k] = v instanceof Secret ? v.reveal() : typeof v === "string" ? v : JSON.stringify(v);
    }
  }
  const delegate = task.delegateTo ?? scope.delegateTo;
  let transport: Promise<Transport> | undefined;
  return {
    ps, hp, task, scope, host, vars, templar, become, env,
    check: isCheck(ps, task, scope, keywordTemplar),
    diff: keywordBool(task.diff ?? scope.diff, "diff", keywordTemplar, task.where) ?? options.diff,
    transport: () => (transport ??= openTransport(ps, hp, templar, vars, delegate)),
    warn: (message) => options.sink({ type: "warning", host, task, message }),
  };
}

/** A boolean variable (ansible_become): any other value is false, as Ansible's non-strict boolean(). */
function asBool(v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  return parseBoolean(v) ?? false;
}

/** The connection variables of a host, rendered (ansible_host may be a template). */
function connectionVars(templar: Templar, vars: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(vars)) {
    if (!k.startsWith("ansible_") || k === "ansible_facts") continue;
    // Passwords are Secrets (run/vars.ts), possibly holding a template: rendered, kept secret.
    if (v instanceof Secret) out[k] = markSecret(templar.render(v.reveal()));
    else out[k] = typeof v === "string" ? templar.render(v) : v;
  }
  return out;
}

async function openTransport(ps: PlayState, hp: HostPlay, templar: Templar, vars: Record<string, unknown>, delegate: string | undefined): Promise<Transport> {
  const pool = ps.run.pool;
  if (delegate !== undefined) {
    // Names rendered from a secret (a no_log result) are the real names (plainValue), not ***.
    const target = String(plainValue(templar.render(delegate)));
    if (target !== hp.state.name) {
      const known = ps.run.inventory.hosts.includes(target) ? ps.run.ensureHost(target) : undefined;
      if (known) {
        const dvars = varsFor(ps, hostPlayFor(ps, target), { vars: {} });
        return pool.get(target, connectionVars(new Templar(dvars), dvars), ps.play.connection);
      }
      if (target === "localhost" || target === "127.0.0.1") return pool.get("localhost", {}, "local");
      return pool.get(target, { ansible_host: target }, ps.play.connection);
    }
  }
  hp.transport ??= pool.get(hp.state.name, connectionVars(templar, vars), ps.play.connection);
  return hp.transport;
}

/** A HostPlay for any inventory host (the delegate may be outside the batch). */
export function hostPlayFor(ps: PlayState, host: string): HostPlay {
  const hp = ps.hosts.get(host);
  if (hp) return hp;
  const state = ps.run.ensureHost(host);
  return { state, notified: new Set(), failed: false, unreachable: false, ended: false, magic: magicVars(ps, host), varsCache: new WeakMap() };
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

function itemResult(o: StepOutcome, noLog: boolean): TaskResult {
  const r: TaskResult = { status: o.status, msg: o.msg === undefined ? undefined : maskSecrets(o.msg), diff: o.diff, data: o.data, durationMs: 0 };
  if (noLog) {
    r.msg = NO_LOG_MSG;
    r.data = { censored: NO_LOG_MSG, changed: o.data.changed === true };
    r.diff = undefined;
  }
  return r;
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

export type { Item };
