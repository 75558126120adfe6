/**
 * What one run of a task (one loop item, one attempt) gives: the status, the message, and the
 * value `register` stores, shaped as Ansible's (changed, failed, skipped, msg, rc, stdout,
 * stdout_lines, stderr, stderr_lines, plus the module's own fields).
 */
import { formatPosition, UserError } from "../errors.ts";
import { ModuleFailure, type FileDiff } from "../modules/types.ts";
import type { Item, Task } from "../playbook/types.ts";
import { UnreachableError } from "../transport/types.ts";
import type { TaskStatus } from "./events.ts";

export interface StepOutcome {
  status: TaskStatus;
  msg?: string;
  diff?: FileDiff[];
  /** The registered value. */
  data: Record<string, unknown>;
  /** Variables to set on the host (set_fact, include_vars, a module's ApplyResult.hostVars). */
  hostVars?: Record<string, unknown>;
  /** meta: what to do ("flush_handlers", "end_host", ...). */
  meta?: string;
  /** include_tasks / include_role: the items to run now on this host, with their params. */
  include?: { items: Item[]; params: Record<string, unknown>; handlers: Task[] };
}

/** Adds stdout_lines/stderr_lines beside stdout/stderr, as Ansible's command results have. */
export function withLines(data: Record<string, unknown>): Record<string, unknown> {
  if (typeof data.stdout === "string" && data.stdout_lines === undefined) data.stdout_lines = splitLines(data.stdout);
  if (typeof data.stderr === "string" && data.stderr_lines === undefined) data.stderr_lines = splitLines(data.stderr);
  return data;
}

function splitLines(text: string): string[] {
  if (text === "") return [];
  return text.replace(/\r?\n$/, "").split(/\r?\n/);
}

/** A failed step with a message (and the fields the failure carried). */
export function failed(msg: string, extra: Record<string, unknown> = {}): StepOutcome {
  return { status: "failed", msg, data: withLines({ ...extra, changed: extra.changed === true, failed: true, msg }) };
}

/** A skipped step (when false, check mode, ...). */
export function skipped(reason: string, extra: Record<string, unknown> = {}): StepOutcome {
  return { status: "skipped", msg: reason, data: { ...extra, changed: false, skipped: true, skip_reason: reason } };
}

/** An ok/changed step. */
export function done(changed: boolean, msg: string | undefined, data: Record<string, unknown> = {}): StepOutcome {
  const out: Record<string, unknown> = { ...data, changed };
  if (msg !== undefined && out.msg === undefined) out.msg = msg;
  return { status: changed ? "changed" : "ok", msg, data: withLines(out) };
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
