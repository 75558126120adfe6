/** `lab status`: what runs (PIDs), where (addresses) and whether each node's sshd answers. */
import { labNames, type LabConfig } from "./config.ts";
import { readState } from "./state.ts";
import { isAlive } from "./processes.ts";
import { nspawnPids } from "./node.ts";
import { sshBanner } from "./ssh-ready.ts";
import { listNetns } from "./network.ts";

/** One node's live status. */
export interface NodeStatus {
  name: string;
  arch: string;
  address: string;
  pi: boolean;
  ssdDevice?: string;
  supervisorPid?: number;
  supervisorAlive: boolean;
  nspawnPids: number[];
  sshd: boolean;
  /** The kind of fault injected and not healed yet. */
  fault?: string;
  /** A VM node: its QEMU and whether it runs under KVM or TCG (emulation, much slower). */
  vm?: { pid?: number; alive: boolean; accel: string };
}

/** A diskless netboot client VM. */
export interface NetbootClientStatus {
  name: string;
  mac: string;
  pid?: number;
  alive: boolean;
  accel: string;
}

/** The lab's live status, or undefined when no lab is recorded. */
export interface LabStatus {
  stateFile: string;
  inventoryFile: string;
  bridge: string;
  bridgeAddress: string;
  aptProxyPid?: number;
  aptProxyAlive: boolean;
  clientNetns?: string;
  nodes: NodeStatus[];
  netbootClients: NetbootClientStatus[];
  /** Namespaces with the lab's prefix that the state file does not know (crash leftovers). */
  strayNetns: string[];
}

/** Collects the status. */
export async function status(config: LabConfig): Promise<LabStatus | undefined> {
  const names = labNames(config);
  const state = readState(names.stateFile);
  const netns = (await listNetns()).filter((n) => n.startsWith(`${config.prefix}-`));
  if (!state) {
    return netns.length === 0
      ? undefined
      : { stateFile: names.stateFile, inventoryFile: config.inventoryFile, bridge: names.bridge, bridgeAddress: names.bridgeAddress, aptProxyAlive: false, nodes: [], netbootClients: [], strayNetns: netns };
  }
  const known = new Set([...state.nodes.map((n) => n.netns), state.clientNetns]);
  return {
    stateFile: names.stateFile,
    inventoryFile: state.inventoryFile,
    bridge: state.bridge,
    bridgeAddress: state.bridgeAddress,
    aptProxyPid: state.aptProxyPid,
    aptProxyAlive: isAlive(state.aptProxyPid),
    clientNetns: state.clientNetns,
    strayNetns: netns.filter((n) => !known.has(n)),
    nodes: await Promise.all(
      state.nodes.map(async (n) => ({
        name: n.name,
        arch: n.arch,
        address: n.address,
        pi: n.pi,
        ssdDevice: n.ssdDevice,
        supervisorPid: n.supervisorPid,
        supervisorAlive: isAlive(n.supervisorPid),
        nspawnPids: nspawnPids(n.machine),
        sshd: await sshBanner(n.address, 1500),
        fault: n.fault?.kind,
        vm: n.vm ? { pid: n.vm.pid, alive: isAlive(n.vm.pid), accel: n.vm.accel } : undefined,
      })),
    ),
    netbootClients: (state.netbootClients ?? []).map((c) => ({ name: c.name, mac: c.mac, pid: c.pid, alive: isAlive(c.pid), accel: c.accel })),
  };
}
