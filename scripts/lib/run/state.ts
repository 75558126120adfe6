/**
 * The executor's bookkeeping: what persists per host for the whole run (facts, set_fact and
 * registered variables, whether the host is still in the run), what one play (batch) shares,
 * and what a host carries through one play.
 */
import type { Play, RoleContext, Task, TaskKeywords } from "../playbook/types.ts";
import type { HostStats } from "./events.ts";
import type { RunOptions } from "./options.ts";
import type { ConnectionPool } from "./connections.ts";
import type { Transport } from "../transport/types.ts";
import type { RunInventory } from "./inventory-overlay.ts";

/** A host across the whole run. */
export interface HostState {
  name: string;
  /** inventory.hostVars(host), read once. */
  inventoryVars: Record<string, unknown>;
  /** Gathered facts (ansible_facts), cached for the run; undefined until gathered. */
  facts?: Record<string, unknown>;
  /** Facts a module returned (service_facts, package_facts, hostname), as Ansible merges them into the host's facts. */
  moduleFacts?: Record<string, unknown>;
  /** Variables the run set on the host (set_fact, register, include_vars, a module's ApplyResult.hostVars), as Ansible's per-host variables: above task vars, below extra vars; kept across plays. */
  hostVars: Record<string, unknown>;
  /** Bumped whenever hostVars or facts change: per-task variable views cached before are stale. */
  version: number;
  /** Failed or unreachable: Ansible drops such a host from the rest of the playbook. */
  out: boolean;
  /** --start-at-task: this host reached the named task. */
  started: boolean;
  /** Cached variable bases by role name (see vars.ts); cleared when facts change. */
  bases: Map<string, Record<string, unknown>>;
  basesPlay?: Play;
}

/** The whole run. */
export interface RunState {
  options: RunOptions;
  /** The inventory with run-time additions (add_host, group_by). */
  inventory: RunInventory;
  /** The HostState of a host (made on first use, e.g. a host added by add_host). */
  ensureHost(name: string): HostState;
  playbookDir: string;
  hosts: Map<string, HostState>;
  stats: Record<string, HostStats>;
  pool: ConnectionPool;
  interrupted: boolean;
  /** --step answered "continue": no more questions. */
  stepDone: boolean;
  /** --step answers per task object (hosts reaching the same task share the answer). */
  stepAnswers: WeakMap<Task, Promise<boolean>>;
}

/** One play, or one serial batch of it. */
export interface PlayState {
  run: RunState;
  play: Play;
  /** Hosts of this batch / of the whole play (play_hosts, ansible_play_hosts_all). */
  batch: string[];
  playHosts: string[];
  hosts: Map<string, HostPlay>;
  /** Handlers known to the play (play handlers, role handlers, include_role handlers). */
  handlers: Task[];
  /** task-start already emitted for these tasks. */
  announced: WeakSet<Task>;
  /** run_once results by task: the first host runs it, the others share the outcome. */
  once: WeakMap<Task, Promise<unknown>>;
  /** end_play, any_errors_fatal, max_fail_percentage: no host starts another task. */
  stopped: boolean;
  /** The rest of the play's batches are skipped too (end_play, any_errors_fatal, max_fail_percentage). */
  abortPlay: boolean;
  /** any_errors_fatal / max_fail_percentage tripped: later plays do not run either (as ansible-playbook). */
  endPlaybook?: boolean;
  /** The lazily built hostvars mapping (shared by every host of the play). */
  hostvars: Record<string, unknown>;
}

/** A host within one play (batch). */
export interface HostPlay {
  state: HostState;
  /** Handlers this host was notified of (pending until a flush). */
  notified: Set<Task>;
  failed: boolean;
  unreachable: boolean;
  /** meta: end_host (or end_play). */
  ended: boolean;
  /** Magic variables of this host in this play (without role_name/role_path). */
  magic: Record<string, unknown>;
  /** The host's own connection for this play (opened on first use). */
  transport?: Promise<Transport>;
  /** Variables per (scope, task vars) for the current version (see vars.ts). */
  varsCache: WeakMap<object, WeakMap<object, { version: number; vars: Record<string, unknown> }>>;
  /** The last failure (ansible_failed_task / ansible_failed_result in rescue). */
  lastFailure?: { task: Task; result: Record<string, unknown> };
}

/** The task keywords the innermost block, role or include that sets one decides for the tasks below. */
type InheritedKeywords = Pick<TaskKeywords, "become" | "becomeUser" | "ignoreErrors" | "noLog" | "runOnce" | "delegateTo" | "checkMode" | "diff" | "anyErrorsFatal">;

/** Keywords inherited from blocks, roles and includes into the tasks below them. */
export interface Scope extends InheritedKeywords {
  /** Block vars and include params, outer to inner (task vars are added per task). */
  vars: Record<string, unknown>;
  /** Include params (vars of include_tasks/include_role and their loop item): above task vars. */
  params?: Record<string, unknown>;
  role?: RoleContext;
  /** Conditions of every block around, all must hold. */
  when: Array<string | boolean>;
  /** environment of every block around, outer to inner. */
  environment: Array<Record<string, unknown>>;
  /** Inside the `block:` part of a block that has a rescue: failures there are rescued. */
  rescuable: boolean;
  /** notify of enclosing blocks. */
  notify: string[];
  /** The include tasks (file:line) this scope is nested in, outermost first (bounded). */
  includes?: string[];
}
