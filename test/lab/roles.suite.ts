/**
 * The node roles (base-os, ntp, static-ip, ssd-storage) and playbooks/site.yml against the
 * real lab, through the real CLI (`node --import tsx scripts/play.ts`), asserted on the nodes
 * over ssh. One lab of three nodes (amd64 plain, amd64 + SSD, arm64 Raspberry Pi + SSD) is
 * shared with the other suites; the tests run in order and each states what it leaves behind:
 *
 *   1. --check --diff on the fresh nodes prints the changes and changes nothing;
 *   2. --tags ntp runs only the ntp role;
 *   3. site.yml converges (the plain node's address is switched, the Pi reboots once);
 *   4. a second run changes nothing on any host;
 *   5. the SSD is still mounted by UUID after a reboot;
 *   6. a disk with someone's filesystem on it is refused and the file on it survives;
 *   7. a switch whose confirmation is withheld is rolled back by the node itself;
 *   8. ssd_storage_wipe: true on that host prepares the refused disk again;
 *   9. the plain node switches back to its lab address (a second confirmed switch);
 *  10. ntp_serve_clients: one node configured as the time server (chrony), the others ask it.
 *
 * Addresses used: the nodes' own lab addresses and two more inside the lab's /24 (.61, .52).
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { currentLab, labSkip, type Lab } from "../support/lab.ts";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SITE = "playbooks/site.yml";
const DROPIN = "/etc/systemd/timesyncd.conf.d/10-pi-cluster.conf";
const CMDLINE = "/boot/firmware/cmdline.txt";
const TOKENS = ["cgroup_memory=1", "cgroup_enable=memory", "cgroup_enable=cpuset"];
const PLAY_TIMEOUT_MS = 25 * 60_000;

/** A lab node as this suite needs it. */
interface SuiteNode {
  name: string;
  address: string;
  pi: boolean;
  arch: string;
  ssdDevice?: string;
  /** The node's folder on the host (its supervisor.log counts reboots). */
  dir: string;
}

interface SuiteLab {
  subnet: string;
  keyFile: string;
  knownHostsFile: string;
  nodes: SuiteNode[];
}

/** The lab booted by test/lab/lab.test.ts, as this suite needs it. */
function labForSuites(): SuiteLab {
  const lab: Lab = currentLab();
  return {
    subnet: lab.nodes[0].address.split(".").slice(0, 3).join("."),
    keyFile: lab.keyFile,
    knownHostsFile: lab.knownHostsFile,
    nodes: lab.nodes.map((n) => ({ name: n.name, address: n.address, pi: n.pi, arch: n.arch, ssdDevice: n.ssdDevice, dir: join(lab.dir, "nodes", n.name) })),
  };
}

interface PlayOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
  report?: JsonReport;
}

interface JsonReport {
  plays: Array<{ play: { name: string }; tasks: Array<{ task: { name: string }; hosts: Record<string, { changed?: boolean; failed?: boolean; skipped?: boolean; msg?: string }> }> }>;
  stats: Record<string, { ok: number; changed: number; failures: number; unreachable: number; skipped: number }>;
}

/** Everything the tests share. */
interface World {
  lab: SuiteLab;
  dir: string;
  knownHosts: string;
  plain: SuiteNode;
  ssdNode: SuiteNode;
  pi: SuiteNode;
  /** Where each node answers now (the plain node moves in the converge). */
  address: Map<string, string>;
  /** Address the plain node is switched to by the converge. */
  plainStatic: string;
  /** Address the rollback test tries (and fails to confirm) on the SSD node. */
  rollbackAddress: string;
}

let world: World | undefined;

function w(): World {
  assert.ok(world, "the lab is not up (see the first failure)");
  return world;
}

