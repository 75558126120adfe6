/**
 * The lab's network: a bridge on the host side holding the lab subnet's .1 (the apt proxy
 * listens there), and per node a network namespace whose eth0 is a veth into the bridge.
 * Nodes get no default route: their traffic can only reach the lab subnet.
 */
import { readdirSync, writeFileSync } from "node:fs";
import { UserError } from "../errors.ts";
import { run, tryRun } from "./exec.ts";

/** Names of existing network namespaces. */
export async function listNetns(): Promise<string[]> {
  try {
    return readdirSync("/run/netns");
  } catch {
    return [];
  }
}

/** Names of existing host links. */
export async function listLinks(): Promise<string[]> {
  const r = await tryRun(["ip", "-o", "link", "show"]);
  return r.stdout
    .split("\n")
    .map((line) => /^\d+: ([^:@]+)/.exec(line)?.[1])
    .filter((name): name is string => !!name);
}

/** Refuses a subnet that some non-lab interface or route already uses. */
export async function checkSubnetFree(subnet: string, bridge: string): Promise<void> {
  const r = await tryRun(["ip", "-4", "-o", "route", "show"]);
  for (const line of r.stdout.split("\n")) {
    if (line.startsWith(`${subnet}.`) && !line.includes(`dev ${bridge} `)) {
      throw new UserError(`The lab subnet ${subnet}.0/24 is already routed on this machine: ${line.trim()}`, {
        hint: "take down whatever uses it (or another lab: npm run lab -- down)",
      });
    }
  }
}

/** Creates the bridge with the lab's .1 address (idempotent). */
export async function createBridge(bridge: string, address: string): Promise<void> {
  if (!(await listLinks()).includes(bridge)) {
    await run(["ip", "link", "add", bridge, "type", "bridge"]);
  }
  await tryRun(["ip", "addr", "add", `${address}/24`, "dev", bridge]);
  // Even where the host forwards packets, nothing arriving from the lab is routed onwards.
  try {
    writeFileSync(`/proc/sys/net/ipv4/conf/${bridge}/forwarding`, "0\n");
  } catch {
    // no per-interface sysctl (unusual): nodes still have no default route
  }
  await run(["ip", "link", "set", bridge, "up"]);
}

/** Creates a namespace with loopback up and an eth0 plugged into the bridge. */
export async function createNodeNetwork(opts: { netns: string; veth: string; bridge: string; address?: string }): Promise<void> {
  const { netns, veth, bridge, address } = opts;
  await tryRun(["ip", "netns", "del", netns]);
  await tryRun(["ip", "link", "del", veth]);
  await run(["ip", "netns", "add", netns]);
  await run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns]);
  await run(["ip", "link", "set", veth, "master", bridge]);
  await run(["ip", "link", "set", veth, "up"]);
  await run(["ip", "-n", netns, "link", "set", "lo", "up"]);
  if (address) await run(["ip", "-n", netns, "addr", "add", `${address}/24`, "dev", "eth0"]);
  await run(["ip", "-n", netns, "link", "set", "eth0", "up"]);
}

/** Deletes a namespace (and with it its end of the veth) and the host-side link. */
export async function deleteNodeNetwork(netns: string, veth: string): Promise<void> {
  await tryRun(["ip", "netns", "del", netns]);
  await tryRun(["ip", "link", "del", veth]);
}

/** Deletes the bridge. */
export async function deleteBridge(bridge: string): Promise<void> {
  await tryRun(["ip", "link", "del", bridge]);
}
