/**
 * `--json FILE`: every task result in the layout of Ansible's `json` stdout callback
 * (plays -> tasks -> hosts, then per-host `stats`), written atomically at the end of the run
 * (temp file then rename) so a reader never sees half a report, even after Ctrl-C.
 */
import { randomUUID } from "node:crypto";
import { renameSync, writeFileSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import type { HostStats, RunEvent, TaskResult } from "../run/events.ts";
import type { Play, Task } from "../playbook/types.ts";
import { maskValue } from "../shell/secret.ts";
import { countResult, emptyStats } from "../run/stats.ts";

interface Duration {
  start: string;
  end?: string;
}

export interface JsonTaskEntry {
  task: { name: string; id: string; duration: Duration; path?: string };
  hosts: Record<string, Record<string, unknown>>;
}

export interface JsonPlayEntry {
  play: { name: string; id: string; duration: Duration; path?: string };
  tasks: JsonTaskEntry[];
}

export interface JsonReportData {
  custom_stats: Record<string, unknown>;
  global_custom_stats: Record<string, unknown>;
  plays: JsonPlayEntry[];
  stats: Record<string, HostStats>;
}

/** A task's name as shown: its (templated) name, or the module name when it has none. */
export function taskTitle(task: Task, templatedName?: string): string {
  const name = templatedName ?? task.name ?? task.module;
  return task.role ? `${task.role.name} : ${name}` : name;
}

/** A TaskResult in Ansible's result-dict shape. */
export function ansibleResult(task: Task, result: TaskResult): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(result.data ?? {}) };
  out.action = task.module;
  out.changed = result.status === "changed";
  if (result.msg !== undefined) out.msg = result.msg;
  if (result.status === "failed") out.failed = true;
  if (result.status === "skipped") {
    out.skipped = true;
    if (result.msg !== undefined) out.skip_reason = result.msg;
  }
  if (result.status === "unreachable") out.unreachable = true;
  if (result.ignored) out.ignored = true;
  if (result.rescued) out.rescued = true;
  if (result.diff) out.diff = result.diff;
  if (result.items) {
    out.results = result.items.map((i) => ({ ...ansibleResult(task, i.result), item: i.label, ansible_loop_var: task.loopControl?.loopVar ?? "item" }));
  }
  out._ansible_no_log = task.noLog === true;
  out.duration_ms = result.durationMs;
  return out;
}

/** Collects events into Ansible's json callback structure. */
export class JsonReport {
  readonly data: JsonReportData = { custom_stats: {}, global_custom_stats: {}, plays: [], stats: {} };
  readonly #tasks = new Map<Task, JsonTaskEntry>();

  handle(event: RunEvent): void {
    const now = new Date().toISOString();
    const play = this.data.plays.at(-1);
    switch (event.type) {
      case "play-start":
        this.closeTask(now);
        if (play) play.play.duration.end ??= now;
        this.data.plays.push({ play: { name: event.play.name, id: randomUUID(), duration: { start: now }, path: location(event.play.where) }, tasks: [] });
        break;
      case "task-start": {
        this.closeTask(now);
        const entry: JsonTaskEntry = { task: { name: taskTitle(event.task, event.name), id: randomUUID(), duration: { start: now }, path: location(event.task.where) }, hosts: {} };
        this.#tasks.set(event.task, entry);
        play?.tasks.push(entry);
        break;
      }
      case "host-task-result": {
        let entry = this.#tasks.get(event.task);
        if (!entry) {
          // A result without task-start (e.g. an included task): give it its own entry.
          entry = { task: { name: taskTitle(event.task), id: randomUUID(), duration: { start: now }, path: location(event.task.where) }, hosts: {} };
          this.#tasks.set(event.task, entry);
          play?.tasks.push(entry);
        }
        entry.hosts[event.host] = ansibleResult(event.task, event.result);
        // Counted here too for a run cut off before its recap (SIGTERM); the recap replaces them.
        countResult((this.data.stats[event.host] ??= emptyStats()), event.result);
        break;
      }
      case "play-end":
        this.closeTask(now);
        if (play) play.play.duration.end = now;
        break;
      case "recap":
        // A copy: the next playbook's results are counted onto it (see host-task-result).
        this.data.stats = Object.fromEntries(Object.entries(event.stats).map(([host, stats]) => [host, { ...stats }]));
        break;
    }
  }

  private closeTask(now: string): void {
    const last = this.data.plays.at(-1)?.tasks.at(-1);
    if (last) last.task.duration.end ??= now;
  }

  /** The report as JSON text (secrets masked in the values, before JSON escapes them). */
  toJSON(): string {
    return JSON.stringify(maskValue(this.data), null, 4) + "\n";
  }

  /** Writes the report atomically (a temp file beside it, then rename). */
  write(file: string): void {
    const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
    writeFileSync(tmp, this.toJSON(), { mode: 0o644 });
    renameSync(tmp, file);
  }
}

function location(where: { file: string; line?: number }): string {
  return where.line !== undefined ? `${where.file}:${where.line}` : where.file;
}
