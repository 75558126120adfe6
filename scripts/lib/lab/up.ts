/**
 * `lab up`: builds (or reuses) the base rootfs, creates the bridge and apt proxy, and boots
 * every node in its own namespace; then writes known_hosts and the inventory. The state file
 * is written after each step so `down` can clean up after a failure at any point.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError, ExitCode } from "../errors.ts";
import { run } from "./exec.ts";
import { labNames, type LabConfig, type LabSpec, type NetbootClientSpec, type NodeArch, type NodeSpec } from "./config.ts";
import { preflight } from "./preflight.ts";
import { baseRootfsDir, ensureBaseRootfs, makeNodeRootfs } from "./rootfs.ts";
import { checkSubnetFree, createBridge, createNodeNetwork } from "./network.ts";
import { aptProxyConf, startAptProxy } from "./apt-proxy.ts";
import { hostKeys, nspawnArgs, personalizeRootfs, startSupervisor, supervisorScript } from "./node.ts";
import { attachSsd, prepareSysBlock, writeSsdUdevConfig } from "./ssd.ts";
import { piIdentity, preparePiIdentity } from "./pi.ts";
import { waitForSsh } from "./ssh-ready.ts";
import { sshRun } from "./ssh-command.ts";
import { writeInventory, writeKnownHosts } from "./inventory.ts";
import { readState, writeState, type LabState, type NetbootClientState, type NodeState } from "./state.ts";
import { isAlive } from "./processes.ts";
import { down } from "./down.ts";
import { ensureVmImage, type VmImage } from "./vm-image.ts";
import { makeDisk, writeVmNetwork } from "./vm-disk.ts";
import { createTap, isOurQemu, labMac, qemuNetbootArgs, qemuNodeArgs, qemuPiArgs, startQemu, vmAccel, vmUnavailableReason } from "./vm.ts";

/** Progress lines for the user (stderr in the CLI, test output in the harness). */
export type Log = (line: string) => void;

/** How long a node may take from start to sshd answering. */
const SSH_TIMEOUT_MS = { amd64: 60_000, arm64: 180_000 };
/** The same for a VM node under TCG (login prompt after 35-45 s on a quiet machine, see lab-vm.md). */
const VM_SSH_TIMEOUT_MS = { amd64: 300_000, arm64: 300_000 };

/** Seconds since `t0`, one decimal. */
function since(t0: number): string {
  return `${((Date.now() - t0) / 1000).toFixed(1)}s`;
}

/** True when a lab with this config has live processes. */
export function labRunning(config: LabConfig): boolean {
  const state = readState(labNames(config).stateFile);
  return !!state && (isAlive(state.aptProxyPid) || state.nodes.some((n) => isAlive(n.supervisorPid) || isAlive(n.vm?.pid)));
}

async function ensureKey(keyFile: string): Promise<string> {
  if (!existsSync(keyFile)) {
    await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "pi-cluster-runner-lab", "-f", keyFile]);
  }
  return readFileSync(`${keyFile}.pub`, "utf8");
}

