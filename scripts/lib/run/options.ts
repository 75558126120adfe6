/**
 * What the CLI hands the executor. The CLI (scripts/play.ts) parses flags, loads the
 * inventory and playbook, and calls `runPlaybook(playbook, options)` from ./execute.ts.
 */
import type { Inventory } from "../inventory/inventory.ts";
import type { EventSink, HostStats } from "./events.ts";
import type { Item, Task } from "../playbook/types.ts";
import type { ExecResult, Transport } from "../transport/types.ts";
import type { ConnectionSettingsOverrides } from "../transport/connect.ts";
import type { TagFilter } from "../playbook/tags.ts";

export type { TagFilter } from "../playbook/tags.ts";

/** The transport's overrides (connect.ts) and become's, from the flags and ansible.cfg. */
export interface ConnectionOverrides extends ConnectionSettingsOverrides {
  /** -b */
  become?: boolean;
  /** -K: asked once on the controller, fed to sudo on stdin. */
  becomePassword?: string;
  /** ansible.cfg become_user (play, task and ansible_become_user win). */
  becomeUser?: string;
}

export interface RunOptions {
  inventory: Inventory;
  check: boolean;
  diff: boolean;
  /** Hosts in parallel (default 50). */
  forks: number;
  /** --limit patterns, already split. */
  limit?: string;
  tags: TagFilter;
  /** -e, already parsed and merged in order (highest precedence). */
  extraVars: Record<string, unknown>;
  startAtTask?: string;
  /** --step: asks before each task (needs a TTY). */
  step?: (task: Task) => Promise<"yes" | "no" | "continue">;
  connection: ConnectionOverrides;
  verbosity: number;
  sink: EventSink;
  /** Ctrl-C: stop starting new work; in-flight writes finish (they are atomic renames). */
  signal?: AbortSignal;
  /**
   * In place of the loader's include_tasks (playbook/load.ts loadIncludedTasks): for tests that
   * give the executor items without files.
   */
  loadIncludedTasks?(file: string, from: Task): Item[];
  /** In place of the loader's include_role/import_role at run time (loadIncludedRole), likewise. */
  loadIncludedRole?(name: string, from: Task, options: { tasksFrom?: string }): Item[];
  /**
   * Makes the transport of a host (added for tests and embedders; default: SSH via
   * transport/connect.ts, or the local shell for `connection: local`).
   */
  createTransport?: (host: string, vars: Record<string, unknown>, overrides: ConnectionOverrides) => Transport | Promise<Transport>;
  /** Gathers facts with one command (added for tests; default: facts/gather.ts). */
  gatherFacts?: (run: (command: string) => Promise<ExecResult>) => Promise<Record<string, unknown>>;
}

export interface RunSummary {
  stats: Record<string, HostStats>;
  /** Any host failed (exit 2) / was unreachable (exit 4). */
  failed: boolean;
  unreachable: boolean;
  interrupted: boolean;
}
