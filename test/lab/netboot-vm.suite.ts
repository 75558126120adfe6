/**
 * roles/netboot-master on a real machine, proven by real network boots: a lab of its own
 * (prefix pivm, 10.213.10.0/24) whose master is a QEMU VM (a real kernel: nfsd, exports), and
 * diskless x86 client VMs that boot SeaBIOS -> iPXE -> DHCP -> pxelinux over TFTP -> kernel +
 * initrd over TFTP -> root over NFS (vers=3) -> sshd. The OS the master imports is the lab's
 * VM root as a tarball (a stock Debian kernel and initramfs-tools, which mounts NFS roots).
 * Then site.yml's base-os, ntp and static-ip run on a client (static-ip skips it: root on
 * NFS; time from the master's chrony), the client reboots and comes back, two clients differ
 * in machine-id, host keys and hostname, and `discover` lists a machine that tried to boot
 * without being in the inventory.
 *
 * Under TCG (no VT-x/AMD-V here) a client boots in about 70-100 s; the whole suite takes
 * minutes (measured numbers in the README). Skipped with the reason where QEMU or iPXE is
 * missing or the lab cannot run.
 *
 * Then the same master takes a Raspberry Pi OS-shaped arm64 image (vm-pi-image.ts) and a Pi 4
 * registered by serial: the Pi bootloader emulation (test/support/pi-bootloader.ts) runs from
 * the client namespace against the master (DHCP option 43, the TFTP sequence, every file
 * checked), and an arm64 `virt` VM boots the fetched kernel8.img and initramfs8 with exactly the
 * served cmdline.txt (plus console=ttyAMA0) to sshd on its NFS root; it reboots through the
 * emulation again. Adding a Pi 5 afterwards changes no other client's files.
 *
 * Standalone: `node --import tsx --test --test-concurrency=1 test/lab/netboot-vm.suite.ts`.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { bootLab, labAvailable, type Lab } from "../support/lab.ts";
import { labNames, namedLabConfig } from "../../scripts/lib/lab/config.ts";
import { readState } from "../../scripts/lib/lab/state.ts";
import { startNetbootClient, startPiClient } from "../../scripts/lib/lab/up.ts";
import { labMac, stopQemu, vmUnavailableReason } from "../../scripts/lib/lab/vm.ts";
import { ensureVmImage, ensureVmRootTarball } from "../../scripts/lib/lab/vm-image.ts";
import { ensurePiOsImage, piImageToolsMissing, type PiOsImage } from "../../scripts/lib/lab/vm-pi-image.ts";
import { isAlive } from "../../scripts/lib/lab/processes.ts";
import { piBootloader, type PiModel } from "../support/pi-bootloader.ts";
import { waitForSsh } from "../../scripts/lib/lab/ssh-ready.ts";
import { sshRun } from "../../scripts/lib/lab/ssh-command.ts";
import { writeKnownHosts } from "../../scripts/lib/lab/inventory.ts";
import { sleep } from "../../scripts/lib/lab/exec.ts";
import { aptProxyConf } from "../../scripts/lib/lab/apt-proxy.ts";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CONFIG = namedLabConfig("test-lab-vm", "pivm", 10);
// netboot: the client namespace the Pi bootloader emulation runs in.
const SPEC = { nodes: [{ name: "master", arch: "amd64" as const, vm: true }], netboot: true };
const RUN_TIMEOUT_MS = 10 * 60_000;
/** From QEMU start to sshd on the NFS root, under TCG on a busy 2-core machine. */
const CLIENT_BOOT_TIMEOUT_MS = 10 * 60_000;

