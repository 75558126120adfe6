/**
 * The system modules for real, over SSH (the project's SshTransport), against the lab's nodes:
 * every module applied twice (first changed, then ok), check mode changing nothing, the
 * SSD flow (parted + filesystem + mount by UUID) and the refusals that protect data.
 *
 * Runs between lab.suite.ts and roles.suite.ts on the SAME nodes, so every test puts back
 * what it changed (hostname, time zone, cmdline.txt/config.txt, sysctl, users, mounts). The
 * SSD node's disk is left as lab.suite.ts leaves it: gpt, one ext4 partition mounted by UUID
 * on /mnt/ssd (nofail) holding the file `owner` (with a new UUID: the disk is re-made here).
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { currentLab, labSkip, type Lab, type LabNode } from "../support/lab.ts";
import { runModule, sshTransport, type ModuleRun } from "../support/run-module.ts";
import { gatherFacts } from "../../scripts/lib/facts/gather.ts";
import type { Transport } from "../../scripts/lib/transport/types.ts";

let lab: Lab;
const transports = new Map<string, Transport>();

function t(node: LabNode): Transport {
  let tr = transports.get(node.name);
  if (!tr) {
    tr = sshTransport(node.name, node.address, lab.keyFile, lab.knownHostsFile);
    transports.set(node.name, tr);
  }
  return tr;
}

async function sh(node: LabNode, command: string): Promise<string> {
  const r = await lab.ssh(node, command);
  assert.equal(r.rc, 0, `${node.name}: ${command}\n${r.stderr}`);
  return r.stdout;
}

function show(r: ModuleRun): string {
  return JSON.stringify({ changed: r.changed, failed: r.failed, skipped: r.skipped, reason: r.reason, msg: r.msg, warnings: r.warnings });
}

/** Check mode says changed and changes nothing; apply changes; apply again is ok. */
async function twice(node: LabNode, module: string, args: Record<string, unknown>, fingerprint?: string): Promise<[ModuleRun, ModuleRun]> {
  const before = fingerprint ? await sh(node, fingerprint) : undefined;
  const check = await runModule(t(node), module, args, { check: true });
  assert.ok(!check.failed && check.changed, `${module} check mode: ${show(check)}`);
  if (fingerprint) assert.equal(await sh(node, fingerprint), before, `${module}: check mode changed the node`);
  const first = await runModule(t(node), module, args);
  assert.ok(!first.failed && first.changed, `${module} first run: ${show(first)}`);
  const second = await runModule(t(node), module, args);
  assert.ok(!second.failed && !second.changed, `${module} second run: ${show(second)}`);
  assert.ok(second.reason, `${module}: a no-op has a reason`);
  process.stderr.write(`# ${module} on ${node.name}: apply ${first.elapsedMs} ms (${first.commands} round trips), no-op ${second.elapsedMs} ms (${second.commands} round trip${second.commands === 1 ? "" : "s"})\n`);
  return [first, second];
}

async function ok(node: LabNode, module: string, args: Record<string, unknown>): Promise<ModuleRun> {
  const r = await runModule(t(node), module, args);
  assert.ok(!r.failed, `${module}: ${show(r)}`);
  return r;
}

