/**
 * One loop item of a task (or the task without a loop): its `when`, the attempts (retries/until),
 * the module or controller action, changed_when/failed_when, all on a TaskRun that carries the
 * item's variables, become, environment, check/diff and the host's transport (Ansible's
 * TaskExecutor._execute). task.ts decides what runs; task-loop.ts feeds the items.
 */
import { formatPosition } from "../errors.ts";
import { getModule } from "../modules/registry.ts";
import type { Task } from "../playbook/types.ts";
import { markSecret, plainValue, registerSecret, Secret } from "../shell/secret.ts";
import { Templar } from "../template/templar.ts";
import type { BecomeOptions, Transport } from "../transport/types.ts";
import { parseBoolean } from "../boolean.ts";
import { CONTROLLER_ACTION_RUNNERS } from "./actions/index.ts";
import { keywordBool } from "./keyword-values.ts";
import { runModule } from "./module-step.ts";
import { errorOutcome, failed, skipped, type StepOutcome } from "./outcome.ts";
import { sleep } from "./sleep.ts";
import type { HostPlay, PlayState, Scope } from "./state.ts";
import type { TaskRun } from "./task-run.ts";
import { magicVars, varsFor } from "./vars.ts";

/** One loop item (or the task without a loop): when, then the attempts (retries/until). */
export async function runItem(
  ps: PlayState,
  hp: HostPlay,
  task: Task,
  scope: Scope,
  vars: Record<string, unknown>,
  when: Array<string | boolean> | undefined,
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
    if (task.action) return await CONTROLLER_ACTION_RUNNERS[task.action](tr);
    const module = getModule(task.module);
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

export function isCheck(ps: PlayState, task: Task, scope: Scope, templar: () => Templar): boolean {
  return keywordBool(task.checkMode ?? scope.checkMode, "check_mode", templar, task.where) ?? ps.play.checkMode ?? ps.run.options.check;
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
