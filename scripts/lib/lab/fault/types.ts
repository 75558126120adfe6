/**
 * How a fault kind plugs into `npm run lab -- fault NODE KIND` / `heal NODE`: its options,
 * what it works on, and the inject/heal pair each kind file exports.
 */
import type { LabState, NodeState } from "../state.ts";
import { FAULT_KINDS, type FaultKind, type FaultRecord } from "./record.ts";

export { FAULT_KINDS, type FaultKind, type FaultRecord };

/** Options of `fault` (each kind reads what it needs). */
export interface FaultOptions {
  /** link: bring the link back after this many ms (else at heal). */
  forMs?: number;
  /** disk-full: the folder whose filesystem is full (absolute). */
  path?: string;
}

/** What a kind's inject and heal work on. */
export interface FaultContext {
  state: LabState;
  node: NodeState;
  log: (line: string) => void;
}

/** The record of one kind. */
export type Recorded<K extends FaultKind> = Extract<FaultRecord, { kind: K }>;

/** One kind: inject returns what to record (and a sentence for the user); heal undoes it. */
export interface FaultHandler<K extends FaultKind> {
  inject(ctx: FaultContext, options: FaultOptions): Promise<{ record: Omit<Recorded<K>, "since">; said: string }>;
  /** Undoes the fault and waits until the node answers again; returns a sentence for the user. */
  heal(ctx: FaultContext, record: Recorded<K>): Promise<string>;
  /** What `lab down` must undo on the host without waiting for the node (a timer process). */
  release?(record: Recorded<K>): void;
}
