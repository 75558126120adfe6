/**
 * The lab for tests: boot real nodes once per `npm test` run, hand them to every lab suite,
 * tear them down at the end. test/lab/lab.test.ts is the only caller of bootLab(); suites
 * (test/lab/*.suite.ts) call currentLab() inside their tests and labSkip() for `skip:`.
 *
 *   import { currentLab, labSkip } from "../support/lab.ts";
 *   describe("my role", { skip: labSkip() }, () => {
 *     test("converges", async () => {
 *       const lab = currentLab();
 *       const r = await lab.ssh("pi1", "cat /etc/hostname");
 *       assert.equal(r.stdout.trim(), "pi1");
 *     });
 *   });
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { labNames, testLabConfig, type LabConfig, type LabSpec, type NodeArch } from "../../scripts/lib/lab/config.ts";
import { readState } from "../../scripts/lib/lab/state.ts";
import { isAlive } from "../../scripts/lib/lab/processes.ts";
import { up } from "../../scripts/lib/lab/up.ts";
import { down } from "../../scripts/lib/lab/down.ts";
import { baseRootfsDir } from "../../scripts/lib/lab/rootfs.ts";
import { labUnavailableReason, which, arm64Enabled } from "../../scripts/lib/lab/preflight.ts";
import { sshRun } from "../../scripts/lib/lab/ssh-command.ts";
import { waitForSsh } from "../../scripts/lib/lab/ssh-ready.ts";
import { sleep } from "../../scripts/lib/lab/exec.ts";

/** A booted node as tests see it. */
export interface LabNode {
  name: string;
  /** Its address on the lab bridge (the only place tests may send traffic). */
  address: string;
  arch: NodeArch;
  pi: boolean;
  /** The loop device of its SSD (inventory var ssd_storage_device), when it has one. */
  ssdDevice?: string;
}

/** What a command on a node returned (rc 255: ssh itself failed). */
export interface SshResult {
  rc: number;
  stdout: string;
  stderr: string;
}

/** A running lab. */
export interface Lab {
  /** Ansible YAML inventory of the nodes (groups lab, cluster, pis, ssd, amd64, arm64). */
  inventoryFile: string;
  /** Private key (root on every node). */
  keyFile: string;
  /** known_hosts with the nodes' real host keys. */
  knownHostsFile: string;
  /** The lab's working folder. */
  dir: string;
  /** The host side of the lab bridge (apt proxy at :3149). */
  bridgeAddress: string;
  /** The client namespace with no address (DHCP/TFTP tests), when booted with netboot. */
  clientNetns?: string;
  nodes: LabNode[];
  /** The node called `name` (throws when there is none). */
  node(name: string): LabNode;
  /** Runs a shell command as root on a node with the plain ssh client and the lab key. */
  ssh(node: string | LabNode, command: string): Promise<SshResult>;
  /** Reboots a node and resolves once it is back (new boot id, boot finished). */
  reboot(node: string | LabNode, timeoutMs?: number): Promise<void>;
  /** Stops every node and removes what the lab created. Idempotent. */
  down(): Promise<void>;
}

/** What a node may be asked for in bootLab (defaults: amd64, no Pi, no SSD). */
export interface LabNodeRequest {
  name: string;
  arch?: NodeArch;
  pi?: boolean;
  /** SSD size, e.g. "1G". */
  ssd?: string;
  /** A QEMU virtual machine instead of a container. */
  vm?: boolean;
}

/** The lab every `npm test` run boots: plain amd64, amd64 with SSD, arm64 Pi with SSD. */
export const STANDARD_LAB: { nodes: LabNodeRequest[]; netboot: boolean } = {
  nodes: [
    { name: "node1", arch: "amd64" },
    { name: "node2", arch: "amd64", ssd: "1G" },
    { name: "pi1", arch: "arm64", pi: true, ssd: "1G" },
  ],
  netboot: true,
};

/**
 * Undefined when this machine can host a lab; otherwise the reason to skip lab tests.
 * Set PI_LAB_SKIP=1 to skip the lab on purpose.
 */
export async function labAvailable(spec: { nodes: LabNodeRequest[] } = STANDARD_LAB, config: LabConfig = testLabConfig()): Promise<string | undefined> {
  if (process.env.PI_LAB_SKIP) return "PI_LAB_SKIP is set";
  const reason = labUnavailableReason();
  if (reason) return reason;
  const arches = new Set(spec.nodes.map((n) => n.arch ?? "amd64"));
  const unbuilt = [...arches].filter((a) => !existsSync(join(baseRootfsDir(config.cacheDir, a), ".lab-rootfs")));
  if (unbuilt.length > 0 && !which("debootstrap")) return "debootstrap missing (apt-get install debootstrap)";
  if (arches.has("arm64") && !arm64Enabled() && !(which("update-binfmts") && which("qemu-aarch64-static"))) {
    return "no qemu-user for arm64 nodes (apt-get install qemu-user-static binfmt-support)";
  }
  return undefined;
}

