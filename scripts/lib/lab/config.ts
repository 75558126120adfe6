/**
 * Where a lab lives and how its host-side objects are named. One config = one lab: the CLI's
 * lab and the test suite's lab use different prefixes, subnets and folders, so both can run
 * at once without touching each other.
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** The Debian architectures a node can have. */
export type NodeArch = "amd64" | "arm64";

/** One node to boot. */
export interface NodeSpec {
  /** Inventory name and hostname (letters, digits, dashes). */
  name: string;
  arch: NodeArch;
  /** Give the node a Raspberry Pi identity (device tree, cpuinfo, /boot/firmware). */
  pi: boolean;
  /** Size of a loop-device "SSD" passed to the node (e.g. "1G"), or undefined for none. */
  ssd?: string;
  /** A QEMU virtual machine (real kernel, NFS server, modules) instead of a container. */
  vm?: boolean;
}

/** A diskless x86 VM that PXE-boots from whatever DHCP/TFTP server answers on the bridge. */
export interface NetbootClientSpec {
  name: string;
  /** Its NIC's MAC; a lab MAC (52:54:00:<subnet>:01:<n>) unless given. */
  mac?: string;
}

/** Everything `up` needs to know. */
export interface LabSpec {
  nodes: NodeSpec[];
  /** Add a client namespace on the bridge with no address (DHCP/TFTP tests). */
  netboot: boolean;
  /** Diskless client VMs, started after the nodes are up. */
  netbootClients?: NetbootClientSpec[];
}

/** Names, folders and addresses of one lab. */
export interface LabConfig {
  /** Prefix of every netns, link and machine name the lab creates (<= 6 chars). */
  prefix: string;
  /** The lab's working folder (node rootfs copies, keys, state, logs); outside the repository. */
  dir: string;
  /** Shared cache of base root filesystems and apt packages, reused by every lab. */
  cacheDir: string;
  /** First three octets of the lab-only /24, e.g. "10.213.0". */
  subnet: string;
  /** Where the Ansible inventory is written. */
  inventoryFile: string;
}

/** The cache root: $XDG_CACHE_HOME/pi-cluster-runner or ~/.cache/pi-cluster-runner. */
export function cacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "pi-cluster-runner");
}

/** The lab `npm run lab` manages. `repoRoot` is where inventory/lab.yml goes. */
export function cliLabConfig(repoRoot: string): LabConfig {
  const cacheDir = cacheRoot();
  return {
    prefix: "pilab",
    dir: process.env.PI_LAB_DIR || join(cacheDir, "lab"),
    cacheDir,
    subnet: "10.213.0",
    inventoryFile: resolve(repoRoot, "inventory/lab.yml"),
  };
}

/** The lab the test suite boots: its own names, subnet and folder, inventory inside it. */
export function testLabConfig(): LabConfig {
  const cacheDir = cacheRoot();
  const dir = join(cacheDir, "test-lab");
  return { prefix: "pitest", dir, cacheDir, subnet: "10.213.1", inventoryFile: join(dir, "inventory.yml") };
}

/**
 * Another lab next to the CLI's and the tests' (e.g. the benchmark's or a helper's own):
 * `prefix` names its netns/links/machines (<= 6 chars), `subnetIndex` picks 10.213.<index>.0/24
 * (0 is the CLI's, 1 the tests'), its folder is ~/.cache/pi-cluster-runner/<name>.
 * Example: namedLabConfig("bench-lab", "pibnch", 2).
 */
export function namedLabConfig(name: string, prefix: string, subnetIndex: number): LabConfig {
  const cacheDir = cacheRoot();
  const dir = join(cacheDir, name);
  return { prefix, dir, cacheDir, subnet: `10.213.${subnetIndex}`, inventoryFile: join(dir, "inventory.yml") };
}

/** Host-side names and addresses derived from a config. */
export function labNames(config: LabConfig) {
  return {
    bridge: `${config.prefix}-br`,
    bridgeAddress: `${config.subnet}.1`,
    clientNetns: `${config.prefix}-client`,
    clientVeth: `${config.prefix}-vc`,
    netns: (node: string) => `${config.prefix}-${node}`,
    machine: (node: string) => `${config.prefix}-${node}`,
    veth: (index: number) => `${config.prefix}-v${index}`,
    /** A VM node's tap (the node's index) and a netboot client's (its own index). */
    tap: (index: number) => `${config.prefix}-t${index}`,
    clientTap: (index: number) => `${config.prefix}-n${index}`,
    address: (index: number) => `${config.subnet}.${11 + index}`,
    nodeDir: (node: string) => join(config.dir, "nodes", node),
    keyFile: join(config.dir, "id_ed25519"),
    knownHostsFile: join(config.dir, "known_hosts"),
    stateFile: join(config.dir, "state.json"),
  };
}
