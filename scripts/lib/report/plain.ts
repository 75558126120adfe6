/**
 * The CI view (no TTY, or CI=true): Ansible-style PLAY/TASK banners and one line per task per
 * host with the host, the task, where it is written and what happened, e.g.
 *   ok: [pi-1] Ensure NTP server is set (roles/ntp/tasks/main.yml:3) — drop-in present
 * --diff prints each change's unified diff under its line; -v adds the result data of
 * changed/failed tasks, -vv of every task.
 */
import { relative } from "node:path";
import type { RunEvent, TaskResult, TaskStatus } from "../run/events.ts";
import type { Task } from "../playbook/types.ts";
import { maskSecrets, maskValue } from "../shell/secret.ts";
import { paint, statusColor } from "./colors.ts";
import { formatDiffs } from "./diff.ts";
import { banner, formatRecap } from "./recap.ts";
import { taskTitle } from "./json.ts";

export interface TextReportOptions {
  /** Where normal output goes (stdout). */
  write(text: string): void;
  /** Where warnings go (stderr). */
  writeError?(text: string): void;
  verbosity: number;
  diff: boolean;
  color: boolean;
  cwd?: string;
}

const WORD: Record<TaskStatus, string> = { ok: "ok", changed: "changed", failed: "failed", skipped: "skipping", unreachable: "unreachable" };

/** Where a task is written, relative to the working directory (file:line). */
export function taskLocation(task: Task, cwd = process.cwd()): string {
  const file = relative(cwd, task.where.file) || task.where.file;
  return task.where.line !== undefined ? `${file}:${task.where.line}` : file;
}

/** The one-line form of a task result on a host. */
export function resultLine(host: string, task: Task, result: TaskResult, options: { color: boolean; cwd?: string; item?: string }): string {
  const word = WORD[result.status];
  const delegated = task.delegateTo && !task.delegateTo.includes("{{") && task.delegateTo !== host ? ` -> ${task.delegateTo}` : "";
  let line = `${paint(`${word}: [${host}${delegated}]`, statusColor(result.status), options.color)} ${taskTitle(task)}`;
  if (options.item !== undefined) line += ` (item=${maskSecrets(options.item)})`;
  line += ` (${taskLocation(task, options.cwd)})`;
  const msg = result.msg ? maskSecrets(result.msg).split("\n")[0] : "";
  if (msg) line += ` — ${msg}`;
  if (result.ignored) line += " ...ignoring";
  if (result.rescued) line += " (rescued)";
  return line;
}

/** Result data for -v output (indented JSON; secrets masked in the values, before JSON escapes them). */
export function resultData(result: TaskResult): string {
  if (!result.data || Object.keys(result.data).length === 0) return "";
  return JSON.stringify(maskValue(result.data), null, 2)
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}

/** Prints what a result means for a host: its line(s), diff and data. */
export function formatResult(host: string, task: Task, result: TaskResult, options: TextReportOptions): string {
  const out: string[] = [];
  const entries = result.items?.length ? result.items.map((i) => ({ result: i.result, item: i.label })) : [{ result, item: undefined }];
  for (const entry of entries) {
    out.push(resultLine(host, task, entry.result, { color: options.color, cwd: options.cwd, item: entry.item }));
    const full = entry.result.msg ? maskSecrets(entry.result.msg) : "";
    // The lines after the first say what to do (e.g. how to accept a new host key).
    if ((entry.result.status === "failed" || entry.result.status === "unreachable") && full.includes("\n")) out.push(full.split("\n").slice(1).map((l) => `    ${l}`).join("\n"));
    if (options.diff && entry.result.diff?.length) {
      const text = formatDiffs(entry.result.diff, options.color).replace(/\n$/, "");
      if (text) out.push(text);
    }
  }
  const showData = options.verbosity >= 2 || (options.verbosity >= 1 && (result.status === "changed" || result.status === "failed"));
  if (showData) {
    const data = resultData(result);
    if (data) out.push(data);
  }
  return out.join("\n") + "\n";
}

/** Line-per-task-per-host report. Subscribe `handle` to the executor's events. */
export class PlainReport {
  constructor(private readonly options: TextReportOptions) {}

  handle(event: RunEvent): void {
    const o = this.options;
    switch (event.type) {
      case "play-start":
        o.write(`${banner(`PLAY [${event.play.name}]`)}\n`);
        if (event.hosts.length === 0) o.write("skipping: no hosts matched\n");
        break;
      case "task-start":
        if (event.task.implicit) break;
        o.write(`${banner(`${event.isHandler ? "RUNNING HANDLER" : "TASK"} [${taskTitle(event.task, event.name)}]`)}\n`);
        break;
      case "host-task-result":
        o.write(formatResult(event.host, event.task, event.result, o));
        break;
      case "warning": {
        const where = event.host ? `[${event.host}] ` : "";
        (o.writeError ?? o.write)(`${paint("[WARNING]", "magenta", o.color)}: ${where}${maskSecrets(event.message)}\n`);
        break;
      }
      case "recap":
        o.write(formatRecap(event.stats, { color: o.color }));
        break;
    }
  }
}