describe("system modules over SSH in the lab", { skip: labSkip(), concurrency: false }, () => {
  let plain: LabNode;
  let ssdNode: LabNode;
  let pi: LabNode;

  before(() => {
    lab = currentLab();
    plain = lab.nodes.find((n) => !n.pi && !n.ssdDevice)!;
    ssdNode = lab.nodes.find((n) => !n.pi && n.ssdDevice)!;
    pi = lab.nodes.find((n) => n.pi)!;
    assert.ok(plain && ssdNode && pi, "the standard lab: a plain node, an amd64 SSD node, a Pi");
  });

  after(async () => {
    for (const tr of transports.values()) await tr.close().catch(() => {});
    transports.clear();
  });

  test("facts: one round trip, Pi identity on the Pi, none on the plain node", async () => {
    const started = Date.now();
    const piFacts = await gatherFacts((c) => t(pi).exec(c));
    const ms = Date.now() - started;
    const plainFacts = await gatherFacts((c) => t(plain).exec(c));
    process.stderr.write(`# facts: gathered on ${pi.name} (arm64/qemu) in ${ms} ms\n`);
    assert.equal(piFacts.architecture, "aarch64");
    assert.equal(plainFacts.architecture, "x86_64");
    for (const f of [piFacts, plainFacts]) {
      assert.equal(f.distribution, "Debian");
      assert.equal(f.distribution_release, "bookworm");
      assert.equal(f.os_family, "Debian");
      assert.equal(f.service_mgr, "systemd");
      assert.match(String(f.machine_id), /^[0-9a-f]{32}$/);
      assert.ok((f.memtotal_mb as number) > 0);
    }
    const piId = piFacts.pi as { is_pi: boolean; model: string; serial: string };
    assert.equal(piId.is_pi, true);
    assert.match(piId.model, /^Raspberry Pi/);
    assert.match(piId.serial, /^[0-9a-f]{8}$/);
    assert.equal(piFacts.boot_firmware_dir, "/boot/firmware");
    assert.equal((plainFacts.pi as { is_pi: boolean }).is_pi, false);
    assert.ok((piFacts.all_ipv4_addresses as string[]).includes(pi.address));
    assert.equal(piFacts.hostname, (await sh(pi, "hostname")).trim());
  });

  test("hostname, then put back", async () => {
    const original = (await sh(plain, "hostname")).trim();
    try {
      await twice(plain, "hostname", { name: `${original}-mt` }, "hostname; cat /etc/hostname");
      assert.equal((await sh(plain, "hostname; cat /etc/hostname")).trim(), `${original}-mt\n${original}-mt`);
    } finally {
      await ok(plain, "hostname", { name: original });
    }
    assert.equal((await sh(plain, "hostname")).trim(), original);
  });

  test("timezone, then put back", async (ctx) => {
    if ((await lab.ssh(plain, "test -f /usr/share/zoneinfo/Asia/Tokyo")).rc !== 0) return ctx.skip("no tzdata on the node");
    const original = (await sh(plain, "readlink /etc/localtime")).trim().replace(/^.*zoneinfo\//, "") || "Etc/UTC";
    try {
      await twice(plain, "timezone", { name: "Asia/Tokyo" }, "readlink /etc/localtime");
      assert.match(await sh(plain, "readlink /etc/localtime"), /Asia\/Tokyo/);
    } finally {
      await ok(plain, "timezone", { name: original });
    }
  });

  test("group, user, authorized_key; then absent twice", async () => {
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMODTESTMODTESTMODTESTMODTESTMODTESTMODTEST mt@lab";
    try {
      await twice(plain, "group", { name: "mtgroup", gid: 2345 }, "getent group mtgroup || true");
      await twice(plain, "user", { name: "mtuser", groups: ["mtgroup"], shell: "/bin/bash", password: "$6$salt$abcdefghijkl" }, "getent passwd mtuser || true");
      assert.match(await sh(plain, "id -Gn mtuser"), /\bmtgroup\b/);
      assert.equal((await sh(plain, "getent shadow mtuser | cut -d: -f2")).trim(), "$6$salt$abcdefghijkl");
      await twice(plain, "authorized_key", { user: "mtuser", key }, "cat ~mtuser/.ssh/authorized_keys 2>/dev/null || true");
      assert.equal((await sh(plain, "stat -c '%a %U' ~mtuser/.ssh ~mtuser/.ssh/authorized_keys")).trim(), "700 mtuser\n600 mtuser");
      assert.equal(await sh(plain, "cat ~mtuser/.ssh/authorized_keys"), `${key}\n`);
    } finally {
      const gone = await ok(plain, "user", { name: "mtuser", state: "absent", remove: true });
      const again = await ok(plain, "user", { name: "mtuser", state: "absent", remove: true });
      assert.ok(gone.changed && !again.changed);
      await ok(plain, "group", { name: "mtgroup", state: "absent" });
    }
    assert.equal((await lab.ssh(plain, "getent passwd mtuser")).rc, 2);
  });

  test("sysctl in its own file and live; then absent", async () => {
    const live = (await sh(plain, "sysctl -n net.ipv4.tcp_keepalive_time")).trim();
    const want = live === "600" ? "700" : "600";
    const file = "/etc/sysctl.d/99-modtest.conf";
    try {
      await twice(plain, "sysctl", { name: "net.ipv4.tcp_keepalive_time", value: want, sysctl_file: file, sysctl_set: true }, `cat ${file} 2>/dev/null; sysctl -n net.ipv4.tcp_keepalive_time`);
      assert.equal((await sh(plain, "sysctl -n net.ipv4.tcp_keepalive_time")).trim(), want);
      assert.equal(await sh(plain, `cat ${file}`), `net.ipv4.tcp_keepalive_time=${want}\n`);
      const removed = await ok(plain, "sysctl", { name: "net.ipv4.tcp_keepalive_time", state: "absent", sysctl_file: file, reload: false });
      assert.ok(removed.changed);
    } finally {
      await sh(plain, `rm -f ${file}; sysctl -q -w net.ipv4.tcp_keepalive_time=${live}`);
    }
  });

  test("modprobe: built-in overlay counts as present; persistence written and removed", async () => {
    const r = await ok(plain, "modprobe", { name: "overlay" });
    assert.equal(r.changed, false, show(r));
    try {
      await twice(plain, "modprobe", { name: "overlay", persistent: "present" }, "cat /etc/modules-load.d/overlay.conf 2>/dev/null || true");
    } finally {
      const removed = await ok(plain, "modprobe", { name: "overlay", persistent: "absent" });
      assert.ok(removed.changed);
    }
    // A module that is neither loadable here nor built in: a clear failure, not a false "ok".
    const missing = await runModule(t(plain), "modprobe", { name: "iscsi_tcp" });
    assert.ok(missing.failed && /no loadable modules|Cannot load kernel module/.test(missing.msg ?? ""), show(missing));
  });

  test("systemd and service on a unit of our own; then removed", async () => {
    await sh(plain, "printf '[Unit]\\nDescription=modtest\\n[Service]\\nExecStart=/bin/sleep infinity\\n[Install]\\nWantedBy=multi-user.target\\n' > /etc/systemd/system/modtest.service");
    try {
      await twice(plain, "systemd", { name: "modtest", state: "started", enabled: true, daemon_reload: true }, "systemctl is-active modtest || true");
      assert.equal((await sh(plain, "systemctl is-active modtest; systemctl is-enabled modtest")).trim(), "active\nenabled");
      await twice(plain, "service", { name: "modtest", state: "stopped", enabled: false });
      const unknown = await runModule(t(plain), "systemd", { name: "modtest-nosuch", state: "started" });
      assert.ok(unknown.failed && /Could not find the requested service modtest-nosuch/.test(unknown.msg ?? ""), show(unknown));
    } finally {
      await sh(plain, "systemctl disable --now modtest 2>/dev/null; rm -f /etc/systemd/system/modtest.service; systemctl daemon-reload");
    }
  });

  test("apt and package: install and remove a small package, twice each", { timeout: 300_000 }, async () => {
    await twice(plain, "apt", { name: ["tree"], update_cache: true, cache_valid_time: 3600 }, "dpkg-query -W -f='${Status}' tree 2>/dev/null || true");
    assert.match(await sh(plain, "dpkg-query -W -f='${Status}' tree"), /install ok installed/);
    await twice(plain, "package", { name: "tree", state: "absent" });
    assert.doesNotMatch((await lab.ssh(plain, "dpkg-query -W -f='${Status}' tree")).stdout, /ok installed/);
    const fresh = await ok(plain, "apt", { update_cache: true, cache_valid_time: 3600 });
    assert.equal(fresh.changed, false, show(fresh));
  });

  test("mount: a tmpfs in fstab and mounted; then absent", async () => {
    const args = { path: "/mnt/modtest", src: "tmpfs", fstype: "tmpfs", opts: "size=1m,nodev", state: "mounted" };
    const fstab = await sh(plain, "cat /etc/fstab");
    try {
      await twice(plain, "mount", args, "cat /etc/fstab; findmnt -n /mnt/modtest || true");
      assert.equal((await sh(plain, "findmnt -n -o FSTYPE /mnt/modtest")).trim(), "tmpfs");
      assert.equal(await sh(plain, "cat /etc/fstab"), `${fstab}tmpfs /mnt/modtest tmpfs size=1m,nodev 0 0\n`);
      await twice(plain, "mount", { path: "/mnt/modtest", state: "absent" });
      assert.equal(await sh(plain, "cat /etc/fstab"), fstab, "other fstab lines kept byte for byte");
    } finally {
      await lab.ssh(plain, "umount /mnt/modtest 2>/dev/null; rmdir /mnt/modtest 2>/dev/null; true");
    }
  });

  test("wait_for: a path and sshd's port, as seen from the node", async () => {
    const path = await ok(plain, "wait_for", { path: "/etc/hostname", timeout: 5 });
    assert.equal(path.changed, false);
    const port = await ok(plain, "wait_for", { port: 22, timeout: 5 });
    assert.equal(port.changed, false);
    const closed = await runModule(t(plain), "wait_for", { port: 1, timeout: 2 });
    assert.ok(closed.failed && /Timeout when waiting for 127\.0\.0\.1:1/.test(closed.msg ?? ""), show(closed));
  });

  test("rpi_cmdline and rpi_config on the Pi (then put back); skipped on a plain node", async () => {
    const cmdline = await sh(pi, "base64 -w0 /boot/firmware/cmdline.txt");
    const config = await sh(pi, "base64 -w0 /boot/firmware/config.txt");
    try {
      await twice(pi, "rpi_cmdline", { present: ["modtest_a=1", "modtest_b"] }, "cat /boot/firmware/cmdline.txt");
      const line = await sh(pi, "cat /boot/firmware/cmdline.txt");
      assert.equal(line.split("\n").length, 2, "still one line plus its newline");
      assert.match(line, / modtest_a=1 modtest_b\n$/);
      await twice(pi, "rpi_config", { section: "all", key: "dtparam", value: "poe_fan_temp0=50000" }, "cat /boot/firmware/config.txt");
      assert.match(await sh(pi, "cat /boot/firmware/config.txt"), /\[all\][^[]*dtparam=poe_fan_temp0=50000\n$/);
    } finally {
      await sh(pi, `echo ${cmdline} | base64 -d > /boot/firmware/cmdline.txt; echo ${config} | base64 -d > /boot/firmware/config.txt`);
    }
    const skipped = await runModule(t(plain), "rpi_cmdline", { present: ["a=1"] });
    assert.equal(skipped.skipped, "not a Raspberry Pi (no cmdline.txt)");
  });

  test("SSD: parted + filesystem + mount by UUID twice each; refusals keep the data", { timeout: 300_000 }, async () => {
    const disk = ssdNode.ssdDevice!;
    const part = `${disk}p1`;
    // lab.suite.ts may have left gpt + ext4 on p1 mounted on /mnt/ssd with a file `owner`:
    // remember the owner, then make the disk blank and build it again with the modules.
    const owner = (await lab.ssh(ssdNode, "cat /mnt/ssd/owner 2>/dev/null")).stdout.trim();
    await sh(ssdNode, `umount /mnt/ssd 2>/dev/null; sed -i '\\|[[:space:]]/mnt/ssd[[:space:]]|d' /etc/fstab; if [ -b ${part} ]; then wipefs -q -a ${part}; parted -s ${disk} rm 1; fi; wipefs -q -a ${disk}; udevadm settle; true`);
    assert.equal((await sh(ssdNode, `blkid -p ${disk} >/dev/null; echo $?`)).trim(), "2", "the disk is blank");

    const [made] = await twice(ssdNode, "parted", { device: disk, label: "gpt", number: 1, state: "present", fs_type: "ext4", part_start: "0%", part_end: "100%" }, `parted -s -m ${disk} unit B print 2>&1 || true`);
    assert.deepEqual(made.warnings, [], "the partition's device node appeared");
    assert.equal((await sh(ssdNode, `test -b ${part} && echo yes`)).trim(), "yes");
    const [fs] = await twice(ssdNode, "filesystem", { dev: part, fstype: "ext4" }, `blkid -p ${part} || true`);
    const uuid = String(fs.result.uuid ?? "");
    assert.match(uuid, /^[0-9a-f-]{36}$/, show(fs));
    await sh(ssdNode, "udevadm settle");
    await twice(ssdNode, "mount", { path: "/mnt/ssd", src: `UUID=${uuid}`, fstype: "ext4", opts: "defaults,nofail", passno: 2, state: "mounted" }, "cat /etc/fstab; findmnt -n /mnt/ssd || true");
    assert.equal((await sh(ssdNode, "findmnt -n -o SOURCE /mnt/ssd")).trim(), part);
    await sh(ssdNode, `echo ${owner || ssdNode.name} > /mnt/ssd/owner; echo precious > /mnt/ssd/modtest-keep`);

    // Refused: another filesystem over a mounted one; the whole disk (a partition table);
    // relabelling a disk that holds a partition; removing a mounted partition.
    const overMounted = await runModule(t(ssdNode), "filesystem", { dev: part, fstype: "xfs" });
    assert.ok(overMounted.failed && /Refusing to create xfs on .*mounted on \/mnt\/ssd/.test(overMounted.msg ?? ""), show(overMounted));
    const wholeDisk = await runModule(t(ssdNode), "filesystem", { dev: disk, fstype: "ext4" });
    assert.ok(wholeDisk.failed && /gpt partition table with 1 partition/.test(wholeDisk.msg ?? ""), show(wholeDisk));
    const relabel = await runModule(t(ssdNode), "parted", { device: disk, label: "msdos", number: 1, state: "present" });
    assert.ok(relabel.failed && /Refusing to change the partition table .* from gpt to msdos/.test(relabel.msg ?? ""), show(relabel));
    const removeMounted = await runModule(t(ssdNode), "parted", { device: disk, number: 1, state: "absent" });
    assert.ok(removeMounted.failed && /is mounted on \/mnt\/ssd/.test(removeMounted.msg ?? ""), show(removeMounted));
    // Unmounted, the ext4 is still refused without force, and the message says what was found.
    await sh(ssdNode, "umount /mnt/ssd");
    const noForce = await runModule(t(ssdNode), "filesystem", { dev: part, fstype: "xfs" });
    assert.ok(noForce.failed && new RegExp(`holds a ext4 signature \\(UUID=${uuid}\\), size`).test(noForce.msg ?? ""), show(noForce));
    process.stderr.write(`# filesystem refusal: ${noForce.msg}\n`);
    await sh(ssdNode, "mount /mnt/ssd");
    assert.equal((await sh(ssdNode, "cat /mnt/ssd/modtest-keep")).trim(), "precious", "the refused runs kept the data");
    assert.equal((await sh(ssdNode, "blkid -p -s UUID -o value " + part)).trim(), uuid, "same filesystem");
    const same = await ok(ssdNode, "filesystem", { dev: part, fstype: "ext4" });
    assert.equal(same.changed, false, show(same));
    await sh(ssdNode, "rm /mnt/ssd/modtest-keep");
  });

  test("reboot: the node goes down, comes back with a new boot id, test_command passes", { timeout: 400_000 }, async () => {
    const bootId = (await sh(plain, "cat /proc/sys/kernel/random/boot_id")).trim();
    const r = await runModule(t(plain), "reboot", { reboot_timeout: 300 });
    assert.ok(r.changed && !r.failed && r.result.rebooted === true, show(r));
    process.stderr.write(`# reboot of ${plain.name}: ${r.result.elapsed} s\n`);
    assert.notEqual((await sh(plain, "cat /proc/sys/kernel/random/boot_id")).trim(), bootId);
    const check = await runModule(t(plain), "reboot", {}, { check: true });
    assert.ok(check.skipped, "check mode skips the reboot");
  });
});
