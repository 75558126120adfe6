/**
 * What a fault left to undo, as state.json records it (NodeState.fault): `heal` reads it to
 * undo exactly that. Kept apart from types.ts, which needs the state's types.
 */

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