interface Client {
  name: string;
  mac: string;
  address: string;
}
const CLIENTS: Client[] = [
  { name: "x86-a", mac: labMac(CONFIG.subnet, "client", 1), address: `${CONFIG.subnet}.21` },
  { name: "x86-b", mac: labMac(CONFIG.subnet, "client", 2), address: `${CONFIG.subnet}.22` },
];
interface PiClient extends Client {
  model: PiModel;
  serial: string;
}
/** Booted through the bootloader emulation in an arm64 VM. */
const PI4: PiClient = { name: "pi4-a", model: "pi4", mac: "dc:a6:32:0a:00:31", serial: "a10c0031", address: `${CONFIG.subnet}.31` };
/** Added last: only its own files may appear (no boot needed). */
const PI5: PiClient = { name: "pi5-b", model: "pi5", mac: "2c:cf:67:0a:00:32", serial: "b20c0032", address: `${CONFIG.subnet}.32` };
/** A machine that tries to boot but is not in the inventory. */
const STRANGER = { name: "stranger", mac: labMac(CONFIG.subnet, "client", 0x99) };

const skipReason = await vmSuiteSkipReason();

async function vmSuiteSkipReason(): Promise<string | false> {
  const lab = await labAvailable(SPEC, CONFIG);
  if (lab) return `no lab: ${lab}`;
  const vm = vmUnavailableReason("amd64", true);
  return vm ? `no virtual machines: ${vm}` : false;
}

