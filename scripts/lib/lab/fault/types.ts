/**
 * Faults the lab injects into a node on command (`npm run lab -- fault NODE KIND`), and what
 * each one records in state.json so that `heal` undoes exactly that.
 */
import type { LabState, NodeState } from "../state.ts";

/** The kinds, in the order the help lists them. */
export const FAULT_KINDS = ["down", "sshd-kill", "link", "reboot", "hang", "disk-full", "apt-down", "rekey"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What a node's fault left to undo (NodeState.fault). */
export type FaultRecord = { since: string } & (
  | { kind: "down" }
  | { kind: "sshd-kill"; killed: number[] }
  /** restorePid: the detached timer that brings the link back after forMs. */
  | { kind: "link"; link: string; forMs?: number; restorePid?: number }
  | { kind: "reboot"; bootId?: string }
  | { kind: "hang"; stopped: number[] }
  | { kind: "disk-full"; path: string }
  | { kind: "apt-down"; table: string }
  | { kind: "rekey"; fingerprints: string[] }
);

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
