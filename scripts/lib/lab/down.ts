/**
 * `lab down`: stops what `up` started (by PID from the state file), then anything left with
 * the lab's names (after a crash the state file may be incomplete), and removes namespaces,
 * links, loop devices and the node copies. Idempotent.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tryRun } from "./exec.ts";
import { labNames, type LabConfig } from "./config.ts";
import { readState } from "./state.ts";
import { childrenOf, findProcesses, isAlive, signal, terminate } from "./processes.ts";
import { nspawnPids, stopNode } from "./node.ts";
import { deleteBridge, deleteNodeNetwork, listLinks, listNetns } from "./network.ts";
import { detachSsd, loopDevicesUnder } from "./ssd.ts";
import { releaseFaults } from "./fault/index.ts";
import { qemuPids, stopQemu } from "./vm.ts";

/** Mount points under `dir` (a crashed container could leave some). */
function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[1]?.replace(/\\040/g, " "))
    .filter((m): m is string => !!m && m.startsWith(dir + "/"))
    .sort((a, b) => b.length - a.length);
}

/** Takes the lab down; `log` gets one line per thing removed. */
export async function down(config: LabConfig, log: (line: string) => void): Promise<void> {
  const names = labNames(config);
  const state = readState(names.stateFile);
  const prefix = `${config.prefix}-`;
  const nodesDir = join(config.dir, "nodes");

  // 0. Faults: a link timer would otherwise outlive the lab (the rest goes with the nodes).
  releaseFaults(state);
  // 0b. Virtual machines by PID: netboot clients before the VMs that may be their NFS server
  //    (a client shutting down after its server is gone hangs), then anything left by name.
  for (const c of state?.netbootClients ?? []) if (await stopQemu(c.pid, c.qemuName)) log(`powered off netboot client ${c.name}`);
  await Promise.all(
    (state?.nodes ?? []).map(async (n) => {
      if (n.vm && (await stopQemu(n.vm.pid, n.vm.qemuName))) log(`powered off vm ${n.name}`);
    }),
  );
  const strayQemu = qemuPids(prefix);
  if (strayQemu.length > 0) {
    await terminate(strayQemu, 5000);
    log(`stopped ${strayQemu.length} leftover QEMU process(es)`);
  }

  // 1. Containers: the recorded supervisors first, then any nspawn or supervisor with our names.
  await Promise.all(
    (state?.nodes ?? []).map(async (n) => {
      if (!n.vm && (isAlive(n.supervisorPid) || nspawnPids(n.machine).length > 0)) {
        await stopNode(n.supervisorPid, n.machine);
        log(`stopped ${n.name}`);
      }
    }),
  );
  const strayNspawn = findProcesses((argv) => argv[0].endsWith("systemd-nspawn") && argv.some((a) => a.startsWith(`--machine=${prefix}`)));
  const straySupervisors = findProcesses((argv) => argv.some((a) => a.startsWith(nodesDir + "/") && a.endsWith("/supervisor.sh")));
  if (strayNspawn.length + straySupervisors.length > 0) {
    // As stopNode: supervisors first (no restarts), then each container's init, by SIGKILL.
    for (const pid of straySupervisors) signal(pid, "SIGKILL");
    for (const pid of strayNspawn.flatMap(childrenOf)) signal(pid, "SIGKILL");
    await terminate(strayNspawn, 5000);
    log(`stopped ${strayNspawn.length + straySupervisors.length} leftover process(es)`);
  }

  // 2. The apt proxy: by PID if it is still ours, and any started with our config folder.
  const aptConf = join(config.dir, "apt-cacher-ng", "conf");
  const proxies = findProcesses((argv) => argv[0].includes("apt-cacher-ng") && argv.includes(aptConf));
  if (proxies.length > 0) {
    await terminate(proxies, 3000);
    log("stopped apt proxy");
  }

  // 3. Network: namespaces and links carrying the lab's prefix.
  for (const netns of await listNetns()) {
    if (netns.startsWith(prefix)) {
      await deleteNodeNetwork(netns, "");
      log(`deleted netns ${netns}`);
    }
  }
  for (const link of await listLinks()) {
    if (link.startsWith(prefix) && link !== names.bridge) await tryRun(["ip", "link", "del", link]);
  }
  if ((await listLinks()).includes(names.bridge)) {
    await deleteBridge(names.bridge);
    log(`deleted bridge ${names.bridge}`);
  }

  // 4. Disks, then the node copies (never while something is mounted below them).
  for (const device of await loopDevicesUnder(config.dir)) {
    await detachSsd(device);
    log(`detached ${device}`);
  }
  for (const mount of mountsUnder(config.dir)) {
    if ((await tryRun(["umount", mount])).code !== 0) await tryRun(["umount", "-l", mount]);
  }
  if (existsSync(nodesDir)) {
    rmSync(nodesDir, { recursive: true, force: true });
    log(`removed ${nodesDir}`);
  }
  for (const inventory of new Set([config.inventoryFile, state?.inventoryFile])) if (inventory) rmSync(inventory, { force: true });
  rmSync(names.knownHostsFile, { force: true });
  rmSync(names.stateFile, { force: true });
}