/** Boots a lab; resolves with its state once every node's sshd answers. */
export async function up(config: LabConfig, spec: LabSpec, log: Log): Promise<LabState> {
  const t0 = Date.now();
  const names = labNames(config);
  const arches = [...new Set(spec.nodes.map((n) => n.arch))];
  const needBuild = arches.filter((a) => !existsSync(join(baseRootfsDir(config.cacheDir, a), ".lab-rootfs")));
  await preflight({ arches, needBuild });
  const vmArches = [...new Set(spec.nodes.filter((n) => n.vm).map((n) => n.arch))];
  if ((spec.netbootClients ?? []).length > 0 && !vmArches.includes("amd64")) vmArches.push("amd64");
  for (const arch of vmArches) {
    const why = vmUnavailableReason(arch, arch === "amd64" && (spec.netbootClients ?? []).length > 0);
    if (why) throw new UserError(`The lab cannot run ${arch} virtual machines: ${why}`, { hint: "install it, or use container nodes (no :vm)", exitCode: ExitCode.error });
  }
  if (labRunning(config)) {
    throw new UserError(`A lab is already up (${names.stateFile})`, {
      hint: "take it down first: npm run lab -- down",
      exitCode: ExitCode.error,
    });
  }
  // Leftovers of a crashed lab (same names) would make every step below fail.
  await down(config, () => {});
  mkdirSync(config.dir, { recursive: true });
  const publicKey = await ensureKey(names.keyFile);

  const bases = Object.fromEntries(
    await Promise.all(arches.map(async (a) => [a, await ensureBaseRootfs(config.cacheDir, a, log)] as const)),
  ) as Record<NodeArch, string>;
  const vmImages = Object.fromEntries(
    await Promise.all(vmArches.map(async (a) => [a, await ensureVmImage(config.cacheDir, a, log)] as const)),
  ) as Record<NodeArch, VmImage>;
  const tNet = Date.now();
  await checkSubnetFree(config.subnet, names.bridge);
  const state: LabState = {
    prefix: config.prefix,
    subnet: config.subnet,
    bridge: names.bridge,
    bridgeAddress: names.bridgeAddress,
    createdAt: new Date().toISOString(),
    ownerPid: process.pid,
    inventoryFile: config.inventoryFile,
    keyFile: names.keyFile,
    knownHostsFile: names.knownHostsFile,
    nodes: [],
  };
  writeState(names.stateFile, state);
  await createBridge(names.bridge, names.bridgeAddress);
  state.aptProxyPid = await startAptProxy({ labDir: config.dir, cacheDir: config.cacheDir, prefix: config.prefix, bridgeAddress: names.bridgeAddress });
  writeState(names.stateFile, state);
  if (spec.netboot) {
    state.clientNetns = names.clientNetns;
    writeState(names.stateFile, state);
    await createNodeNetwork({ netns: names.clientNetns, veth: names.clientVeth, bridge: names.bridge });
  }
  log(`bridge ${names.bridge} ${names.bridgeAddress}/24 and apt proxy ready (${since(tNet)})`);

  const tNodes = Date.now();
  const bootNode = async (node: NodeSpec, index: number): Promise<void> => {
    const nodeDir = names.nodeDir(node.name);
    const ns: NodeState = {
      name: node.name,
      arch: node.arch,
      pi: node.pi,
      address: names.address(index),
      netns: names.netns(node.name),
      veth: names.veth(index),
      machine: names.machine(node.name),
      dir: nodeDir,
      rootfs: join(nodeDir, "rootfs"),
      ssdSize: node.ssd,
    };
    state.nodes.push(ns);
    writeState(names.stateFile, state);
    if (node.vm) return bootVmNode(node, index, ns);
    const tCopy = Date.now();
    const kind = await makeNodeRootfs(bases[node.arch], nodeDir, ns.rootfs);
    const copyTime = `${kind} ${since(tCopy)}`;
    await personalizeRootfs(ns.rootfs, { hostname: node.name, publicKey, aptProxyConf: aptProxyConf(names.bridgeAddress) });
    let ssd: { device: string; sysBlockDir: string } | undefined;
    if (node.ssd) {
      ns.ssdImage = join(nodeDir, "ssd.img");
      ns.ssdDevice = await attachSsd(ns.ssdImage, node.ssd);
      writeState(names.stateFile, state);
      writeSsdUdevConfig(ns.rootfs, ns.ssdDevice);
      ssd = { device: ns.ssdDevice, sysBlockDir: prepareSysBlock(nodeDir, ns.ssdDevice) };
    }
    const nodeKnownHosts = join(nodeDir, "known_hosts");
    writeKnownHosts(nodeKnownHosts, [{ name: node.name, address: ns.address, hostKeys: hostKeys(ns.rootfs) }]);
    const pi = node.pi ? preparePiIdentity(nodeDir, ns.rootfs, piIdentity(node.name)) : undefined;
    await createNodeNetwork({ netns: ns.netns, veth: ns.veth, bridge: names.bridge, address: ns.address });
    const nspawn = nspawnArgs({ machine: ns.machine, hostname: node.name, rootfs: ns.rootfs, netns: ns.netns, ssd, pi });
    const tBoot = Date.now();
    ns.supervisorPid = startSupervisor(nodeDir, supervisorScript(nodeDir, nspawn, !!ssd));
    writeState(names.stateFile, state);
    if (!(await waitForSsh(ns.address, SSH_TIMEOUT_MS[node.arch], () => isAlive(ns.supervisorPid)))) {
      const console = join(nodeDir, "console.log");
      const tail = existsSync(console) ? readFileSync(console, "utf8").trim().split("\n").slice(-5).join("\n    ") : "";
      const why = isAlive(ns.supervisorPid) ? `did not answer ssh on ${ns.address} within ${SSH_TIMEOUT_MS[node.arch] / 1000}s` : "stopped while booting";
      throw new UserError(`Node ${node.name} (${node.arch}) ${why}${tail ? `:\n    ${tail}` : ""}`, {
        hint: `see ${console}; take the lab down with: npm run lab -- down`,
        exitCode: ExitCode.error,
      });
    }
    const sshdTime = since(tBoot);
    // sshd answers before boot has finished; wait for it so callers find a settled system.
    const booted = await sshRun({ keyFile: names.keyFile, knownHostsFile: nodeKnownHosts, address: ns.address, connectTimeout: 10 }, "systemctl is-system-running --wait; systemctl --failed --no-legend --plain | cut -d' ' -f1");
    const [systemState, ...failed] = booted.stdout.trim().split("\n");
    if (systemState !== "running") log(`${node.name}: system ${systemState || `unreachable (${booted.stderr.trim()})`}${failed.length ? `; failed units: ${failed.join(" ")}` : ""}`);
    log(`${node.name}: ${node.arch}${node.pi ? " pi" : ""}${ns.ssdDevice ? ` ssd=${ns.ssdDevice}` : ""} ${ns.address} — rootfs ${copyTime}, sshd ${sshdTime}, booted ${since(tBoot)}`);
  };
  const bootVmNode = async (node: NodeSpec, index: number, ns: NodeState): Promise<void> => {
    const image = vmImages[node.arch];
    const accel = vmAccel(node.arch);
    const tCopy = Date.now();
    await makeNodeRootfs(image.rootfs, ns.dir, ns.rootfs);
    await personalizeRootfs(ns.rootfs, { hostname: node.name, publicKey, aptProxyConf: aptProxyConf(names.bridgeAddress) });
    writeVmNetwork(ns.rootfs, ns.address);
    ns.vm = { qemuName: names.machine(node.name), tap: names.tap(index), mac: labMac(config.subnet, "node", 11 + index), accel: accel.name, disk: join(ns.dir, "disk.img") };
    await makeDisk(ns.rootfs, ns.vm.disk!);
    const diskTime = since(tCopy);
    const nodeKnownHosts = join(ns.dir, "known_hosts");
    writeKnownHosts(nodeKnownHosts, [{ name: node.name, address: ns.address, hostKeys: hostKeys(ns.rootfs) }]);
    await createTap(ns.vm.tap, names.bridge);
    const tBoot = Date.now();
    ns.vm.pid = startQemu(ns.dir, qemuNodeArgs({ name: ns.vm.qemuName, arch: node.arch, accel, dir: ns.dir, kernel: image.kernel, initrd: image.initrd, disk: ns.vm.disk!, tap: ns.vm.tap, mac: ns.vm.mac }));
    writeState(names.stateFile, state);
    const timeout = VM_SSH_TIMEOUT_MS[node.arch];
    if (!(await waitForSsh(ns.address, timeout, () => isAlive(ns.vm?.pid)))) {
      const console = join(ns.dir, "console.log");
      const tail = existsSync(console) ? readFileSync(console, "utf8").trim().split("\n").slice(-5).join("\n    ") : "";
      const why = isAlive(ns.vm.pid) ? `did not answer ssh on ${ns.address} within ${timeout / 1000}s` : `stopped while booting (see ${join(ns.dir, "qemu.log")})`;
      throw new UserError(`VM node ${node.name} (${node.arch}, ${accel.name}) ${why}${tail ? `:\n    ${tail}` : ""}`, {
        hint: `see ${console}; take the lab down with: npm run lab -- down`,
        exitCode: ExitCode.error,
      });
    }
    const booted = await sshRun({ keyFile: names.keyFile, knownHostsFile: nodeKnownHosts, address: ns.address, connectTimeout: 10 }, "systemctl is-system-running --wait; systemctl --failed --no-legend --plain | cut -d' ' -f1");
    const [systemState, ...failed] = booted.stdout.trim().split("\n");
    if (systemState !== "running") log(`${node.name}: system ${systemState || `unreachable (${booted.stderr.trim()})`}${failed.length ? `; failed units: ${failed.join(" ")}` : ""}`);
    log(`${node.name}: ${node.arch} vm (${accel.name}) ${ns.address} — disk ${diskTime}, booted ${since(tBoot)}`);
  };
  await Promise.all(spec.nodes.map((node, i) => bootNode(node, i)));
  // Keep the state's node order stable (the order given), whatever finished first.
  state.nodes.sort((a, b) => spec.nodes.findIndex((n) => n.name === a.name) - spec.nodes.findIndex((n) => n.name === b.name));
  writeKnownHosts(names.knownHostsFile, state.nodes.map((n) => ({ name: n.name, address: n.address, hostKeys: hostKeys(n.rootfs) })));
  writeInventory(config.inventoryFile, state);
  writeState(names.stateFile, state);
  log(`${spec.nodes.length} node(s) up in ${since(tNodes)} (lab up total ${since(t0)})`);
  for (const client of spec.netbootClients ?? []) await startNetbootClient(config, state, client);
  return state;
}

