/**
 * What the executor tells the world. Reports (live view, CI lines, JSON) subscribe to these
 * events and never drive execution.
 */
import type { Play, Task } from "../playbook/types.ts";
import type { FileDiff } from "../modules/types.ts";

export type TaskStatus = "ok" | "changed" | "failed" | "skipped" | "unreachable";

export interface TaskResult {
  status: TaskStatus;
  /** Short message: the no-op reason, the change, or the failure. Secrets already masked. */
  msg?: string;
  diff?: FileDiff[];
  /** Errors ignored by ignore_errors (counted as ignored in the recap). */
  ignored?: boolean;
  /** Failure handled by a rescue section (counted as rescued). */
  rescued?: boolean;
  /** Loop results, one per item, each with its label. */
  items?: Array<{ label: string; result: TaskResult }>;
  /** The registered value (what `register` stores), masked when no_log. */
  data?: Record<string, unknown>;
  /** Wall time of the task on this host. */
  durationMs: number;
  /** The task was skipped (or run) in check mode. */
  checkMode?: boolean;
}

export interface HostStats {
  ok: number;
  changed: number;
  failures: number;
  unreachable: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

export type RunEvent =
  | { type: "play-start"; play: Play; hosts: string[] }
  /** `name`: the task's name templated as Ansible shows it at task start (first host's variables). */
  | { type: "task-start"; play: Play; task: Task; hosts: string[]; isHandler: boolean; name?: string }
  | { type: "host-task-start"; host: string; task: Task }
  | { type: "host-task-result"; host: string; task: Task; result: TaskResult; isHandler: boolean }
  | { type: "warning"; host?: string; task?: Task; message: string }
  | { type: "play-end"; play: Play }
  | { type: "recap"; stats: Record<string, HostStats> };

export type EventSink = (event: RunEvent) => void;