/** ssh to a node as root with the lab's key and our known_hosts; never throws on rc != 0. */
function ssh(node: SuiteNode, command: string, address = w().address.get(node.name)!, timeoutMs = 60_000): { rc: number; stdout: string; stderr: string } {
  const r = spawnSync(
    "ssh",
    [
      "-i", w().lab.keyFile,
      "-o", `UserKnownHostsFile=${w().knownHosts}`,
      "-o", "StrictHostKeyChecking=yes",
      "-o", "IdentitiesOnly=yes",
      "-o", "BatchMode=yes",
      "-o", "ConnectTimeout=5",
      `root@${address}`,
      command,
    ],
    { encoding: "utf8", timeout: timeoutMs },
  );
  return { rc: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

function sshOk(node: SuiteNode, command: string, address?: string): string {
  const r = ssh(node, command, address);
  assert.equal(r.rc, 0, `${node.name}: ${command}\n${r.stderr}`);
  return r.stdout;
}

async function waitForSsh(node: SuiteNode, address: string, seconds: number, check = "true"): Promise<boolean> {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    if (ssh(node, check, address, 10_000).rc === 0) return true;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return false;
}

/** The inventory for a run: the lab's nodes in the groups site.yml uses, plus `extra` vars. */
function writeInventory(name: string, hostVars: Record<string, Record<string, unknown>> = {}, allVars: Record<string, unknown> = {}): string {
  const { lab, knownHosts } = w();
  const host = (node: SuiteNode) => ({
    ansible_host: w().address.get(node.name),
    ansible_user: "root",
    ansible_ssh_private_key_file: lab.keyFile,
    ansible_ssh_common_args: `-o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes`,
    ...(node.ssdDevice ? { ssd_storage_device: node.ssdDevice } : {}),
    ...(hostVars[node.name] ?? {}),
  });
  const inventory = {
    all: {
      vars: {
        base_os_timezone: "Asia/Tokyo",
        base_os_hosts_domain: "lab",
        // Nothing manages the lab nodes' network (the lab sets the address from outside):
        // systemd-networkd, shipped with systemd, takes over.
        static_ip_stack: "networkd",
        static_ip_confirm_timeout: 60,
        // An admin user that logs in with the lab's own key and may sudo.
        base_os_admin_user: "clusteradmin",
        base_os_admin_ssh_keys: [readFileSync(`${lab.keyFile}.pub`, "utf8").trim()],
        // Containers load no kernel modules and the lab has no Kubernetes API: the longhorn
        // role skips those parts and says so (test/lab/longhorn.suite.ts tests the rest).
        longhorn_preflight_kernel: false,
        longhorn_cluster_steps: false,
        ...allVars,
      },
      children: {
        cluster: { hosts: Object.fromEntries(lab.nodes.map((n) => [n.name, host(n)])) },
        ssd: { hosts: Object.fromEntries(lab.nodes.filter((n) => n.ssdDevice).map((n) => [n.name, null])) },
      },
    },
  };
  const file = join(w().dir, `${name}.yml`);
  writeFileSync(file, stringify(inventory, { nullStr: "" }));
  return file;
}

/** The inventory of the converged cluster: every node at its static address. */
function convergedInventory(name = "converged", hostVars: Record<string, Record<string, unknown>> = {}): string {
  const { plain, ssdNode, pi, plainStatic } = w();
  return writeInventory(name, {
    [plain.name]: { static_ip_address: `${plainStatic}/24`, ...(hostVars[plain.name] ?? {}) },
    [ssdNode.name]: { static_ip_address: `${ssdNode.address}/24`, ...(hostVars[ssdNode.name] ?? {}) },
    // systemd-networkd cannot run under qemu-user ("Could not setup manager: Protocol not
    // supported"): the arm64 Pi uses the ifupdown stack (file + ip), a second stack tested.
    [pi.name]: { static_ip_address: `${pi.address}/24`, static_ip_stack: "ifupdown", base_os_poe_fan_temps: [60000, 65000, 70000, 75000], ...(hostVars[pi.name] ?? {}) },
  });
}

/** Runs the real CLI; resolves with its exit code, output, duration and --json report. */
function play(inventory: string, ...args: string[]): Promise<PlayOutcome> {
  const json = join(w().dir, `report-${Date.now()}.json`);
  // longhorn included: in a container it leaves iscsid.service disabled (enabled, it held the
  // rebooted container's boot at sysinit: "can not create NETLINK_ISCSI socket"), so the
  // reboot test below also proves a storage node with open-iscsi boots (test/lab/reset.suite.ts too).
  const argv = ["--import", "tsx", "scripts/play.ts", "-i", inventory, SITE, "--json", json, ...args];
  const started = Date.now();
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, argv, { cwd: repo, env: { ...process.env, CI: "true", NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGINT"), PLAY_TIMEOUT_MS);
    child.on("close", (code) => {
      clearTimeout(timer);
      let report: JsonReport | undefined;
      if (existsSync(json)) {
        try {
          report = JSON.parse(readFileSync(json, "utf8")) as JsonReport;
        } catch {
          report = undefined;
        }
      }
      const seconds = (Date.now() - started) / 1000;
      process.stderr.write(`# play ${args.join(" ") || "(full)"} -> exit ${code} in ${seconds.toFixed(1)} s\n`);
      resolvePromise({ code, stdout, stderr, seconds, report });
    });
  });
}

function transcript(outcome: PlayOutcome): string {
  const tail = (s: string) => s.split("\n").slice(-80).join("\n");
  return `exit ${outcome.code}\n--- stdout (tail) ---\n${tail(outcome.stdout)}\n--- stderr (tail) ---\n${tail(outcome.stderr)}`;
}

/** "host: task" for every task result that reported a change. */
function changedTasks(report: JsonReport | undefined): string[] {
  if (!report) return [];
  return report.plays.flatMap((p) =>
    p.tasks.flatMap((t) => Object.entries(t.hosts).filter(([, r]) => r.changed).map(([h]) => `${h}: ${t.task.name}`)),
  );
}

/** The result of the task called `name` on `host` (the last one when it ran several times). */
function taskResult(report: JsonReport | undefined, name: string, host: string): { changed?: boolean; failed?: boolean; skipped?: boolean; msg?: string } | undefined {
  const results = (report?.plays ?? []).flatMap((p) => p.tasks.filter((t) => t.task.name.replace(/^[\w-]+ : /, "") === name).map((t) => t.hosts[host]).filter(Boolean));
  return results[results.length - 1];
}

function taskNames(report: JsonReport | undefined): string[] {
  return report ? report.plays.flatMap((p) => p.tasks.map((t) => t.task.name)) : [];
}

/** How many times the node's container was restarted by an in-node reboot (supervisor log). */
function rebootCount(node: SuiteNode): number {
  const log = join(node.dir, "supervisor.log");
  if (!existsSync(log)) return 0;
  return readFileSync(log, "utf8").split("\n").filter((l) => l.includes("nspawn exited 133")).length;
}

/** Checksums of everything the roles may write, plus state a change would show in. */
function fingerprint(node: SuiteNode): string {
  const files = [
    "/etc/hosts",
    "/etc/hostname",
    "/etc/fstab",
    "/etc/timezone",
    CMDLINE,
    "/boot/firmware/config.txt",
    DROPIN,
    "/etc/sysctl.d/90-pi-cluster.conf",
    "/etc/modules-load.d/pi-cluster.conf",
    "/etc/systemd/network/10-pi-cluster-eth0.network",
    "/etc/network/interfaces.d/pi-cluster-eth0",
  ];
  const script = [
    `for f in ${files.join(" ")}; do if [ -e "$f" ]; then sha1sum "$f"; else echo "absent $f"; fi; done`,
    "echo localtime=$(readlink -f /etc/localtime)",
    "echo addrs=$(ip -o -4 addr show dev eth0 | awk '{ print $4 }')",
    "echo networkd=$(systemctl is-enabled systemd-networkd 2>&1)",
    "echo packages=$(dpkg-query -W -f '${Package} ${Version}\\n' | sha1sum)",
    "echo boot=$(cat /proc/sys/kernel/random/boot_id)",
    "ls -d /var/lib/pi-cluster 2>&1",
    node.ssdDevice ? `lsblk -n -r -o NAME,FSTYPE,LABEL,MOUNTPOINT ${node.ssdDevice}` : "true",
  ].join("\n");
  return sshOk(node, script);
}

describe("roles: base-os, ntp, static-ip, ssd-storage through playbooks/site.yml", { skip: labSkip(), concurrency: false }, () => {
  before(async () => {
    const lab = labForSuites();
    const plain = lab.nodes.find((n) => !n.pi && !n.ssdDevice);
    const ssdNode = lab.nodes.find((n) => !n.pi && n.ssdDevice);
    const pi = lab.nodes.find((n) => n.pi && n.ssdDevice);
    assert.ok(plain && ssdNode && pi, `the lab must have a plain node, an amd64 SSD node and a Pi with an SSD; it has ${JSON.stringify(lab.nodes.map((n) => n.name))}`);
    const dir = mkdtempSync(join(tmpdir(), "roles-suite-"));
    const plainStatic = `${lab.subnet}.61`;
    const rollbackAddress = `${lab.subnet}.52`;
    // Our own known_hosts: the lab's, plus the same host keys at the addresses the tests move
    // nodes to (a switched node is the same machine, with the same keys).
    const knownHosts = join(dir, "known_hosts");
    const lines = readFileSync(lab.knownHostsFile, "utf8").split("\n").filter(Boolean);
    const extra: string[] = [];
    for (const [node, address] of [[plain, plainStatic], [ssdNode, rollbackAddress]] as const) {
      for (const line of lines) {
        const [names, ...key] = line.split(" ");
        if (names.split(",").includes(node.address)) extra.push(`${address} ${key.join(" ")}`);
      }
    }
    writeFileSync(knownHosts, [...lines, ...extra].join("\n") + "\n");
    // The lab is shared: another suite may have left something on the SSDs. These tests start
    // from blank disks (the role itself would rightly refuse a used one).
    for (const node of [ssdNode, pi]) {
      const disk = node.ssdDevice!;
      const reset = [
        `for m in $(lsblk -n -r -o MOUNTPOINT ${disk} | grep .); do umount "$m" && sed -i "\\| $m |d" /etc/fstab; done`,
        `for p in $(lsblk -n -r -o PATH,TYPE ${disk} | awk '$2 == "part" { print $1 }'); do wipefs -q -a "$p"; done`,
        `wipefs -q -a ${disk}`,
        `partx -d ${disk} 2>/dev/null; true`,
      ].join("\n");
      const r = await currentLab().ssh(node.name, reset);
      assert.equal(r.rc, 0, `${node.name}: could not blank ${disk}: ${r.stderr}`);
    }
    world = { lab, dir, knownHosts, plain, ssdNode, pi, address: new Map(lab.nodes.map((n) => [n.name, n.address])), plainStatic, rollbackAddress };
  });

  after(() => {
    if (world) rmSync(world.dir, { recursive: true, force: true });
  });

  test("--check --diff on the fresh nodes prints the changes and leaves every node untouched", async () => {
    const { lab, pi } = w();
    const before = new Map(lab.nodes.map((n) => [n.name, fingerprint(n)]));
    const outcome = await play(convergedInventory("check"), "--check", "--diff");
    assert.ok(outcome.code === 0, `check mode run failed\n${transcript(outcome)}`);
    // The diff of the Pi's kernel command line and of the new timesyncd drop-in are shown.
    assert.match(outcome.stdout, /\+.*cgroup_memory=1 cgroup_enable=memory cgroup_enable=cpuset/, `no cmdline.txt diff\n${transcript(outcome)}`);
    assert.match(outcome.stdout, /\+NTP=ntp\.nict\.jp/, `no timesyncd drop-in diff\n${transcript(outcome)}`);
    assert.ok(changedTasks(outcome.report).some((t) => t.startsWith(`${pi.name}:`)), "check mode reported no change for the fresh Pi");
    for (const node of lab.nodes) {
      assert.equal(fingerprint(node), before.get(node.name), `${node.name} changed in check mode`);
    }
  });

  test("--tags ntp runs only the ntp role", async () => {
    const { lab } = w();
    const sysctlBefore = new Map(lab.nodes.map((n) => [n.name, ssh(n, "cat /etc/hosts; ls /etc/sysctl.d").stdout]));
    const outcome = await play(convergedInventory("tags"), "--tags", "ntp");
    assert.equal(outcome.code, 0, `--tags ntp failed\n${transcript(outcome)}`);
    // The JSON report names role tasks "<role> : <task>", as Ansible's json callback does.
    const ran = taskNames(outcome.report).filter((name) => name !== "Gathering Facts");
    assert.ok(ran.length > 0, `no task ran\n${transcript(outcome)}`);
    for (const name of ran) assert.match(name, /^ntp : /, `task "${name}" is not from the ntp role`);
    for (const node of lab.nodes) {
      assert.match(sshOk(node, `cat ${DROPIN}`), /^NTP=ntp\.nict\.jp$/m, `${node.name}: no drop-in after --tags ntp`);
      assert.equal(ssh(node, "cat /etc/hosts; ls /etc/sysctl.d").stdout, sysctlBefore.get(node.name), `${node.name}: another role ran`);
    }
  });

  test("site.yml converges: every role's result is on the nodes", async () => {
    const { lab, plain, ssdNode, pi, plainStatic } = w();
    const piBoot = sshOk(pi, "cat /proc/sys/kernel/random/boot_id").trim();
    const piReboots = rebootCount(pi);
    const outcome = await play(convergedInventory("converge"));
    process.stderr.write(`# converge: ${outcome.seconds.toFixed(1)} s\n`);
    // Where the plain node answers decides where later tests talk to it (even if this fails).
    const moved = await waitForSsh(plain, plainStatic, 10);
    if (moved) w().address.set(plain.name, plainStatic);
    assert.equal(outcome.code, 0, `site.yml did not converge\n${transcript(outcome)}`);
    // The plain node now answers at its static address only.
    assert.ok(moved, `${plain.name} does not answer at ${plainStatic}`);
    const addrs = sshOk(plain, "ip -o -4 addr show dev eth0 | awk '{ print $4 }'").trim().split("\n");
    assert.deepEqual(addrs, [`${plainStatic}/24`], `${plain.name} addresses`);
    assert.match(sshOk(plain, "cat /etc/systemd/network/10-pi-cluster-eth0.network"), new RegExp(`^Address=${plainStatic.replaceAll(".", "\\.")}/24$`, "m"));
    assert.equal(sshOk(plain, "systemctl is-active pi-cluster-ip-rollback.timer || true").trim(), "inactive", "the rollback timer was not cancelled");
    for (const node of lab.nodes) {
      // ntp: the drop-in, the unit enabled (in a container it cannot run: ConditionVirtualization).
      assert.equal(
        sshOk(node, `cat ${DROPIN}`),
        "# Managed by the ntp role (pi-cluster-runner): edits are overwritten.\n[Time]\nNTP=ntp.nict.jp\nFallbackNTP=0.debian.pool.ntp.org 1.debian.pool.ntp.org\nPollIntervalMinSec=32\nPollIntervalMaxSec=2048\n",
      );
      assert.equal(sshOk(node, "systemctl is-enabled systemd-timesyncd").trim(), "enabled");
      const state = sshOk(node, "systemctl show -p ActiveState -p ConditionResult systemd-timesyncd");
      assert.ok(/ActiveState=active/.test(state) || /ConditionResult=no/.test(state), `${node.name}: timesyncd neither active nor skipped by its condition: ${state}`);
      // base-os: /etc/hosts lists every node at its static address, sysctl, modules, tz.
      const hosts = sshOk(node, "cat /etc/hosts");
      for (const other of lab.nodes) {
        const address = other === plain ? plainStatic : other.address;
        assert.match(hosts, new RegExp(`^${address.replaceAll(".", "\\.")}\\s+${other.name}\\.lab ${other.name}$`, "m"), `${node.name}: /etc/hosts lacks ${other.name}`);
      }
      assert.match(sshOk(node, "cat /etc/sysctl.d/90-pi-cluster.conf"), /net\.ipv4\.ip_forward\s*=\s*1/);
      assert.equal(sshOk(node, "cat /proc/sys/net/ipv4/ip_forward").trim(), "1");
      assert.match(sshOk(node, "cat /etc/modules-load.d/pi-cluster.conf"), /^br_netfilter\noverlay$/m);
      assert.equal(sshOk(node, "readlink -f /etc/localtime").trim(), "/usr/share/zoneinfo/Asia/Tokyo");
      assert.equal(sshOk(node, "hostname").trim(), node.name);
    }
    // Pi: cmdline.txt has each token once, on one line; rebooted exactly once and back.
    const cmdline = sshOk(pi, `cat ${CMDLINE}`);
    assert.equal(cmdline.split("\n").length, 2, `cmdline.txt is not one line: ${JSON.stringify(cmdline)}`);
    for (const token of TOKENS) assert.equal(cmdline.split(/\s+/).filter((t) => t === token).length, 1, `${token} in ${cmdline}`);
    assert.equal(rebootCount(pi) - piReboots, 1, "the Pi should have rebooted exactly once");
    assert.notEqual(sshOk(pi, "cat /proc/sys/kernel/random/boot_id").trim(), piBoot, "the Pi's boot id did not change");
    const verify = taskResult(outcome.report, "Verify that memory cgroups are enabled", pi.name);
    assert.ok(verify && !verify.failed && !verify.skipped, `the cgroup check after the reboot did not pass: ${JSON.stringify(verify)}`);
    // The Pi's PoE HAT fan thresholds, in config.txt's [all] section.
    const config = sshOk(pi, "cat /boot/firmware/config.txt");
    const all = config.slice(config.lastIndexOf("[all]"));
    for (const [i, t] of [60000, 65000, 70000, 75000].entries()) {
      assert.equal(config.split("\n").filter((l) => l.startsWith(`dtparam=poe_fan_temp${i}=`)).length, 1, `poe_fan_temp${i} once`);
      assert.match(all, new RegExp(`^dtparam=poe_fan_temp${i}=${t}$`, "m"));
    }
    // The admin user logs in with its key and may sudo without a password (setuid sudo cannot
    // work under qemu-user: on arm64 nodes root checks the rule instead).
    for (const node of lab.nodes) {
      const command = node.arch === "arm64" ? "id -nG" : "sudo -n true && id -nG";
      const r = spawnSync("ssh", ["-i", w().lab.keyFile, "-o", `UserKnownHostsFile=${w().knownHosts}`, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", `clusteradmin@${w().address.get(node.name)}`, command], { encoding: "utf8", timeout: 30_000 });
      assert.equal(r.status, 0, `${node.name}: clusteradmin cannot log in or sudo: ${r.stderr}`);
      assert.match(r.stdout, /\bsudo\b/);
      if (node.arch === "arm64") assert.match(sshOk(node, "sudo -n -l -U clusteradmin"), /NOPASSWD: ALL/);
    }
    // The Pi's address is in ifupdown's file (networkd cannot run under qemu-user).
    assert.match(sshOk(pi, "cat /etc/network/interfaces.d/pi-cluster-eth0"), new RegExp(`^iface eth0 inet static\n    address ${pi.address.replaceAll(".", "\\.")}/24$`, "m"));
    // Non-Pi nodes: no reboot.
    for (const node of [plain, ssdNode]) assert.equal(ssh(node, `test -e ${CMDLINE}`).rc, 1);
    // SSD nodes: GPT, one ext4 partition with our label, in fstab by UUID, mounted.
    for (const node of [ssdNode, pi]) {
      const part = `${node.ssdDevice}p1`;
      const uuid = sshOk(node, `blkid -p -s UUID -o value ${part}`).trim();
      assert.match(uuid, /^[0-9a-f-]{36}$/);
      assert.equal(sshOk(node, `blkid -p -s PTTYPE -o value ${node.ssdDevice}`).trim(), "gpt");
      assert.equal(sshOk(node, `blkid -p -s LABEL -o value ${part}`).trim(), "pi-cluster-ssd");
      assert.match(sshOk(node, "cat /etc/fstab"), new RegExp(`^UUID=${uuid}\\s+/var/lib/longhorn\\s+ext4\\s+defaults,nofail,noatime\\s`, "m"));
      assert.equal(sshOk(node, "findmnt -n -o SOURCE,FSTYPE /var/lib/longhorn").trim().split(/\s+/).join(" "), `${part} ext4`);
    }
  });

  test("a second run of site.yml changes nothing on any host", async () => {
    const { lab, pi } = w();
    const piReboots = rebootCount(pi);
    const outcome = await play(convergedInventory("again"));
    process.stderr.write(`# no-op re-run: ${outcome.seconds.toFixed(1)} s\n`);
    assert.equal(outcome.code, 0, `second run failed\n${transcript(outcome)}`);
    assert.ok(outcome.report, "no --json report");
    const changed = changedTasks(outcome.report);
    assert.deepEqual(changed, [], `tasks changed on the second run:\n${changed.join("\n")}`);
    for (const node of lab.nodes) {
      assert.equal(outcome.report.stats[node.name]?.changed, 0, `${node.name} changed=${outcome.report.stats[node.name]?.changed}`);
    }
    assert.match(outcome.stdout, /changed=0/);
    assert.equal(rebootCount(pi), piReboots, "the Pi rebooted again");
  });

  test("the SSD stays mounted by UUID after a reboot", async () => {
    const { ssdNode } = w();
    const before = rebootCount(ssdNode);
    await currentLab().reboot(ssdNode.name, 180_000);
    assert.equal(rebootCount(ssdNode), before + 1, "the node did not reboot");
    assert.ok(await waitForSsh(ssdNode, w().address.get(ssdNode.name)!, 180, "findmnt /var/lib/longhorn"), `${ssdNode.name} did not come back with the SSD mounted`);
    const part = `${ssdNode.ssdDevice}p1`;
    assert.equal(sshOk(ssdNode, "findmnt -n -o SOURCE,FSTYPE /var/lib/longhorn").trim().split(/\s+/).join(" "), `${part} ext4`);
    // The static address (networkd now owns it) came back too.
    assert.match(sshOk(ssdNode, "ip -o -4 addr show dev eth0"), new RegExp(` ${ssdNode.address.replaceAll(".", "\\.")}/24 `));
  });

  test("a disk with someone's filesystem is refused and the data on it survives", async () => {
    const { ssdNode } = w();
    const disk = ssdNode.ssdDevice!;
    // Make the disk "someone else's": no partition table, an ext4 with a user's label and a file.
    sshOk(
      ssdNode,
      [
        "set -e",
        "umount /var/lib/longhorn",
        "sed -i '\\| /var/lib/longhorn |d' /etc/fstab",
        `wipefs -q -a ${disk}p1`,
        `wipefs -q -a ${disk}`,
        `partx -d ${disk} 2>/dev/null || true`,
        `mkfs.ext4 -q -F -L userdata ${disk}`,
        "mkdir -p /mnt/userdata",
        `mount ${disk} /mnt/userdata`,
        "echo precious > /mnt/userdata/keep.txt",
        "sha1sum /mnt/userdata/keep.txt > /root/keep.sha1",
        "umount /mnt/userdata",
      ].join("\n"),
    );
    const outcome = await play(convergedInventory("refuse"), "--tags", "ssd-storage", "--limit", ssdNode.name);
    assert.equal(outcome.code, 2, `the run should fail the host\n${transcript(outcome)}`);
    const output = outcome.stdout + outcome.stderr;
    assert.match(output, /Refusing to touch/, transcript(outcome));
    assert.match(output, /whole-disk signature ext4/, transcript(outcome));
    assert.match(output, /ssd_storage_wipe: true/, transcript(outcome));
    // Untouched: still the user's filesystem, and the file is intact.
    assert.equal(sshOk(ssdNode, `blkid -p -s LABEL -o value ${disk}`).trim(), "userdata");
    sshOk(ssdNode, `mount ${disk} /mnt/userdata && sha1sum -c /root/keep.sha1 && umount /mnt/userdata`);
  });

  test("a switch whose confirmation is withheld is rolled back by the node", async () => {
    const { ssdNode, rollbackAddress } = w();
    const old = ssdNode.address;
    const inventory = convergedInventory("rollback", {
      [ssdNode.name]: { static_ip_address: `${rollbackAddress}/24`, static_ip_confirm: false, static_ip_confirm_timeout: 20 },
    });
    const fileBefore = sshOk(ssdNode, "cat /etc/systemd/network/10-pi-cluster-eth0.network");
    const outcome = await play(inventory, "--tags", "static-ip", "--limit", ssdNode.name);
    assert.equal(outcome.code, 2, `the withheld confirmation must fail the host\n${transcript(outcome)}`);
    assert.match(outcome.stdout + outcome.stderr, new RegExp(`confirmation withheld .*restores ${old.replaceAll(".", "\\.")}/24 within 20 s`), transcript(outcome));
    // Within the timeout (plus slack) the node is back at its old address, the new one gone.
    const back = await waitForSsh(ssdNode, old, 60, `ip -o -4 addr show dev eth0 | grep -q ' ${old}/24 ' && ! ip -o -4 addr show dev eth0 | grep -q ' ${rollbackAddress}/'`);
    assert.ok(back, `${ssdNode.name} did not return to ${old}`);
    assert.equal(sshOk(ssdNode, "cat /etc/systemd/network/10-pi-cluster-eth0.network"), fileBefore, "the old configuration file was not restored");
    assert.match(sshOk(ssdNode, "cat /var/lib/pi-cluster/static-ip/rollback.log"), /no confirmation: restoring/);
    assert.notEqual(ssh(ssdNode, "true", rollbackAddress, 10_000).rc, 0, `${rollbackAddress} still answers`);
  });

  test("ssd_storage_wipe: true on that host prepares the refused disk again", async () => {
    const { ssdNode } = w();
    const disk = ssdNode.ssdDevice!;
    const outcome = await play(convergedInventory("wipe", { [ssdNode.name]: { ssd_storage_wipe: true } }), "--tags", "ssd-storage", "--limit", ssdNode.name);
    assert.equal(outcome.code, 0, `wipe run failed\n${transcript(outcome)}`);
    assert.equal(sshOk(ssdNode, `blkid -p -s PTTYPE -o value ${disk}`).trim(), "gpt");
    assert.equal(sshOk(ssdNode, `blkid -p -s LABEL -o value ${disk}p1`).trim(), "pi-cluster-ssd");
    assert.equal(sshOk(ssdNode, "findmnt -n -o SOURCE /var/lib/longhorn").trim(), `${disk}p1`);
    // And without the wipe flag the prepared disk is recognised as ours: no change.
    const again = await play(convergedInventory("wipe-again"), "--tags", "ssd-storage", "--limit", ssdNode.name);
    assert.equal(again.code, 0, transcript(again));
    assert.deepEqual(changedTasks(again.report), []);
  });

  // Leaves the lab as other suites expect it: every node at its lab address.
  test("the plain node switches back to its lab address (a second confirmed switch)", async () => {
    const { plain } = w();
    const outcome = await play(convergedInventory("switch-back", { [plain.name]: { static_ip_address: `${plain.address}/24` } }), "--tags", "static-ip", "--limit", plain.name);
    assert.equal(outcome.code, 0, `switch back failed\n${transcript(outcome)}`);
    w().address.set(plain.name, plain.address);
    assert.deepEqual(sshOk(plain, "ip -o -4 addr show dev eth0 | awk '{ print $4 }'").trim().split("\n"), [`${plain.address}/24`]);
    assert.equal((await currentLab().ssh(plain.name, "hostname")).stdout.trim(), plain.name);
  });

  // Last: the server node keeps chrony (which replaces systemd-timesyncd on Debian).
  test("ntp_serve_clients: one node is configured to serve the lab's subnet with chrony, the others ask it first", async () => {
    const { lab, plain, ssdNode, pi } = w();
    const serve = JSON.stringify({ ntp_serve_clients: true, ntp_server_host: ssdNode.name, ntp_allow: [`${lab.subnet}.0/24`] });
    const inventory = convergedInventory("ntp-serve", { [plain.name]: { static_ip_address: `${plain.address}/24` } });
    const outcome = await play(inventory, "--tags", "ntp", "-e", serve);
    assert.equal(outcome.code, 0, `ntp with a time server failed\n${transcript(outcome)}`);
    const conf = sshOk(ssdNode, "cat /etc/chrony/conf.d/pi-cluster.conf");
    assert.match(conf, /^server ntp\.nict\.jp iburst$/m);
    assert.match(conf, new RegExp(`^allow ${lab.subnet.replaceAll(".", "\\.")}\\.0/24$`, "m"));
    assert.equal(sshOk(ssdNode, "systemctl is-enabled chrony").trim(), "enabled");
    // Debian's chrony unit needs CAP_SYS_TIME (ConditionCapability), which a container lacks:
    // on a Pi it runs; here it must at least have been tried and skipped by that condition.
    const state = sshOk(ssdNode, "systemctl show -p ActiveState -p ConditionResult chrony");
    assert.ok(/ActiveState=active/.test(state) || /ConditionResult=no/.test(state), `chrony neither active nor skipped by its condition: ${state}`);
    for (const node of [plain, pi]) {
      assert.match(sshOk(node, `cat ${DROPIN}`), new RegExp(`^NTP=${ssdNode.address.replaceAll(".", "\\.")} ntp\\.nict\\.jp$`, "m"), `${node.name} does not ask the server first`);
    }
    const again = await play(inventory, "--tags", "ntp", "-e", serve);
    assert.equal(again.code, 0, transcript(again));
    assert.deepEqual(changedTasks(again.report), [], "a second run with a time server changed something");
    // A server without subnets to serve is refused with what to set.
    const noAllow = await play(inventory, "--tags", "ntp", "--limit", ssdNode.name, "-e", JSON.stringify({ ntp_serve_clients: true, ntp_server_host: ssdNode.name }));
    assert.equal(noAllow.code, 2, transcript(noAllow));
    assert.match(noAllow.stdout, /ntp_allow is empty/);
  });
});