/**
 * Powers on a diskless client VM (recorded in the state first, so `down` stops it). It boots
 * from whatever DHCP/TFTP server answers on the bridge; nothing waits for it here.
 */
export async function startNetbootClient(config: LabConfig, state: LabState, client: NetbootClientSpec): Promise<NetbootClientState> {
  const names = labNames(config);
  const index = (state.netbootClients ?? []).length;
  const accel = vmAccel("amd64");
  const dir = join(config.dir, "nodes", client.name);
  mkdirSync(dir, { recursive: true });
  const cs: NetbootClientState = { name: client.name, dir, qemuName: names.machine(client.name), tap: names.clientTap(index), mac: client.mac ?? labMac(config.subnet, "client", index + 1), accel: accel.name };
  state.netbootClients = [...(state.netbootClients ?? []), cs];
  writeState(names.stateFile, state);
  await createTap(cs.tap, names.bridge);
  cs.pid = startQemu(dir, qemuNetbootArgs({ name: cs.qemuName, accel, dir, tap: cs.tap, mac: cs.mac }));
  writeState(names.stateFile, state);
  return cs;
}

/**
 * Powers on a Raspberry Pi client VM (arm64 `virt`) with the boot files the bootloader
 * emulation fetched; recorded in the state first, so `down` stops it before the master. A
 * client powered on again (after its reboot ended QEMU) keeps its tap and folder.
 */
export async function startPiClient(config: LabConfig, state: LabState, client: { name: string; mac: string; kernel: string; initrd: string; cmdline: string }): Promise<NetbootClientState> {
  const names = labNames(config);
  const accel = vmAccel("arm64");
  let cs = (state.netbootClients ?? []).find((c) => c.name === client.name);
  if (cs && isOurQemu(cs.pid, cs.qemuName)) throw new Error(`Pi client ${client.name} is still running (QEMU PID ${cs.pid})`);
  if (!cs) {
    const dir = join(config.dir, "nodes", client.name);
    mkdirSync(dir, { recursive: true });
    cs = { name: client.name, dir, qemuName: names.machine(client.name), tap: names.clientTap((state.netbootClients ?? []).length), mac: client.mac, accel: accel.name };
    state.netbootClients = [...(state.netbootClients ?? []), cs];
    writeState(names.stateFile, state);
    await createTap(cs.tap, names.bridge);
  }
  cs.pid = startQemu(cs.dir, qemuPiArgs({ name: cs.qemuName, accel, dir: cs.dir, tap: cs.tap, mac: cs.mac, kernel: client.kernel, initrd: client.initrd, cmdline: client.cmdline }));
  writeState(names.stateFile, state);
  return cs;
}
