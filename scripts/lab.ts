/**
 * `npm run lab -- up|status|down`: a virtual Raspberry Pi cluster on this machine
 * (systemd-nspawn Debian bookworm nodes in their own network namespaces). See --help.
 */
import { parseArgs } from "node:util";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { UserError, ExitCode, didYouMean } from "./lib/errors.ts";
import { cliLabConfig, testLabConfig } from "./lib/lab/config.ts";
import { netbootClientSpecs, nodeSpecs } from "./lib/lab/spec.ts";
import { up } from "./lib/lab/up.ts";
import { down } from "./lib/lab/down.ts";
import { status } from "./lib/lab/status.ts";
import { healNode, injectFault, parseFaultKind } from "./lib/lab/fault/index.ts";
import { parseDuration } from "./lib/lab/fault/duration.ts";
import { STANDIN_DEFAULT_VERSION, writeStandinAirgapDir } from "./lib/lab/k3s-standin/airgap.ts";

const HELP = `Usage: npm run lab -- <command> [options]        (as root)

A virtual cluster: Debian bookworm nodes in systemd-nspawn containers, each in its own network
namespace on a lab-only bridge (10.213.0.0/24, the host side is 10.213.0.1, nodes .11 up). Nodes
answer ssh as root with the lab key; apt works through a proxy at 10.213.0.1:3149; in-node reboots
come back. Writes inventory/lab.yml (groups: lab, cluster, pis, ssd, amd64, arm64).

Commands:
  up       boot the lab (builds and caches the base rootfs on first use)
  status   what runs: PIDs, addresses, whether sshd answers
  down     stop everything the lab started and remove its namespaces, links, loop devices
  fault NODE KIND [--for 10s] [--path DIR]
           break a node on purpose (also while a playbook runs), one fault per node:
             down       power off: the container is killed, no shutdown
             sshd-kill  SIGKILL sshd and its sessions (heal starts sshd again)
             link       pull the cable: the node's link goes down (--for 10s: back after 10 s)
             reboot     unannounced reset (reboot -ff inside); it boots again by itself
             hang       SIGSTOP every sshd of the node: TCP connections stay open, nothing answers
             disk-full  --path DIR: the file system under DIR is full (a filled tmpfs holding a
                        copy of DIR, mounted over it inside the node; the real disk is untouched)
             apt-down   the node's apt proxy refuses its connections (nftables in its namespace)
             rekey      new SSH host keys, sshd restarted: clients must refuse the node
  heal NODE
           undo the node's fault exactly (recorded in state.json) and wait until it answers:
           power on, link up, SIGCONT, unmount, delete the rule; for rekey, accept the new
           keys into the lab's known_hosts. \`down\` releases faults first
  k3s-airgap DIR [--version V] [--images]
           write an air-gap folder shaped like a k3s release (k3s, k3s-arm64, sha256sum-*.txt)
           whose binaries are the lab's k3s STAND-IN, not a real k3s (default ${STANDIN_DEFAULT_VERSION});
           give it to the k3s roles as k3s_airgap_dir

Options of up:
  --nodes N            number of nodes, named node1..nodeN (default 1)
  --arch A             amd64 (default), arm64 (via qemu-user) or mixed (node1 amd64, node2 arm64, ...)
  --pi                 give every node a Raspberry Pi 4 identity (device tree model/serial,
                       /proc/cpuinfo, /boot/firmware/cmdline.txt and config.txt)
  --ssd SIZE           give every node a loop-device disk of SIZE (e.g. 1G); its device is the
                       host var ssd_storage_device in the inventory
  --node SPEC          per-node options instead of --nodes/--arch, repeatable:
                       NAME[:amd64|:arm64][:pi][:ssd[=SIZE]]   (ssd alone means 1G)
                       NAME[:amd64|:arm64]:vm   a QEMU virtual machine (real kernel: NFS server,
                       modules) on the same bridge, same inventory entry; KVM with VT-x/AMD-V, else
                       TCG (emulated, ~40 s to boot); image built once from the base rootfs
  --netboot-client NAME[:mac=MAC]
                       a diskless x86 VM that PXE-boots from whatever DHCP/TFTP server answers on
                       the bridge (e.g. a vm node running roles/netboot-master); repeatable
  --netboot            add a client namespace (${"pilab-client"}) on the bridge with no address,
                       for DHCP/TFTP tests (ip netns exec pilab-client busybox udhcpc -i eth0 ...)

Other options:
  --test-lab           act on the test suite's lab instead (pitest-*, 10.213.1.0/24,
                       ~/.cache/pi-cluster-runner/test-lab), e.g. \`down --test-lab\` after an
                       interrupted npm test

Examples:
  npm run lab -- up --nodes 3
  npm run lab -- up --node node1 --node node2:ssd --node pi1:arm64:pi:ssd=2G --netboot
  npx zx run playbooks/site.yml -i inventory/lab.yml
  npm run lab -- fault node2 link --for 20s     # while the playbook runs, from another terminal
  npm run lab -- heal node2
  npm run lab -- down

Files: base rootfs cache ~/.cache/pi-cluster-runner/rootfs/, lab folder (node copies, key,
known_hosts, state, logs) ~/.cache/pi-cluster-runner/lab/ (PI_LAB_DIR overrides). Each node's
rootfs is an overlay on the cached base (PI_LAB_ROOTFS=copy: a full copy, ~4 s per node).`;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      nodes: { type: "string" },
      arch: { type: "string" },
      pi: { type: "boolean" },
      ssd: { type: "string" },
      node: { type: "string", multiple: true },
      netboot: { type: "boolean" },
      "netboot-client": { type: "string", multiple: true },
      "test-lab": { type: "boolean" },
      version: { type: "string" },
      images: { type: "boolean" },
      for: { type: "string" },
      path: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const command = positionals[0];
  if (values.help || !command || command === "help") {
    console.log(HELP);
    return values.help || command === "help" ? ExitCode.ok : ExitCode.badOptions;
  }
  const config = values["test-lab"] ? testLabConfig() : cliLabConfig(repoRoot);
  switch (command) {
    case "up": {
      if (values.nodes !== undefined && !/^\d+$/.test(values.nodes)) {
        throw new UserError(`--nodes ${values.nodes}: not a number`, { hint: "e.g. --nodes 3", exitCode: ExitCode.badOptions });
      }
      const nodes = nodeSpecs({
        nodes: values.nodes === undefined ? undefined : Number(values.nodes),
        arch: values.arch,
        pi: values.pi,
        ssd: values.ssd,
        node: values.node,
      });
      const netbootClients = netbootClientSpecs(values["netboot-client"], nodes);
      const state = await up(config, { nodes, netboot: !!values.netboot, netbootClients }, log);
      console.log(`Lab up: ${state.nodes.length} node(s) on ${state.bridge} ${state.bridgeAddress}/24`);
      for (const n of state.nodes) {
        console.log(`  ${n.name.padEnd(10)} ${n.address.padEnd(12)} ${n.arch}${n.pi ? " pi" : ""}${n.ssdDevice ? ` ssd=${n.ssdDevice}` : ""}${n.vm ? ` vm (${n.vm.accel})` : ""}`);
      }
      for (const c of state.netbootClients ?? []) console.log(`  ${c.name.padEnd(10)} ${"(dhcp)".padEnd(12)} netboot client vm (${c.accel}) ${c.mac}`);
      if (state.clientNetns) console.log(`  netboot client namespace: ${state.clientNetns}`);
      console.log(`Inventory: ${state.inventoryFile}`);
      console.log(`ssh:       ssh -i ${state.keyFile} -o UserKnownHostsFile=${state.knownHostsFile} root@${state.nodes[0].address}`);
      console.log(`Down:      npm run lab -- down`);
      return ExitCode.ok;
    }
    case "status": {
      const s = await status(config);
      if (!s) {
        console.log("No lab is up.");
        return ExitCode.ok;
      }
      console.log(`Bridge ${s.bridge} ${s.bridgeAddress}/24; apt proxy ${s.aptProxyAlive ? `pid ${s.aptProxyPid}` : "not running"}`);
      for (const n of s.nodes) {
        const proc = n.vm
          ? n.vm.alive ? `qemu ${n.vm.pid} (${n.vm.accel}${n.vm.accel === "tcg" ? ": emulated, no hardware virtualisation" : ""})` : "not running"
          : n.supervisorAlive ? `supervisor ${n.supervisorPid}, nspawn ${n.nspawnPids.join(",") || "-"}` : "not running";
        console.log(`  ${n.name.padEnd(10)} ${n.address.padEnd(12)} ${n.arch}${n.pi ? " pi" : ""}${n.ssdDevice ? ` ssd=${n.ssdDevice}` : ""}  ${proc}  sshd ${n.sshd ? "up" : "down"}${n.fault ? `  FAULT ${n.fault} (heal: npm run lab -- heal ${n.name})` : ""}`);
      }
      for (const c of s.netbootClients) console.log(`  ${c.name.padEnd(10)} ${c.mac}  netboot client vm ${c.alive ? `qemu ${c.pid} (${c.accel})` : "not running"}`);
      if (s.clientNetns) console.log(`  netboot client namespace: ${s.clientNetns}`);
      if (s.strayNetns.length) console.log(`Leftover namespaces (run down): ${s.strayNetns.join(" ")}`);
      console.log(`Inventory: ${s.inventoryFile}; state: ${s.stateFile}`);
      return s.nodes.every((n) => n.sshd) ? ExitCode.ok : ExitCode.error;
    }
    case "down": {
      if (process.getuid?.() !== 0) throw new UserError("The lab needs root", { hint: "sudo npm run lab -- down", exitCode: ExitCode.error });
      const t0 = Date.now();
      await down(config, log);
      console.log(`Lab down (${((Date.now() - t0) / 1000).toFixed(1)}s).`);
      return ExitCode.ok;
    }
    case "fault": {
      if (process.getuid?.() !== 0) throw new UserError("The lab needs root", { hint: "sudo npm run lab -- fault NODE KIND", exitCode: ExitCode.error });
      const kind = parseFaultKind(positionals[2]);
      const forMs = values.for === undefined ? undefined : parseDuration(values.for);
      if (forMs !== undefined && kind !== "link") throw new UserError("--for applies to the link fault only", { exitCode: ExitCode.badOptions });
      if (values.path !== undefined && kind !== "disk-full") throw new UserError("--path applies to the disk-full fault only", { exitCode: ExitCode.badOptions });
      console.log(await injectFault(config, positionals[1], kind, { forMs, path: values.path }, log));
      console.log(`Heal:      npm run lab -- heal ${positionals[1]}`);
      return ExitCode.ok;
    }
    case "heal": {
      if (process.getuid?.() !== 0) throw new UserError("The lab needs root", { hint: "sudo npm run lab -- heal NODE", exitCode: ExitCode.error });
      console.log(await healNode(config, positionals[1], log));
      return ExitCode.ok;
    }
    case "k3s-airgap": {
      const dir = positionals[1];
      if (!dir) throw new UserError("k3s-airgap needs a folder", { hint: "npm run lab -- k3s-airgap /tmp/k3s-airgap", exitCode: ExitCode.badOptions });
      const r = writeStandinAirgapDir(resolve(dir), values.version ?? STANDIN_DEFAULT_VERSION, { images: !!values.images });
      console.log(`Air-gap folder ${r.dir} (k3s STAND-IN ${r.version}, not a real k3s): ${r.files.join(" ")}`);
      return ExitCode.ok;
    }
    default: {
      const guess = didYouMean(command, ["up", "status", "down", "fault", "heal", "k3s-airgap", "help"]);
      throw new UserError(`Unknown lab command "${command}"`, {
        hint: guess ? `did you mean "${guess}"? (npm run lab -- --help)` : "commands are up, status, down, fault, heal, k3s-airgap (npm run lab -- --help)",
        exitCode: ExitCode.badOptions,
      });
    }
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UserError) {
    process.stderr.write(`lab: ${e.format()}\n`);
    process.exitCode = e.exitCode;
  } else if (e instanceof Error && (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
    process.stderr.write(`lab: ${e.message}\n  hint: npm run lab -- --help\n`);
    process.exitCode = ExitCode.badOptions;
  } else {
    process.stderr.write(`lab: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = ExitCode.error;
  }
}
