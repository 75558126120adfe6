/**
 * `lab up`: builds (or reuses) the base rootfs, creates the bridge and apt proxy, and boots
 * every node in its own namespace; then writes known_hosts and the inventory. The state file
 * is written after each step so `down` can clean up after a failure at any point.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError, ExitCode } from "../errors.ts";
import { run } from "./exec.ts";
import { labNames, type LabConfig, type LabSpec, type NodeArch, type NodeSpec } from "./config.ts";
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
import { readState, writeState, type LabState, type NodeState } from "./state.ts";
import { isAlive } from "./processes.ts";
import { down } from "./down.ts";

/** Progress lines for the user (stderr in the CLI, test output in the harness). */
export type Log = (line: string) => void;

/** How long a node may take from start to sshd answering. */
const SSH_TIMEOUT_MS = { amd64: 60_000, arm64: 180_000 };

/** Seconds since `t0`, one decimal. */
function since(t0: number): string {
  return `${((Date.now() - t0) / 1000).toFixed(1)}s`;
}

/** True when a lab with this config has live processes. */
export function labRunning(config: LabConfig): boolean {
  const state = readState(labNames(config).stateFile);
  return !!state && (isAlive(state.aptProxyPid) || state.nodes.some((n) => isAlive(n.supervisorPid)));
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
  await Promise.all(spec.nodes.map((node, i) => bootNode(node, i)));
  // Keep the state's node order stable (the order given), whatever finished first.
  state.nodes.sort((a, b) => spec.nodes.findIndex((n) => n.name === a.name) - spec.nodes.findIndex((n) => n.name === b.name));
  writeKnownHosts(names.knownHostsFile, state.nodes.map((n) => ({ name: n.name, address: n.address, hostKeys: hostKeys(n.rootfs) })));
  writeInventory(config.inventoryFile, state);
  writeState(names.stateFile, state);
  log(`${spec.nodes.length} node(s) up in ${since(tNodes)} (lab up total ${since(t0)})`);
  return state;
}
