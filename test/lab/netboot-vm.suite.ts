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
 * missing or the lab cannot run. The Raspberry Pi path (bootloader emulation + an arm64 VM)
 * is not here yet.
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
import { startNetbootClient } from "../../scripts/lib/lab/up.ts";
import { labMac, stopQemu, vmUnavailableReason } from "../../scripts/lib/lab/vm.ts";
import { ensureVmImage, ensureVmRootTarball } from "../../scripts/lib/lab/vm-image.ts";
import { waitForSsh } from "../../scripts/lib/lab/ssh-ready.ts";
import { sshRun } from "../../scripts/lib/lab/ssh-command.ts";
import { writeKnownHosts } from "../../scripts/lib/lab/inventory.ts";
import { sleep } from "../../scripts/lib/lab/exec.ts";
import { aptProxyConf } from "../../scripts/lib/lab/apt-proxy.ts";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CONFIG = namedLabConfig("test-lab-vm", "pivm", 10);
const SPEC = { nodes: [{ name: "master", arch: "amd64" as const, vm: true }], netboot: false };
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
/** A machine that tries to boot but is not in the inventory. */
const STRANGER = { name: "stranger", mac: labMac(CONFIG.subnet, "client", 0x99) };

const skipReason = await vmSuiteSkipReason();

async function vmSuiteSkipReason(): Promise<string | false> {
  const lab = await labAvailable(SPEC, CONFIG);
  if (lab) return `no lab: ${lab}`;
  const vm = vmUnavailableReason("amd64", true);
  return vm ? `no virtual machines: ${vm}` : false;
}

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

  function writeInventory(cluster: string[] = []): string {
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
                netboot_os_tarball: tarball,
                netboot_admin_ssh_keys: [publicKey],
                // The end of pxelinux's APPEND line: the kernel's messages on the client's serial log too.
                netboot_cmdline_cgroup: "cgroup_memory=1 cgroup_enable=memory console=ttyS0",
              },
            },
          },
          netboot_clients: {
            hosts: Object.fromEntries(CLIENTS.map((c) => [c.name, { ansible_host: c.address, netboot_kind: "pxe", netboot_mac: c.mac }])),
          },
          // A client asks static-ip for its own address: the role must leave it alone (root on NFS).
          cluster: { hosts: Object.fromEntries(cluster.map((h) => [h, CLIENTS.find((c) => c.name === h) ? { static_ip_address: `${CLIENTS.find((c) => c.name === h)!.address}/24` } : null])) },
        },
      },
    };
    const file = join(dir, `inventory${cluster.length ? "-cluster" : ""}.yml`);
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
});