/** Boots a lab (clearing leftovers of a crashed test run first); tears it down if booting fails. */
export async function bootLab(
  spec: { nodes: LabNodeRequest[]; netboot?: boolean } = STANDARD_LAB,
  options: { config?: LabConfig; log?: (line: string) => void } = {},
): Promise<Lab> {
  const config = options.config ?? testLabConfig();
  const log = options.log ?? ((line: string) => process.stderr.write(`# lab: ${line}\n`));
  const labSpec: LabSpec = {
    nodes: spec.nodes.map((n) => ({ name: n.name, arch: n.arch ?? "amd64", pi: !!n.pi, ssd: n.ssd, ...(n.vm ? { vm: true } : {}) })),
    netboot: !!spec.netboot,
  };
  await waitUntilFree(config, log);
  await down(config, () => {});
  let state;
  try {
    state = await up(config, labSpec, log);
  } catch (e) {
    await down(config, () => {});
    throw e;
  }
  const nodes: LabNode[] = state.nodes.map((n) => ({ name: n.name, address: n.address, arch: n.arch, pi: n.pi, ssdDevice: n.ssdDevice }));
  const find = (node: string | LabNode): LabNode => {
    const name = typeof node === "string" ? node : node.name;
    const found = nodes.find((n) => n.name === name);
    if (!found) throw new Error(`No lab node "${name}" (nodes: ${nodes.map((n) => n.name).join(", ")})`);
    return found;
  };
  const ssh = async (node: string | LabNode, command: string): Promise<SshResult> => {
    const r = await sshRun({ keyFile: state.keyFile, knownHostsFile: state.knownHostsFile, address: find(node).address }, command);
    return { rc: r.code, stdout: r.stdout, stderr: r.stderr };
  };
  let isDown = false;
  return {
    inventoryFile: state.inventoryFile,
    keyFile: state.keyFile,
    knownHostsFile: state.knownHostsFile,
    dir: config.dir,
    bridgeAddress: state.bridgeAddress,
    clientNetns: state.clientNetns,
    nodes,
    node: find,
    ssh,
    async reboot(node, timeoutMs = 180_000) {
      const target = find(node);
      const before = (await ssh(target, "cat /proc/sys/kernel/random/boot_id")).stdout.trim();
      if (!before) throw new Error(`reboot ${target.name}: node does not answer before the reboot`);
      await ssh(target, "systemctl reboot");
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (await waitForSsh(target.address, Math.max(1000, deadline - Date.now()))) {
          const r = await ssh(target, "systemctl is-system-running --wait >/dev/null; cat /proc/sys/kernel/random/boot_id");
          if (r.rc === 0 && r.stdout.trim() && r.stdout.trim() !== before) return;
        }
        await sleep(500);
      }
      throw new Error(`reboot ${target.name}: not back within ${timeoutMs / 1000}s`);
    },
    async down() {
      if (isDown) return;
      isDown = true;
      await down(config, () => {});
    },
  };
}

/**
 * Another test process (a parallel `npm test`) may be using the same lab: wait for it to end
 * rather than tear its lab down. A lab whose owner is gone is a crash leftover: taken down.
 */
async function waitUntilFree(config: LabConfig, log: (line: string) => void, timeoutMs = 30 * 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let said = 0;
  for (;;) {
    const owner = readState(labNames(config).stateFile)?.ownerPid;
    if (!owner || owner === process.pid || !isAlive(owner)) return;
    if (Date.now() > deadline) throw new Error(`The test lab (${config.dir}) is still used by process ${owner}`);
    if (Date.now() - said > 60_000) {
      log(`waiting: the test lab is in use by process ${owner} (another test run)`);
      said = Date.now();
    }
    await sleep(2000);
  }
}

let current: Lab | undefined;
let skipReason: string | undefined;

/** Records the booted lab (lab.test.ts only). */
export function setCurrentLab(lab: Lab | undefined): void {
  current = lab;
}

/** Records why lab suites are skipped (lab.test.ts only). */
export function setLabSkipReason(reason: string | undefined): void {
  skipReason = reason;
}

/** For `describe(name, { skip: labSkip() }, ...)`: the reason the lab is unavailable, or false. */
export function labSkip(): string | false {
  return skipReason ? `no lab: ${skipReason}` : false;
}

/** The lab booted for this test run (throws when it did not boot). */
export function currentLab(): Lab {
  if (!current) throw new Error("No lab is booted: lab suites must run through test/lab/lab.test.ts");
  return current;
}
