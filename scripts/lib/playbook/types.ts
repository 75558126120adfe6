/**
 * A playbook after loading: plain data the executor walks. The loader resolves roles,
 * static imports and module names; dynamic includes (include_tasks/include_role) stay as
 * tasks the executor expands per host at run time through `loadIncludedTasks`.
 */
import type { SourcePosition } from "../errors.ts";

/** Keywords shared by tasks and blocks (and inherited from blocks/roles/plays into tasks). */
export interface TaskKeywords {
  name?: string;
  /** Conditions, all must hold (Jinja2 expressions without braces, or booleans). */
  when?: Array<string | boolean>;
  tags: string[];
  become?: boolean;
  becomeUser?: string;
  /** Per-item or block-level variables (task vars). */
  vars?: Record<string, unknown>;
  environment?: Record<string, unknown>;
  ignoreErrors?: boolean;
  noLog?: boolean;
  runOnce?: boolean;
  delegateTo?: string;
  checkMode?: boolean;
  diff?: boolean;
  anyErrorsFatal?: boolean;
}

export interface RoleContext {
  name: string;
  /** Absolute path of roles/<name>. */
  path: string;
  /** defaults/main.yml (lowest precedence). */
  defaults: Record<string, unknown>;
  /** vars/main.yml (above play vars). */
  vars: Record<string, unknown>;
}

export interface Task extends TaskKeywords {
  kind: "task";
  /** Canonical module name ("copy", "include_tasks", "meta", ...). */
  module: string;
  /** Arguments as written (templated later, per host and loop item). */
  args: Record<string, unknown>;
  where: SourcePosition;
  loop?: unknown;
  loopControl?: { loopVar?: string; indexVar?: string; label?: string; pause?: number; extended?: boolean };
  register?: string;
  notify?: string[];
  /** Handlers only: topics this handler also answers to. */
  listen?: string[];
  changedWhen?: Array<string | boolean>;
  failedWhen?: Array<string | boolean>;
  until?: Array<string | boolean>;
  retries?: number;
  delay?: number;
  role?: RoleContext;
  /** Directory to resolve relative files against when there is no role (the playbook's). */
  baseDir: string;
}

export interface Block extends TaskKeywords {
  kind: "block";
  block: Item[];
  rescue: Item[];
  always: Item[];
  where: SourcePosition;
  role?: RoleContext;
}

export type Item = Task | Block;

export interface Play {
  name: string;
  /** Host pattern as written (may contain a template). */
  hosts: string;
  where: SourcePosition;
  vars: Record<string, unknown>;
  /** vars_files already loaded, in order (later wins). */
  varsFiles: Record<string, unknown>;
  become?: boolean;
  becomeUser?: string;
  gatherFacts: boolean;
  /** serial as written: numbers or "30%" strings, a list means batches growing. */
  serial?: Array<number | string>;
  anyErrorsFatal: boolean;
  maxFailPercentage?: number;
  connection?: "ssh" | "local";
  checkMode?: boolean;
  tags: string[];
  /** pre_tasks, roles, tasks, post_tasks in order, each role's tasks wrapped in a Block. */
  items: Item[];
  handlers: Task[];
  /** The roles of the play (for role defaults/vars layering). */
  roles: RoleContext[];
  baseDir: string;
}

export interface Playbook {
  file: string;
  plays: Play[];
}