/** The Pi tests need arm64 QEMU and the image tools besides (the x86 tests do not). */
const piSkipReason: string | false = (() => {
  const why = vmUnavailableReason("arm64") ?? piImageToolsMissing();
  return why ? `no Raspberry Pi client VMs: ${why}` : false;
})();

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: repo, env: { ...process.env, NO_COLOR: "1", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGINT"), RUN_TIMEOUT_MS);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

const secs = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const note = (line: string) => process.stderr.write(`# netboot-vm: ${line}\n`);

type JsonReport = { plays: Array<{ tasks: Array<{ task: { name: string }; hosts: Record<string, { changed?: boolean; skipped?: boolean; msg?: string }> }> }> };

describe("netboot-master on a VM: diskless x86 VMs boot over DHCP, TFTP and NFS", { skip: skipReason, concurrency: false }, () => {
  let lab: Lab | undefined;
  let dir: string;
  let tarball: string;
  let piImage: PiOsImage;
  let master: string;
  /** known_hosts for the master and the clients (their keys are made by the role). */
  let knownHosts: string;
  const booted = new Map<string, number>();
  /** Later tests need a converged master; without one they fail at once instead of waiting. */
  let converged = false;

  before(
    async () => {
      dir = mkdtempSync(join(tmpdir(), "pi-netboot-vm-"));
      const t0 = Date.now();
      // A cold machine builds the base rootfs (~2 min) and the VM image (~1-2 min) first.
      lab = await bootLab(SPEC, { config: CONFIG });
      note(`lab up (master VM) in ${secs(t0)}`);
      const t1 = Date.now();
      tarball = await ensureVmRootTarball(CONFIG.cacheDir, await ensureVmImage(CONFIG.cacheDir, "amd64"));
      note(`client OS tarball ready in ${secs(t1)}`);
      const t2 = Date.now();
      if (!piSkipReason) {
        piImage = await ensurePiOsImage(CONFIG.cacheDir);
        note(`Raspberry Pi OS-shaped arm64 image ready in ${secs(t2)} (${piImage.kernelRelease})`);
      }
      master = lab.node("master").address;
      knownHosts = join(dir, "known_hosts");
      writeFileSync(knownHosts, readFileSync(lab.knownHostsFile, "utf8"));
    },
    { timeout: 30 * 60_000 },
  );

  after(async () => {
    // down() powers off the clients before the master (their NFS server), by PID.
    if (lab) await lab.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** `pis`: Pi clients too, and the master then imports the Pi OS-shaped image instead of the tarball. */
  function writeInventory(cluster: string[] = [], pis: PiClient[] = []): string {
    const l = lab!;
    const publicKey = readFileSync(`${l.keyFile}.pub`, "utf8").trim();
    const inventory = {
      all: {
        vars: {
          ansible_user: "root",
          ansible_ssh_private_key_file: l.keyFile,
          ansible_ssh_common_args: `-o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes`,
          ansible_python_interpreter: "/usr/bin/python3",
          // Time from the master's chrony (the lab has no other time server; no DNS either).
          ntp_serve_clients: true,
          ntp_server_host: "master",
          ntp_allow: [`${CONFIG.subnet}.0/24`],
        },
        children: {
          netboot_master: {
            hosts: {
              master: {
                ansible_host: master,
                netboot_interface: "eth0",
                netboot_server_address: master,
                // The lab bridge has no other DHCP server: the master is the rack's.
                netboot_dhcp_mode: "full",
                netboot_dhcp_range_start: `${CONFIG.subnet}.100`,
                netboot_dhcp_range_end: `${CONFIG.subnet}.150`,
                ...(pis.length ? { netboot_os_image: piImage.image } : { netboot_os_tarball: tarball }),
                netboot_admin_ssh_keys: [publicKey],
                // The end of pxelinux's APPEND line: the kernel's messages on the client's serial log too.
                netboot_cmdline_cgroup: "cgroup_memory=1 cgroup_enable=memory console=ttyS0",
              },
            },
          },
          netboot_clients: {
            hosts: Object.fromEntries([
              ...CLIENTS.map((c) => [c.name, { ansible_host: c.address, netboot_kind: "pxe", netboot_mac: c.mac }]),
              ...pis.map((p) => [p.name, { ansible_host: p.address, netboot_kind: p.model, netboot_mac: p.mac, netboot_serial: p.serial }]),
            ]),
          },
          // A client asks static-ip for its own address: the role must leave it alone (root on NFS).
          cluster: { hosts: Object.fromEntries(cluster.map((h) => [h, CLIENTS.find((c) => c.name === h) ? { static_ip_address: `${CLIENTS.find((c) => c.name === h)!.address}/24` } : null])) },
        },
      },
    };
    const file = join(dir, `inventory${cluster.length ? "-cluster" : ""}${pis.map((p) => `-${p.name}`).join("")}.yml`);
    writeFileSync(file, stringify(inventory));
    return file;
  }

  /** Runs a playbook; returns its JSON report. */
  async function play(inventory: string, playbook: string, pass: string, extra: string[] = []): Promise<JsonReport> {
    const json = join(dir, `run-${pass.replaceAll(" ", "-")}.json`);
    const started = Date.now();
    const r = await run("npx", ["zx", "run", "-i", inventory, playbook, "--json", json, ...extra], { CI: "true", ANSIBLE_ROLES_PATH: join(repo, "roles") });
    note(`${pass} -> exit ${r.code} in ${secs(started)}`);
    assert.equal(r.code, 0, `${pass} failed\n${r.stdout.slice(-6000)}\n${r.stderr.slice(-3000)}`);
    return JSON.parse(readFileSync(json, "utf8")) as JsonReport;
  }

  const changedOn = (report: JsonReport, host: string) => report.plays.flatMap((p) => p.tasks.filter((t) => t.hosts[host]?.changed).map((t) => t.task.name));

  async function onMaster(command: string): Promise<string> {
    const r = await lab!.ssh("master", command);
    assert.equal(r.rc, 0, `on the master: ${command}\n${r.stderr}`);
    return r.stdout;
  }

  async function onClient(c: Client, command: string): Promise<{ rc: number; stdout: string; stderr: string }> {
    const r = await sshRun({ keyFile: lab!.keyFile, knownHostsFile: knownHosts, address: c.address, connectTimeout: 20 }, command);
    return { rc: r.code, stdout: r.stdout, stderr: r.stderr };
  }

  /** Powers on a diskless VM on the lab bridge (recorded in the lab's state: down stops it). */
  async function powerOn(client: { name: string; mac: string }) {
    const state = readState(labNames(CONFIG).stateFile);
    assert.ok(state, "the lab has no state file");
    return startNetbootClient(CONFIG, state, client);
  }

  async function consoleTail(name: string): Promise<string> {
    try {
      return readFileSync(join(CONFIG.dir, "nodes", name, "console.log"), "utf8").trim().split("\n").slice(-15).join("\n");
    } catch {
      return "(no console log)";
    }
  }

  test("the role converges on the VM master with a real NFS server, and a second run changes nothing", { timeout: 20 * 60_000 }, async () => {
    const inventory = writeInventory();
    const playbook = join(dir, "netboot.yml");
    writeFileSync(playbook, stringify([{ name: "Netboot master", hosts: "netboot_master", become: true, gather_facts: true, roles: ["netboot-master"] }]));
    const first = await play(inventory, playbook, "first run");
    assert.ok(changedOn(first, "master").length > 0, "the first run changed nothing");
    const second = await play(inventory, playbook, "second run");
    assert.deepEqual(changedOn(second, "master"), [], "the second run changed tasks");
    converged = true;
    const services = await onMaster("systemctl is-active nfs-server dnsmasq; exportfs -v");
    assert.match(services, /^active\nactive\n/, `nfs-server and dnsmasq are not both active:\n${services}`);
    for (const c of CLIENTS) assert.match(services, new RegExp(`/srv/nfs/${c.name}\\s+${c.address.replaceAll(".", "\\.")}\\(`), `no export of ${c.name}'s root to ${c.address}:\n${services}`);
  });

  test("discover lists a machine that tried to boot but is not in the inventory", { timeout: 5 * 60_000 }, async () => {
    assert.ok(converged, "the master did not converge (test before)");
    const vm = await powerOn(STRANGER);
    try {
      const deadline = Date.now() + 3 * 60_000;
      let log = "";
      while (Date.now() < deadline && !log.includes(STRANGER.mac)) {
        await sleep(3000);
        log = await onMaster("journalctl -u dnsmasq --no-pager -o short");
      }
      assert.ok(log.includes(STRANGER.mac), `dnsmasq never saw ${STRANGER.mac}:\n${log.slice(-3000)}\n${await consoleTail(STRANGER.name)}`);
      const file = join(dir, "dnsmasq.log");
      writeFileSync(file, log);
      const r = await run("npx", ["zx", "discover", "--log", file, "-i", writeInventory()]);
      assert.equal(r.code, 0, `discover failed: ${r.stderr}`);
      const line = r.stdout.split("\n").find((l) => l.trimStart().startsWith(STRANGER.mac)) ?? "";
      assert.match(line, /PXE\s+NOT IN THE INVENTORY/, r.stdout);
    } finally {
      await stopQemu(vm.pid, vm.qemuName);
    }
  });

  test("two diskless VMs boot DHCP -> TFTP -> NFS root to sshd, each with its own identity", { timeout: 20 * 60_000 }, async () => {
    assert.ok(converged, "the master did not converge (test before)");
    const t0 = Date.now();
    for (const c of CLIENTS) {
      await powerOn(c);
      // The keys the role made in each client's root on the master: the client must present them.
      const keys = (await onMaster(`cat /srv/nfs/${c.name}/etc/ssh/ssh_host_*_key.pub`)).trim().split("\n").map((l) => l.split(/\s+/).slice(0, 2).join(" "));
      writeFileSync(knownHosts, readFileSync(knownHosts, "utf8") + keys.map((k) => `${c.name},${c.address} ${k}\n`).join(""));
    }
    await Promise.all(
      CLIENTS.map(async (c) => {
        const up = await waitForSsh(c.address, CLIENT_BOOT_TIMEOUT_MS);
        assert.ok(up, `${c.name} did not answer ssh on ${c.address} within ${CLIENT_BOOT_TIMEOUT_MS / 1000} s:\n${await consoleTail(c.name)}`);
        booted.set(c.name, Date.now() - t0);
        note(`${c.name}: sshd after ${secs(t0)}`);
      }),
    );
    const ids = [];
    for (const c of CLIENTS) {
      const r = await onClient(c, "systemctl is-system-running --wait >/dev/null; findmnt -n -o SOURCE,FSTYPE,OPTIONS /; hostname; cat /etc/machine-id; sha256sum < /etc/ssh/ssh_host_ed25519_key.pub | cut -c1-64; cat /proc/cmdline; systemd-analyze | head -1");
      assert.equal(r.rc, 0, `${c.name}: ${r.stderr}`);
      const [mount, hostname, machineId, hostKey, cmdline, analyze] = r.stdout.trim().split("\n");
      note(`${c.name}: ${analyze}`);
      assert.match(mount, new RegExp(`^${master.replaceAll(".", "\\.")}:/srv/nfs/${c.name} nfs .*vers=3`), `${c.name}: root is not its NFS export: ${mount}`);
      assert.match(cmdline, /ip=dhcp/, `${c.name}: not booted by pxelinux's line: ${cmdline}`);
      assert.equal(hostname, c.name);
      assert.match(machineId, /^[0-9a-f]{32}$/);
      ids.push({ machineId, hostKey });
    }
    assert.equal(new Set(ids.map((i) => i.machineId)).size, CLIENTS.length, "the clients share a machine-id");
    assert.equal(new Set(ids.map((i) => i.hostKey)).size, CLIENTS.length, "the clients share a host key");
    // The root is writable and is the master's folder: a file written by the client shows up there.
    const c = CLIENTS[0];
    assert.equal((await onClient(c, "echo written-by-the-client > /root/nfs-proof")).rc, 0);
    assert.equal((await onMaster(`cat /srv/nfs/${c.name}/root/nfs-proof`)).trim(), "written-by-the-client");
  });

  test("site.yml on a netbooted client: base-os and ntp run, static-ip skips it, time comes from the master", { timeout: 25 * 60_000 }, async () => {
    const c = CLIENTS[0];
    assert.ok(booted.has(c.name), `${c.name} did not boot in the test before`);
    // As every lab node: apt through the lab's proxy (the imported OS knows no lab).
    const proxy = aptProxyConf(lab!.bridgeAddress);
    const wrote = await onClient(c, `cat > /etc/apt/apt.conf.d/01lab-proxy <<'EOF'\n${proxy}EOF`);
    assert.equal(wrote.rc, 0, `${c.name}: ${wrote.stderr}`);
    const inventory = writeInventory(["master", c.name]);
    const report = await play(inventory, join(repo, "playbooks/site.yml"), "site.yml base-os,ntp,static-ip", ["--tags", "base-os,ntp,static-ip"]);
    const tasks = report.plays.flatMap((p) => p.tasks);
    const staticIp = tasks.find((t) => t.task.name.endsWith("Configure the static address") && t.hosts[c.name]);
    const said = JSON.stringify(staticIp?.hosts[c.name]);
    assert.match(said, /"skipped":\s*true/, `static-ip did not skip the client: ${said}`);
    assert.match(said, /root filesystem is on NFS/, `static-ip did not say why it left the client alone: ${said}`);
    const sync = await onClient(c, "for i in $(seq 1 60); do s=$(timedatectl show-timesync -p ServerAddress --value 2>/dev/null); [ -n \"$s\" ] && timedatectl show -p NTPSynchronized --value | grep -q yes && break; sleep 2; done; echo \"$s\"; timedatectl show -p NTPSynchronized --value");
    const [server, synced] = sync.stdout.trim().split("\n");
    assert.equal(server, master, `${c.name} does not take its time from the master: ${sync.stdout}${sync.stderr}`);
    assert.equal(synced, "yes", `${c.name} is not synchronized to the master's chrony: ${sync.stdout}`);
    const again = await play(inventory, join(repo, "playbooks/site.yml"), "site.yml again", ["--tags", "base-os,ntp,static-ip"]);
    assert.deepEqual(changedOn(again, c.name), [], "the second site.yml run changed the client");
  });

  test("a rebooted client comes back from the network with the same identity", { timeout: 15 * 60_000 }, async () => {
    const c = CLIENTS[0];
    assert.ok(booted.has(c.name), `${c.name} did not boot in the test before`);
    const before = (await onClient(c, "cat /proc/sys/kernel/random/boot_id /etc/machine-id")).stdout.trim().split("\n");
    const t0 = Date.now();
    await onClient(c, "systemctl reboot");
    const deadline = Date.now() + CLIENT_BOOT_TIMEOUT_MS;
    let after: string[] = [];
    while (Date.now() < deadline) {
      await sleep(5000);
      if (!(await waitForSsh(c.address, 5000))) continue;
      const r = await onClient(c, "systemctl is-system-running --wait >/dev/null; cat /proc/sys/kernel/random/boot_id /etc/machine-id");
      after = r.stdout.trim().split("\n");
      if (r.rc === 0 && after[0] && after[0] !== before[0]) break;
    }
    note(`${c.name}: back after a reboot in ${secs(t0)}`);
    assert.notEqual(after[0], before[0], `${c.name} did not come back within ${CLIENT_BOOT_TIMEOUT_MS / 1000} s:\n${await consoleTail(c.name)}`);
    assert.equal(after[1], before[1], "the machine-id changed over the reboot");
  });
  // --- Raspberry Pi clients: the bootloader emulation + an arm64 VM --------------------------

  let piConverged = false;
  const piBooted = new Map<string, { pid: number; qemuName: string }>();

  /** The cmdline.txt the master must serve a Pi (the role's; the cgroup flags last). */
  const cmdlineFor = (p: PiClient) =>
    `console=serial0,115200 console=tty1 root=/dev/nfs nfsroot=${master}:/srv/nfs/${p.name},vers=3 rw ip=dhcp rootwait cgroup_memory=1 cgroup_enable=memory console=ttyS0\n`;

  /** The bootloader emulation for `p`; asserts the whole sequence was served as it must be. */
  async function piBoot(p: PiClient, pass: string) {
    const boot = await piBootloader({
      netns: lab!.clientNetns!,
      mac: p.mac,
      model: p.model,
      folder: p.serial,
      into: join(dir, `${p.name}-${pass}`),
      // Everything byte for byte as in the image's boot partition, but the master's cmdline.txt.
      expected: (file) => (file === "cmdline.txt" ? Buffer.from(cmdlineFor(p)) : readFileSync(join(piImage.bootDir, file))),
    });
    assert.deepEqual(boot.problems, [], `${p.name} (${p.model}): the bootloader's TFTP sequence failed`);
    assert.equal(boot.offer.server, master, "the boot offer's server identifier is not the master");
    assert.equal(boot.offer.yiaddr, p.address, "the master did not offer the Pi its registered address");
    return boot;
  }

  /** Waits for sshd on a Pi VM; gives up at once when its QEMU ended (the initramfs powers off on failure). */
  async function waitForPi(p: PiClient): Promise<boolean> {
    const vm = piBooted.get(p.name)!;
    return waitForSsh(p.address, CLIENT_BOOT_TIMEOUT_MS, () => isAlive(vm.pid));
  }

  /** Bootloader emulation, then the arm64 VM with what it fetched. */
  async function powerOnPi(p: PiClient, pass: string) {
    const boot = await piBoot(p, pass);
    const state = readState(labNames(CONFIG).stateFile);
    assert.ok(state, "the lab has no state file");
    const vm = await startPiClient(CONFIG, state, { name: p.name, mac: p.mac, kernel: boot.kernel, initrd: boot.initramfs, cmdline: boot.cmdline });
    piBooted.set(p.name, { pid: vm.pid!, qemuName: vm.qemuName });
    return boot;
  }

  test("the master takes the Raspberry Pi OS-shaped image for a Pi 4 registered by serial; a second run changes nothing", { skip: piSkipReason, timeout: 20 * 60_000 }, async () => {
    assert.ok(converged, "the master did not converge (test before)");
    const before = await onMaster(`sha256sum /srv/nfs/${CLIENTS[0].name}/etc/machine-id /srv/nfs/${CLIENTS[0].name}/etc/ssh/ssh_host_ed25519_key`);
    const inventory = writeInventory([], [PI4]);
    const playbook = join(dir, "netboot.yml");
    const first = await play(inventory, playbook, "Pi 4 run");
    assert.ok(changedOn(first, "master").length > 0, "the run with the Pi changed nothing");
    const second = await play(inventory, playbook, "Pi 4 run again");
    assert.deepEqual(changedOn(second, "master"), [], "the second run with the Pi changed tasks");
    piConverged = true;
    // A new image is for new clients: an existing root is made once and kept.
    assert.equal(await onMaster(`sha256sum /srv/nfs/${CLIENTS[0].name}/etc/machine-id /srv/nfs/${CLIENTS[0].name}/etc/ssh/ssh_host_ed25519_key`), before, "an x86 client's root changed");
    // ELF e_machine 0xb7: AArch64.
    assert.equal((await onMaster(`od -An -tx1 -j18 -N2 /srv/nfs/${PI4.name}/usr/bin/systemctl`)).trim(), "b7 00", "the Pi's root is not the arm64 image");
  });

  test("a Pi 4 boots through the bootloader emulation: option 43, TFTP from <serial>/, the served cmdline.txt, root on NFS vers=3", { skip: piSkipReason, timeout: 20 * 60_000 }, async () => {
    assert.ok(piConverged, "the master did not converge with the Pi (test before)");
    const t0 = Date.now();
    const keys = (await onMaster(`cat /srv/nfs/${PI4.name}/etc/ssh/ssh_host_*_key.pub`)).trim().split("\n").map((l) => l.split(/\s+/).slice(0, 2).join(" "));
    writeFileSync(knownHosts, readFileSync(knownHosts, "utf8") + keys.map((k) => `${PI4.name},${PI4.address} ${k}\n`).join(""));
    const boot = await powerOnPi(PI4, "boot-1");
    note(`${PI4.name}: bootloader emulation done in ${secs(t0)}`);
    const up = await waitForPi(PI4);
    assert.ok(up, `${PI4.name} did not answer ssh on ${PI4.address} within ${CLIENT_BOOT_TIMEOUT_MS / 1000} s:\n${await consoleTail(PI4.name)}`);
    note(`${PI4.name}: sshd after ${secs(t0)}`);
    // known_hosts holds only the keys the role made in its root: the ssh login proves the host key.
    const r = await onClient(PI4, "systemctl is-system-running --wait >/dev/null; findmnt -n -o SOURCE,FSTYPE,OPTIONS /; hostname; cat /etc/machine-id; uname -m; systemctl is-active ssh; cat /proc/cmdline; systemd-analyze | head -1");
    assert.equal(r.rc, 0, `${PI4.name}: ${r.stderr}`);
    const [mount, hostname, machineId, arch, sshd, cmdline, analyze] = r.stdout.trim().split("\n");
    note(`${PI4.name}: ${analyze}`);
    assert.match(mount, new RegExp(`^${master.replaceAll(".", "\\.")}:/srv/nfs/${PI4.name} nfs .*vers=3`), `${PI4.name}: root is not its NFS export: ${mount}`);
    assert.equal(hostname, PI4.name);
    assert.equal(machineId, (await onMaster(`cat /srv/nfs/${PI4.name}/etc/machine-id`)).trim(), "not the machine-id the role gave it");
    assert.equal(arch, "aarch64");
    assert.equal(sshd, "active");
    assert.equal(cmdline, `${boot.cmdline.trim()} console=ttyAMA0`, "the kernel did not run with the served cmdline.txt (+ the lab's console=ttyAMA0)");
    assert.match(cmdline, /cgroup_memory=1 cgroup_enable=memory/, "the cgroup flags k3s needs are not on the kernel's command line");
  });

  test("the rebooted Pi 4 comes back through the emulation with the same machine-id", { skip: piSkipReason, timeout: 15 * 60_000 }, async () => {
    const vm = piBooted.get(PI4.name);
    assert.ok(vm, `${PI4.name} did not boot in the test before`);
    const before = (await onClient(PI4, "cat /proc/sys/kernel/random/boot_id /etc/machine-id")).stdout.trim().split("\n");
    const t0 = Date.now();
    await onClient(PI4, "systemctl reboot");
    // -no-reboot: QEMU ends at the reset, as a Pi hands over to its bootloader.
    const deadline = Date.now() + 5 * 60_000;
    while (Date.now() < deadline && isAlive(vm.pid)) await sleep(2000);
    assert.ok(!isAlive(vm.pid), `${PI4.name} did not reset within 5 min:\n${await consoleTail(PI4.name)}`);
    await powerOnPi(PI4, "boot-2");
    const up = await waitForPi(PI4);
    assert.ok(up, `${PI4.name} did not come back within ${CLIENT_BOOT_TIMEOUT_MS / 1000} s:\n${await consoleTail(PI4.name)}`);
    const after = (await onClient(PI4, "systemctl is-system-running --wait >/dev/null; cat /proc/sys/kernel/random/boot_id /etc/machine-id")).stdout.trim().split("\n");
    note(`${PI4.name}: back after a reboot in ${secs(t0)}`);
    assert.notEqual(after[0], before[0], "the boot id did not change: no reboot happened");
    assert.equal(after[1], before[1], "the machine-id changed over the reboot");
  });

  test("adding a Pi 5 changes only its files; the run after changes nothing; its bootloader's sequence is served", { skip: piSkipReason, timeout: 20 * 60_000 }, async () => {
    assert.ok(piConverged, "the master did not converge with the Pi (test before)");
    // Each existing client's identity files, boot folder, pxelinux entry and exports line, with mtimes.
    const others = [...CLIENTS.map((c) => ({ name: c.name, boot: c.name, pxe: `pxelinux.cfg/01-${c.mac.replaceAll(":", "-")}` })), { name: PI4.name, boot: PI4.serial, pxe: "" }];
    const snapshot = () =>
      onMaster(
        others
          .map((o) => {
            const files = [`/srv/nfs/${o.name}/etc/{machine-id,hostname,hosts,fstab}`, `/srv/nfs/${o.name}/etc/ssh/ssh_host_*`, `/srv/nfs/${o.name}/root/.ssh/authorized_keys`, `/srv/nfs/${o.name}/.netboot-root`, `/etc/exports.d/netboot-${o.name}.exports`, ...(o.pxe ? [`/srv/tftp/${o.pxe}`] : [])].join(" ");
            return `for f in ${files} $(find /srv/tftp/${o.boot} -type f | sort); do printf '%s %s\\n' "$(stat -c %Y "$f")" "$(sha256sum "$f")"; done`;
          })
          .join("; "),
      );
    const before = await snapshot();
    assert.ok(before.split("\n").length > 30, `the snapshot is too small to mean anything:\n${before}`);
    const inventory = writeInventory([], [PI4, PI5]);
    const playbook = join(dir, "netboot.yml");
    const added = await play(inventory, playbook, "Pi 5 added");
    assert.ok(changedOn(added, "master").length > 0, "adding the Pi 5 changed nothing");
    assert.equal(await snapshot(), before, "adding a client changed another client's files");
    const again = await play(inventory, playbook, "Pi 5 run again");
    assert.deepEqual(changedOn(again, "master"), [], "the run after adding the Pi 5 changed tasks");
    assert.equal((await onMaster(`cat /srv/nfs/${PI5.name}/etc/hostname`)).trim(), PI5.name);
    await piBoot(PI5, "sequence");
  });
});
