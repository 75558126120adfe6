/**
 * The lab's state file: what `up` started and created, so `status` and `down` act on exactly
 * that (by PID and by name). Written after every step, so a crash mid-`up` leaves a file
 * `down` can use.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { NodeArch } from "./config.ts";
import type { FaultRecord } from "./fault/record.ts";

/** One node as booted. */
export interface NodeState {
  name: string;
  arch: NodeArch;
  pi: boolean;
  address: string;
  netns: string;
  veth: string;
  machine: string;
  /** The node's folder: rootfs copy, logs, supervisor script. */
  dir: string;
  rootfs: string;
  /** The detached supervisor loop (restarts nspawn on reboot). */
  supervisorPid?: number;
  /** A fault injected by `lab fault` and not healed yet (what `lab heal` must undo). */
  fault?: FaultRecord;
  /** The SSD: loop device and its backing file. */
  ssdDevice?: string;
  ssdImage?: string;
  ssdSize?: string;
  /** A VM node: its QEMU, tap, MAC, disk and accelerator. */
  vm?: VmState;
}

/** A QEMU machine of the lab. */
export interface VmState {
  pid?: number;
  /** QEMU's -name (the lab prefix + the node's name), checked before signalling `pid`. */
  qemuName: string;
  tap: string;
  mac: string;
  accel: "kvm" | "tcg";
  disk?: string;
}

/** A diskless netboot client VM. */
export interface NetbootClientState extends VmState {
  name: string;
  dir: string;
}

/** The whole lab. */
export interface LabState {
  prefix: string;
  subnet: string;
  bridge: string;
  bridgeAddress: string;
  createdAt: string;
  /** The process that ran `up` (the CLI exits; a test run lives as long as its lab). */
  ownerPid?: number;
  aptProxyPid?: number;
  clientNetns?: string;
  netbootClients?: NetbootClientState[];
  inventoryFile: string;
  keyFile: string;
  knownHostsFile: string;
  nodes: NodeState[];
}

/** Reads the state file; undefined when there is none or it is unreadable. */
export function readState(file: string): LabState | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as LabState;
  } catch {
    return undefined;
  }
}

/** Writes the state file atomically. */
export function writeState(file: string, state: LabState): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + "\n");
  renameSync(`${file}.tmp`, file);
}
