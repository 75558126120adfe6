/**
 * `lab fault NODE KIND` and `lab heal NODE`: one fault per node at a time, recorded in
 * state.json (NodeState.fault) before the command returns, so that heal undoes exactly what
 * fault did, from any process, and `lab down` releases what would outlive the lab.
 */
import { UserError, ExitCode, didYouMean } from "../../errors.ts";
import { labNames, type LabConfig } from "../config.ts";
import { readState, writeState, type LabState, type NodeState } from "../state.ts";
import { FAULT_KINDS, type FaultContext, type FaultHandler, type FaultKind, type FaultOptions, type FaultRecord } from "./types.ts";
import { powerOff } from "./down.ts";
import { sshdKill } from "./sshd-kill.ts";
import { linkDown } from "./link.ts";
import { resetNode } from "./reboot.ts";
import { hangSshd } from "./hang.ts";
import { diskFull } from "./disk-full.ts";
import { aptDown } from "./apt-down.ts";
import { rekey } from "./rekey.ts";

const HANDLERS: { [K in FaultKind]: FaultHandler<K> } = {
  down: powerOff,
  "sshd-kill": sshdKill,
  link: linkDown,
  reboot: resetNode,
  hang: hangSshd,
  "disk-full": diskFull,
  "apt-down": aptDown,
  rekey,
};

function handlerOf(record: FaultRecord): FaultHandler<FaultKind> {
  return HANDLERS[record.kind] as FaultHandler<FaultKind>;
}

/** The kind named on the command line, or a clear error with the closest one. */
export function parseFaultKind(text: string | undefined): FaultKind {
  if (text && (FAULT_KINDS as readonly string[]).includes(text)) return text as FaultKind;
  const guess = text ? didYouMean(text, FAULT_KINDS) : undefined;
  throw new UserError(text ? `Unknown fault "${text}"` : "fault needs a node and a kind", {
    hint: `${guess ? `did you mean "${guess}"? ` : ""}kinds: ${FAULT_KINDS.join(", ")} (npm run lab -- --help)`,
    exitCode: ExitCode.badOptions,
  });
}

function loadNode(config: LabConfig, name: string | undefined): { state: LabState; node: NodeState } {
  const stateFile = labNames(config).stateFile;
  const state = readState(stateFile);
  if (!state) throw new UserError(`No lab is up (${stateFile})`, { hint: "npm run lab -- up", exitCode: ExitCode.error });
  const node = state.nodes.find((n) => n.name === name);
  if (!node) {
    const guess = name ? didYouMean(name, state.nodes.map((n) => n.name)) : undefined;
    throw new UserError(name ? `No node "${name}" in the lab` : "Which node?", {
      hint: `${guess ? `did you mean "${guess}"? ` : ""}nodes: ${state.nodes.map((n) => n.name).join(", ")}`,
      exitCode: ExitCode.badOptions,
    });
  }
  return { state, node };
}

/** Records the node as it is now (fault set or cleared, supervisor PID) in a fresh read of the state. */
function saveNode(config: LabConfig, node: NodeState): void {
  const file = labNames(config).stateFile;
  const state = readState(file);
  if (!state) return;
  state.nodes = state.nodes.map((n) => (n.name === node.name ? node : n));
  writeState(file, state);
}

/** Injects a fault; returns the sentence saying what was done. */
export async function injectFault(config: LabConfig, nodeName: string | undefined, kind: FaultKind, options: FaultOptions, log: (line: string) => void): Promise<string> {
  const { state, node } = loadNode(config, nodeName);
  if (node.fault) {
    throw new UserError(`Node ${node.name} already has a fault (${node.fault.kind} since ${node.fault.since})`, {
      hint: `heal it first: npm run lab -- heal ${node.name}`,
      exitCode: ExitCode.error,
    });
  }
  const ctx: FaultContext = { state, node, log };
  const handler = HANDLERS[kind] as FaultHandler<FaultKind>;
  const { record, said } = await handler.inject(ctx, options);
  node.fault = { ...record, since: new Date().toISOString() } as FaultRecord;
  saveNode(config, node);
  return said;
}

/** Undoes the node's fault and waits until it answers; returns what was done. */
export async function healNode(config: LabConfig, nodeName: string | undefined, log: (line: string) => void): Promise<string> {
  const { state, node } = loadNode(config, nodeName);
  const record = node.fault;
  if (!record) return `${node.name} has no fault to heal`;
  const said = await handlerOf(record).heal({ state, node, log }, record);
  delete node.fault;
  saveNode(config, node);
  return said;
}

/** For `lab down`: stops what a fault left running on the host (link timers); the rest goes with the nodes. */
export function releaseFaults(state: LabState | undefined): void {
  for (const node of state?.nodes ?? []) if (node.fault) handlerOf(node.fault).release?.(node.fault);
}
