/**
 * The module contract (ARCHITECTURE.md): a module declares a JSON Schema for its arguments
 * and two steps. `plan` is read-only and says whether anything would change (with a reason
 * when not); `apply` makes the change, atomically, and is only called when the plan says
 * changed and the run is not in check mode. plan-apply.ts is the one place that enforces this.
 */
import type { ExecResult } from "../transport/types.ts";
import type { Secret } from "../shell/secret.ts";

export type JsonSchema = Record<string, unknown>;

export interface RunOptions {
  stdin?: string | Uint8Array;
  timeoutMs?: number;
  /** false runs this command without the task's become (e.g. a probe that needs no root). */
  become?: boolean;
  env?: Record<string, string>;
}

/**
 * A named probe: one read-only remote command and the parser of what it prints, kept together
 * under a name (modules read state with readProbe in probe.ts).
 */
export interface Probe<Input, State> {
  /** Unique; the key of a module fixture's `state`. */
  readonly name: string;
  /** The shell command; every value in it is quoted (shell/quote.ts). */
  command(input: Input): string;
  /** What the command printed, as state; throws a ModuleFailure when the probe itself failed. */
  parse(result: ExecResult, input: Input): State;
}

/** What a module sees of the world. Built by the executor per task and host. */
export interface ModuleContext {
  /** inventory_hostname */
  readonly host: string;
  readonly check: boolean;
  readonly diff: boolean;
  /** All variables of the host for this task (facts under ansible_facts and ansible_*). */
  readonly vars: Readonly<Record<string, unknown>>;
  /** Runs a command on the target with the task's become applied. Never throws on rc != 0. */
  run(command: string, options?: RunOptions): Promise<ExecResult>;
  /**
   * Finds a controller-side file the way Ansible does: the role's files/ or templates/ first,
   * then the playbook's directory. Throws a UserError naming the places searched.
   */
  findFile(kind: "files" | "templates" | "vars", path: string): string;
  /** Renders Jinja2 text with the task's variables (for the template module); a Secret when it read a secret. */
  /** `options`: the template module's trim_blocks/lstrip_blocks (Jinja's defaults: true/false). */
  renderTemplate(text: string, sourceName: string, options?: { trimBlocks?: boolean; lstripBlocks?: boolean }): string | Secret;
  /** Reconnects to the host (after a reboot, or at a new address for static-ip). */
  reconnect(options?: { address?: string; timeoutMs?: number }): Promise<void>;
  /** A warning shown with the task result. */
  warn(message: string): void;
  /**
   * Test contexts only: answers a named probe (probe.ts) with its parsed state, e.g. from a
   * fixture, or undefined to let readProbe run the command. The executor leaves it out.
   */
  answerProbe?(probe: Probe<any, any>, input: unknown, command: string, options?: RunOptions): Promise<{ state: unknown } | undefined>;
}

/** A file's change, shown by --diff as a unified diff. */
export interface FileDiff {
  before: string;
  after: string;
  before_header?: string;
  after_header?: string;
}

export interface Plan<State = unknown> {
  changed: boolean;
  /** Why nothing changes ("line present"); required when changed is false. */
  reason?: string;
  /** What changes / changed, short past tense ("line added"). */
  msg?: string;
  diff?: FileDiff[];
  /** Carried from plan to apply (e.g. the new content). */
  state?: State;
  /** Fields for `register` (Ansible's return values, e.g. `stat`, `rc`). */
  result?: Record<string, unknown>;
  /**
   * Skip this task with this reason (e.g. command in check mode, a Pi-only step on a
   * non-Pi). The executor reports it as skipped.
   */
  skipped?: string;
}

/** What apply returns; merged over the plan's result for `register`. */
export interface ApplyResult {
  msg?: string;
  result?: Record<string, unknown>;
  /** Variables to set on the host (set_fact-like), e.g. ansible_host after a static-ip change. */
  hostVars?: Record<string, unknown>;
}

export interface ModuleDefinition<Args = any, State = any> {
  /** Short name, e.g. "copy". */
  name: string;
  /** Other accepted names, e.g. "ansible.builtin.copy". */
  aliases: string[];
  /** JSON Schema of the arguments (draft-07, additionalProperties false). */
  schema: JsonSchema;
  /** For `command: ls -l` style tasks: the argument a plain string value fills (e.g. "_raw_params"). */
  freeForm?: string;
  /**
   * Command-like modules run their action whenever called (no probe can say "already done")
   * unless creates/removes say so; changed_when then decides.
   */
  nonIdempotent?: boolean;
  /**
   * For a nonIdempotent module: true when these arguments let plan decide (command's
   * creates/removes), so check mode trusts the plan instead of skipping the task.
   */
  planDecides?(args: Args): boolean;
  /**
   * Arguments this module takes as Secrets (it reveals them only where they go: a stdin, a
   * 0600 file, a command never shown). Every other argument rendered from a secret reaches
   * the module as its plain text, so no module can write `***` by mistake.
   */
  secretArgs?: readonly string[];
  plan(args: Args, ctx: ModuleContext): Promise<Plan<State>>;
  /** Omitted by read-only modules (stat, slurp, debug-like). */
  apply?(plan: Plan<State>, args: Args, ctx: ModuleContext): Promise<ApplyResult | void>;
}

/** A module's own failure (e.g. a disk with data refused): the task fails with this message. */
export class ModuleFailure extends Error {
  constructor(
    message: string,
    readonly result: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ModuleFailure";
  }
}
