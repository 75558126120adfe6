/**
 * Everything one task run on one host (one loop item) needs: its variables and Templar, the
 * effective check/diff/become/environment, and the host's transport (delegate-aware).
 */
import type { Task } from "../playbook/types.ts";
import type { BecomeOptions, Transport } from "../transport/types.ts";
import type { Templar } from "../template/templar.ts";
import type { HostPlay, PlayState, Scope } from "./state.ts";

export interface TaskRun {
  ps: PlayState;
  hp: HostPlay;
  task: Task;
  scope: Scope;
  host: string;
  vars: Record<string, unknown>;
  templar: Templar;
  check: boolean;
  diff: boolean;
  become?: BecomeOptions;
  env?: Record<string, string>;
  /** The connected transport of the target (the delegate's when delegate_to). */
  transport(): Promise<Transport>;
  warn(message: string): void;
}
