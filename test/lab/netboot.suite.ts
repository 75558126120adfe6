/**
 * The netboot-master role in a lab of its own (prefix pinb, 10.213.3.0/24): one amd64 master
 * node and the lab's client namespace. The role converges (then changed=0); from the client
 * namespace a Pi 4 and a Pi 5 bootloader are emulated: a DHCP DISCOVER with the Pi's vendor
 * class must get a proxy offer whose option 43 says "Raspberry Pi Boot", then every file of the
 * Pi 4 / Pi 5 TFTP sequence must come from the client's serial folder with the right content.
 * Two clients get distinct identities; a third client changes only its own files.
 *
 * The OS comes as a Raspberry Pi OS-shaped disk image (.img.xz: MBR, FAT boot partition, ext4
 * root) built here without loop devices, imported by the role without mounts; a tarball of the
 * same tree replaces it later. In full DHCP mode the master masquerades for the nodes (its own
 * nftables table, a foreign table left alone). The rpi_eeprom module runs against a STAND-IN
 * rpi-eeprom-config (a shell script keeping the bootloader config in a file).
 *
 * What this cannot prove (containers have no nfsd and cannot boot a kernel): that the NFS root
 * mounts and boots. The firmware set in the OS image is FAKE (files named like Raspberry Pi
 * firmware, each holding a line that says it is fake and which file it is), so a misplaced file
 * is caught by its content.
 *
 * Standalone: `node --import tsx --test test/lab/netboot.suite.ts` (boots and tears down its lab).
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { bootLab, labAvailable, type Lab } from "../support/lab.ts";
import { namedLabConfig } from "../../scripts/lib/lab/config.ts";
import { which } from "../../scripts/lib/lab/preflight.ts";
import { buildOsImage, osImageToolsMissing } from "../support/os-image.ts";
import { PI_DHCP_PROBE, PI_VENDOR_CLASS } from "../support/pi-bootloader.ts";
import { runCommand } from "../support/run-command.ts";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CONFIG = namedLabConfig("test-lab-nb", "pinb", 3);
const SPEC = { nodes: [{ name: "master", arch: "amd64" as const }], netboot: true };
const RUN_TIMEOUT_MS = 5 * 60_000;
/** The address the emulated Pis use in the client namespace (a home router would give it). */
const CLIENT_ADDRESS = `${CONFIG.subnet}.200`;

interface Client {
  name: string;
  kind: "pi4" | "pi5" | "pxe";
  mac: string;
  serial?: string;
  address: string;
}

const PI4: Client = { name: "pi-a", kind: "pi4", mac: "dc:a6:32:00:00:0a", serial: "1a2b3c4d", address: `${CONFIG.subnet}.21` };
const PI5: Client = { name: "pi-b", kind: "pi5", mac: "2c:cf:67:00:00:0b", serial: "5e6f7a8b", address: `${CONFIG.subnet}.22` };
/** A generic x86 BIOS PXE client (pxelinux, kernel + initrd over TFTP). */
const PXE: Client = { name: "x86-a", kind: "pxe", mac: "52:54:00:00:00:0d", address: `${CONFIG.subnet}.24` };
/** Added later, by MAC only (TFTP_PREFIX=2: folder dc-a6-32-00-00-0c). */
const PI4_BY_MAC: Client = { name: "pi-c", kind: "pi4", mac: "dc:a6:32:00:00:0c", address: `${CONFIG.subnet}.23` };

/** Fake firmware: the real file names, content that says what it is. */
const FIRMWARE = ["start4.elf", "fixup4.dat", "bcm2711-rpi-4-b.dtb", "bcm2712-rpi-5-b.dtb", "kernel8.img", "kernel_2712.img", "overlays/README"];
const fakeContent = (file: string) => `FAKE Raspberry Pi firmware file for the lab test: ${file}\n`;
const CONFIG_TXT = "# FAKE config.txt of the lab test\narm_64bit=1\n";

const skipReason = await netbootSkipReason();

async function netbootSkipReason(): Promise<string | false> {
  if (!which("busybox")) return "busybox is not installed (apt-get install busybox): it is the TFTP client";
  const noImage = osImageToolsMissing();
  if (noImage) return `${noImage}: the test builds a disk image`;
  const reason = await labAvailable(SPEC, CONFIG);
  return reason ? `no lab: ${reason}` : false;
}

const run = (command: string, args: string[], env: Record<string, string> = {}) => runCommand(command, args, { cwd: repo, env, timeoutMs: RUN_TIMEOUT_MS });

/** A Raspberry Pi OS-like root filesystem, tiny, with the identity a client must not share. */
function makeOsTree(dir: string): string {
  const root = join(dir, "rootfs");
  const put = (rel: string, content: string) => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), content);
  };
  for (const f of FIRMWARE) put(`boot/firmware/${f}`, fakeContent(f));
  put("boot/firmware/config.txt", CONFIG_TXT);
  put("boot/firmware/cmdline.txt", "console=serial0,115200 root=PARTUUID=fake-02 rootfstype=ext4 fsck.repair=yes rootwait init=/usr/lib/raspberrypi-sys-mods/firstboot\n");
  put("boot/vmlinuz-6.1.0-fake", fakeContent("vmlinuz"));
  put("boot/initrd.img-6.1.0-fake", fakeContent("initrd.img"));
  symlinkSync("vmlinuz-6.1.0-fake", join(root, "boot/vmlinuz"));
  symlinkSync("initrd.img-6.1.0-fake", join(root, "boot/initrd.img"));
  put("etc/hostname", "raspberrypi\n");
  put("etc/machine-id", "0123456789abcdef0123456789abcdef\n");
  put("etc/fstab", "PARTUUID=fake-01 /boot/firmware vfat defaults 0 2\nPARTUUID=fake-02 / ext4 defaults,noatime 0 1\n");
  put("etc/ssh/ssh_host_ed25519_key", "FAKE shared host key of the image\n");
  put("etc/ssh/sshd_config", "# fake\n");
  mkdirSync(join(root, "etc/systemd/system/multi-user.target.wants"), { recursive: true });
  symlinkSync("/lib/systemd/system/dphys-swapfile.service", join(root, "etc/systemd/system/multi-user.target.wants/dphys-swapfile.service"));
  mkdirSync(join(root, "root"), { recursive: true });
  return root;
}

function makeTarball(root: string, dir: string): string {
  const tarball = join(dir, "fake-raspios-rootfs.tar.gz");
  const r = spawnSync("tar", ["-czf", tarball, "--owner=0", "--group=0", "-C", root, "."]);
  assert.equal(r.status, 0, `tar: ${r.stderr}`);
  return tarball;
}

const sha1 = (file: string) => createHash("sha1").update(readFileSync(file)).digest("hex");

describe("netboot-master: proxy DHCP + TFTP for Raspberry Pis, one root per client", { skip: skipReason, concurrency: false }, () => {
  let lab: Lab | undefined;
  let dir: string;
  let tarball: string;
  let image: string;
  let playbook: string;
  let master: string;

  before(
    async () => {
      dir = mkdtempSync(join(tmpdir(), "pi-netboot-"));
      const tree = makeOsTree(dir);
      tarball = makeTarball(tree, dir);
      image = buildOsImage(tree, join(dir, "fake-raspios-lite.img"), { xz: true });
      playbook = join(dir, "netboot.yml");
      writeFileSync(playbook, stringify([{ name: "Netboot master", hosts: "netboot_master", become: true, gather_facts: true, roles: ["netboot-master"] }]));
      lab = await bootLab(SPEC, { config: CONFIG });
      master = lab.node("master").address;
      // The emulated Pis' address on the home network (the proxy mode's router would give it).
      const ns = lab.clientNetns!;
      for (const args of [["addr", "replace", `${CLIENT_ADDRESS}/24`, "dev", "eth0"], ["route", "replace", "255.255.255.255/32", "dev", "eth0"]]) {
        const r = spawnSync("ip", ["-n", ns, ...args]);
        assert.equal(r.status, 0, `ip ${args.join(" ")} in ${ns}: ${r.stderr}`);
      }
    },
    { timeout: 20 * 60_000 },
  );

  after(async () => {
    if (lab) await lab.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function writeInventory(clients: Client[], masterVars: Record<string, unknown> = {}): string {
    const l = lab!;
    const publicKey = readFileSync(`${l.keyFile}.pub`, "utf8").trim();
    const clientHosts = Object.fromEntries(
      clients.map((c) => [c.name, { ansible_host: c.address, netboot_kind: c.kind, netboot_mac: c.mac, ...(c.serial ? { netboot_serial: c.serial } : {}) }]),
    );
    const inventory = {
      all: {
        vars: {
          ansible_user: "root",
          ansible_ssh_private_key_file: l.keyFile,
          ansible_ssh_common_args: `-o UserKnownHostsFile=${l.knownHostsFile} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes`,
        },
        children: {
          netboot_master: {
            hosts: {
              master: {
                ansible_host: master,
                netboot_interface: "eth0",
                netboot_server_address: master,
                netboot_proxy_network: `${CONFIG.subnet}.0`,
                netboot_os_image: image,
                netboot_admin_ssh_keys: [publicKey],
                ...masterVars,
              },
            },
          },
          netboot_clients: { hosts: clientHosts },
        },
      },
    };
    const file = join(dir, `inventory-${clients.length}${Object.keys(masterVars).length ? "-custom" : ""}.yml`);
    writeFileSync(file, stringify(inventory));
    return file;
  }

  /** Runs the role; returns the names of the tasks that changed on the master. */
  async function converge(inventory: string, pass: string): Promise<string[]> {
    const json = join(dir, `run-${pass}.json`);
    const started = Date.now();
    const r = await run("npx", ["zx", "run", "-i", inventory, playbook, "--json", json], { CI: "true", ANSIBLE_ROLES_PATH: join(repo, "roles") });
    process.stderr.write(`# netboot: ${pass} -> exit ${r.code} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    assert.equal(r.code, 0, `${pass}: the role failed\n${r.stdout.slice(-6000)}\n${r.stderr.slice(-3000)}`);
    const report = JSON.parse(readFileSync(json, "utf8")) as { plays: Array<{ tasks: Array<{ task: { name: string }; hosts: Record<string, { changed?: boolean }> }> }> };
    return report.plays.flatMap((p) => p.tasks.filter((t) => t.hosts.master?.changed).map((t) => t.task.name));
  }

  async function onMaster(command: string): Promise<string> {
    const r = await lab!.ssh("master", command);
    assert.equal(r.rc, 0, `on the master: ${command}\n${r.stderr}`);
    return r.stdout;
  }

  /** Offers the client namespace gets for a Pi-like DISCOVER from `mac`. */
  async function discover(mac: string): Promise<Array<{ server: string; siaddr: string; type: number; vendor: string; option43: string }>> {
    const r = await run("ip", ["netns", "exec", lab!.clientNetns!, process.execPath, PI_DHCP_PROBE, mac, PI_VENDOR_CLASS, "3000"]);
    assert.equal(r.code, 0, `DHCP probe: ${r.stderr}`);
    return JSON.parse(r.stdout.trim());
  }

  /** A TFTP read from the client namespace: the file's content, or undefined when refused. */
  async function tftpGet(path: string): Promise<string | undefined> {
    const local = join(dir, "tftp-download");
    rmSync(local, { force: true });
    const r = await run("ip", ["netns", "exec", lab!.clientNetns!, "busybox", "tftp", "-g", "-r", path, "-l", local, master]);
    return r.code === 0 && existsSync(local) ? readFileSync(local, "utf8") : undefined;
  }

  const cmdlineFor = (c: Client) =>
    `console=serial0,115200 console=tty1 root=/dev/nfs nfsroot=${master}:/srv/nfs/${c.name},vers=3 rw ip=dhcp rootwait cgroup_memory=1 cgroup_enable=memory\n`;

  /** Fetches a boot sequence from `folder/` and checks each file's content. */
  async function bootSequence(c: Client, folder: string, files: string[]): Promise<void> {
    const missing: string[] = [];
    for (const file of files) {
      const got = await tftpGet(`${folder}/${file}`);
      const want = file === "cmdline.txt" ? cmdlineFor(c) : file === "config.txt" ? CONFIG_TXT : fakeContent(file);
      if (got === undefined) missing.push(`${folder}/${file}: not served`);
      else if (got !== want) missing.push(`${folder}/${file}: wrong content ${JSON.stringify(got.slice(0, 200))}, expected ${JSON.stringify(want)}`);
    }
    assert.deepEqual(missing, [], `${c.name} (${c.kind}): the boot sequence failed`);
  }

  test("the role converges, and a second run changes nothing", { timeout: 10 * 60_000 }, async () => {
    const inventory = writeInventory([PI4, PI5, PXE]);
    const first = await converge(inventory, "first run");
    assert.ok(first.length > 0, "the first run changed nothing");
    const second = await converge(inventory, "second run");
    assert.deepEqual(second, [], "the second run changed tasks");
    const conf = await onMaster("cat /etc/dnsmasq.d/pi-cluster-netboot.conf; systemctl is-active dnsmasq");
    for (const line of ["port=0", `dhcp-range=${CONFIG.subnet}.0,proxy`, "enable-tftp", "tftp-root=/srv/tftp", "log-dhcp", 'pxe-service=tag:netboot_pi,0,"Raspberry Pi Boot"', `dhcp-host=${PI4.mac},set:netboot_pi`, `dhcp-host=${PI5.mac},set:netboot_pi`, `dhcp-host=${PXE.mac},set:netboot_pxe`]) {
      assert.ok(conf.split("\n").includes(line), `dnsmasq config lacks ${JSON.stringify(line)}:\n${conf}`);
    }
    assert.match(conf, /^active$/m, "dnsmasq is not running");
  });

  test("the disk image is imported without mounts: the ext4 root and the FAT boot partition, once", async () => {
    const base = "/srv/netboot/base";
    const out = await onMaster(
      [
        `ls -A ${base} | grep '^.netboot-import-'`,
        `cat ${base}/etc/hostname ${base}/boot/firmware/start4.elf ${base}/boot/firmware/overlays/README`,
        `readlink ${base}/boot/vmlinuz ${base}/etc/systemd/system/multi-user.target.wants/dphys-swapfile.service`,
        `stat -c 'machine-id %s bytes' ${base}/etc/machine-id`,
        `ls ${base}/etc/ssh`,
        `for f in ${base}/lost+found ${base}.img ${base}.new ${base}.old; do [ ! -e "$f" ] || echo "left: $f"; done`,
        `echo "netboot mounts: $(grep -c /srv/netboot /proc/mounts)"`,
      ].join("; "),
    );
    assert.equal(
      out,
      [
        `.netboot-import-${sha1(image)}`,
        "raspberrypi",
        fakeContent("start4.elf").trimEnd(),
        fakeContent("overlays/README").trimEnd(),
        "vmlinuz-6.1.0-fake",
        "/lib/systemd/system/dphys-swapfile.service",
        "machine-id 0 bytes",
        "sshd_config",
        "netboot mounts: 0",
        "",
      ].join("\n"),
      "the tree imported from the image",
    );
  });

  test("a bad client variable stops the run before anything is written, naming the client and the value", { timeout: 5 * 60_000 }, async () => {
    const inventory = writeInventory([PI4, PI5, PXE, { ...PI4_BY_MAC, serial: "ABC; rm -rf /" }]);
    const r = await run("npx", ["zx", "run", "-i", inventory, playbook], { CI: "true", ANSIBLE_ROLES_PATH: join(repo, "roles") });
    assert.equal(r.code, 2, `the run did not fail on the bad serial\n${r.stdout.slice(-3000)}`);
    assert.match(r.stdout, /netboot client 'pi-c'.*netboot_serial.*\(is 'ABC; rm -rf \/'\)/s, r.stdout.slice(-3000));
    const after = await lab!.ssh("master", "ls /srv/nfs");
    assert.doesNotMatch(after.stdout, /pi-c/, "a root was made for the bad client");
  });

  test("a registered Pi's DISCOVER gets a proxy offer with 'Raspberry Pi Boot'; an unknown one does not", { timeout: 60_000 }, async () => {
    const offers = await discover(PI4.mac);
    const boot = offers.filter((o) => o.option43.includes("Raspberry Pi Boot"));
    const log = async () => (await lab!.ssh("master", "journalctl -u dnsmasq --no-pager | tail -40")).stdout;
    assert.ok(boot.length > 0, `no offer with option 43 "Raspberry Pi Boot" for ${PI4.mac}: ${JSON.stringify(offers)}\n${await log()}`);
    // The bootloader fetches from the proxy offer's server identifier (option 54).
    assert.equal(boot[0].server, master, "the offer's server identifier is not the master");
    assert.equal(boot[0].vendor, "PXEClient", "the proxy offer's option 60 is not PXEClient");
    const unknown = await discover("dc:a6:32:99:99:99");
    assert.ok(!unknown.some((o) => o.option43.includes("Raspberry Pi Boot")), `an unregistered Pi was offered a boot: ${JSON.stringify(unknown)}`);
  });

  test("Pi 4: start4.elf, config.txt, cmdline.txt, device tree, kernel from <serial>/", { timeout: 60_000 }, async () => {
    await bootSequence(PI4, PI4.serial!, ["start4.elf", "fixup4.dat", "config.txt", "cmdline.txt", "bcm2711-rpi-4-b.dtb", "overlays/README", "kernel8.img"]);
    const cmdline = await onMaster(`cat /srv/tftp/${PI4.serial}/cmdline.txt`);
    assert.equal(cmdline.split("\n").filter(Boolean).length, 1, "cmdline.txt is not one line");
    assert.doesNotMatch(cmdline, /init=/, "cmdline.txt keeps an init= hook");
  });

  test("Pi 5: config.txt, cmdline.txt, bcm2712 device tree, kernel from <serial>/ (no start4.elf needed)", { timeout: 60_000 }, async () => {
    await bootSequence(PI5, PI5.serial!, ["config.txt", "cmdline.txt", "bcm2712-rpi-5-b.dtb", "kernel_2712.img"]);
  });

  test("x86 PXE: the 'Network boot' offer, pxelinux, its config by MAC, kernel and initrd", { timeout: 60_000 }, async () => {
    const offers = await discover(PXE.mac);
    assert.ok(offers.some((o) => o.option43.includes("Network boot")), `no PXE menu offer for ${PXE.mac}: ${JSON.stringify(offers)}`);
    assert.ok(!offers.some((o) => o.option43.includes("Raspberry Pi Boot")), "the x86 client was offered the Raspberry Pi boot");
    const problems: string[] = [];
    for (const file of ["pxelinux.0", "ldlinux.c32"]) if ((await tftpGet(file)) === undefined) problems.push(`${file}: not served`);
    const config = await tftpGet(`pxelinux.cfg/01-${PXE.mac.replaceAll(":", "-")}`);
    const append = `APPEND root=/dev/nfs nfsroot=${master}:/srv/nfs/${PXE.name},vers=3 rw ip=dhcp rootwait cgroup_memory=1 cgroup_enable=memory`;
    if (!config?.includes(`KERNEL ${PXE.name}/vmlinuz`) || !config.includes(append)) problems.push(`pxelinux config: ${JSON.stringify(config)}`);
    for (const file of ["vmlinuz", "initrd.img"]) {
      const got = await tftpGet(`${PXE.name}/${file}`);
      if (got !== fakeContent(file)) problems.push(`${PXE.name}/${file}: ${JSON.stringify(got)}`);
    }
    assert.deepEqual(problems, [], "the x86 PXE boot files");
  });

  /** Identity of a client root, read on the master. */
  async function identity(c: Client): Promise<Record<string, string>> {
    const root = `/srv/nfs/${c.name}`;
    const out = await onMaster(
      [
        `echo "machine_id=$(cat ${root}/etc/machine-id)"`,
        `echo "hostname=$(cat ${root}/etc/hostname)"`,
        `echo "host_key=$(sha256sum < ${root}/etc/ssh/ssh_host_ed25519_key.pub | cut -c1-64)"`,
        `echo "fstab=$(grep -v '^#' ${root}/etc/fstab | tr '\\n' '|')"`,
        `echo "swap=$(readlink ${root}/etc/systemd/system/dphys-swapfile.service)"`,
        `echo "wizard=$(readlink ${root}/etc/systemd/system/userconfig.service)"`,
        `echo "sshd=$(readlink ${root}/etc/systemd/system/multi-user.target.wants/ssh.service)"`,
        `echo "cloud_init=$(test -f ${root}/etc/cloud/cloud-init.disabled && echo disabled)"`,
        `echo "keys=$(cat ${root}/root/.ssh/authorized_keys | wc -l)"`,
        `echo "export=$(cat /etc/exports.d/netboot-${c.name}.exports)"`,
      ].join("; "),
    );
    return Object.fromEntries(out.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
  }

  test("each client gets its own machine-id, host keys and hostname; roots made for NFS", async () => {
    const [a, b, x] = [await identity(PI4), await identity(PI5), await identity(PXE)];
    for (const [c, id] of [[PI4, a], [PI5, b], [PXE, x]] as const) {
      assert.match(id.machine_id, /^[0-9a-f]{32}$/, `${c.name}: machine-id`);
      assert.notEqual(id.machine_id, "0123456789abcdef0123456789abcdef", `${c.name}: kept the image's machine-id`);
      assert.equal(id.hostname, c.name);
      assert.match(id.host_key, /^[0-9a-f]{64}$/, `${c.name}: no ed25519 host key`);
      assert.equal(id.fstab, "proc /proc proc defaults 0 0|", `${c.name}: fstab not reduced`);
      assert.equal(id.swap, "/dev/null", `${c.name}: dphys-swapfile not masked`);
      assert.equal(id.wizard, "/dev/null", `${c.name}: the first-boot user wizard not masked`);
      assert.equal(id.sshd, "/lib/systemd/system/ssh.service", `${c.name}: sshd not enabled`);
      assert.equal(id.cloud_init, "disabled", `${c.name}: cloud-init not disabled`);
      assert.equal(id.keys, "1", `${c.name}: the admin's key is not authorized`);
      assert.equal(id.export, `/srv/nfs/${c.name} ${c.address}(rw,sync,no_subtree_check,no_root_squash)`, `${c.name}: export`);
    }
    assert.equal(new Set([a, b, x].map((i) => i.machine_id)).size, 3, "the clients share a machine-id");
    assert.equal(new Set([a, b, x].map((i) => i.host_key)).size, 3, "the clients share a host key");
  });

  test("the NFS server step is skipped with its reason in a container, never faked", async () => {
    const r = await lab!.ssh("master", "grep -qw nfsd /proc/filesystems && echo has-nfsd || echo no-nfsd");
    if (r.stdout.trim() === "has-nfsd") return; // a kernel with nfsd: the service really ran
    const json = JSON.parse(readFileSync(join(dir, "run-second run.json"), "utf8")) as { plays: Array<{ tasks: Array<{ task: { name: string }; hosts: Record<string, { skipped?: boolean; msg?: string }> }> }> };
    const tasks = json.plays.flatMap((p) => p.tasks);
    const start = tasks.find((t) => t.task.name.endsWith("Enable and start the NFS server"));
    const note = tasks.find((t) => t.task.name.endsWith("Report that the NFS server was not started"));
    assert.equal(start?.hosts.master?.skipped, true, `the NFS server start was not skipped: ${JSON.stringify(start)}`);
    assert.match(String(note?.hosts.master?.msg), /no nfsd/, "no reason was reported");
  });

  test("discover: dnsmasq's log names the unregistered Pi that asked to boot", { timeout: 60_000 }, async () => {
    await discover("dc:a6:32:99:99:99");
    await tftpGet("deadbeef/start4.elf"); // a Pi whose serial folder does not exist
    const log = join(dir, "dnsmasq.log");
    writeFileSync(log, await onMaster("journalctl -u dnsmasq --no-pager -o short"));
    const r = await run("npx", ["zx", "discover", "--log", log, "-i", writeInventory([PI4, PI5, PXE])]);
    assert.equal(r.code, 0, `discover failed: ${r.stderr}`);
    const lines = r.stdout.split("\n");
    const line = (needle: string) => lines.find((l) => l.trimStart().startsWith(needle)) ?? "";
    assert.match(line("dc:a6:32:99:99:99"), /Raspberry Pi\s+NOT IN THE INVENTORY/, r.stdout);
    assert.match(line(PI4.mac), /inventory host pi-a/, r.stdout);
    assert.match(line(PXE.mac), /PXE\s+inventory host x86-a/, r.stdout);
    assert.match(line("deadbeef"), /NOT IN THE INVENTORY, files not found/, r.stdout);
    assert.match(line(PI5.serial!), /pi5\s+inventory host pi-b/, r.stdout);
    assert.match(r.stdout, /pi-dca632999999:\n\s+netboot_mac: "dc:a6:32:99:99:99"/, r.stdout);
  });

  test("rpi_eeprom: BOOT_ORDER staged once through (a STAND-IN) rpi-eeprom-config, a reboot required, then nothing", { timeout: 5 * 60_000 }, async () => {
    // STAND-IN for Raspberry Pi OS's rpi-eeprom-config (no bootloader here): the config lives in
    // a file; --apply stages it as pieeprom.upd (plain text here, a signed image on a Pi); given
    // a file it prints that image's config. Every call is logged.
    const standin = [
      "#!/bin/sh",
      "# STAND-IN for rpi-eeprom-config, installed by test/lab/netboot.suite.ts",
      'echo "$*" >> /var/lib/eeprom-standin/calls',
      'case "${1:-}" in',
      '  "") cat /var/lib/eeprom-standin/boot.conf;;',
      '  --apply) [ -f "$2" ] || { echo "$2: not found" >&2; exit 1; }; cp "$2" /boot/firmware/pieeprom.upd;;',
      '  --) cat "$2";;',
      '  *) cat "$1";;',
      "esac",
    ].join("\n");
    await onMaster(
      `mkdir -p /var/lib/eeprom-standin /boot/firmware && printf '[all]\\nBOOT_UART=0\\nBOOT_ORDER=0xf41\\n' > /var/lib/eeprom-standin/boot.conf && : > /var/lib/eeprom-standin/calls && cat > /usr/local/bin/rpi-eeprom-config <<'EOF'\n${standin}\nEOF\nchmod 755 /usr/local/bin/rpi-eeprom-config`,
    );
    const play = (args: Record<string, unknown>) => {
      const file = join(dir, "eeprom.yml");
      writeFileSync(file, stringify([{ hosts: "netboot_master", gather_facts: false, tasks: [{ name: "Boot from the network after the SD card", rpi_eeprom: args, register: "eeprom" }, { debug: { msg: "reboot_required={{ eeprom.reboot_required }}" } }] }]));
      return run("npx", ["zx", "run", "-i", writeInventory([PI4, PI5, PXE]), file], { CI: "true" });
    };
    try {
      const first = await play({ boot_order: "0xf21", tftp_prefix: 2 });
      assert.equal(first.code, 0, first.stdout.slice(-3000));
      assert.match(first.stdout, /BOOT_ORDER 0xf41 -> 0xf21, TFTP_PREFIX \(unset\) -> 2: staged, flashed at the next reboot/, first.stdout.slice(-3000));
      assert.match(first.stdout, /reboot_required=[Tt]rue/);
      assert.equal(await onMaster("cat /boot/firmware/pieeprom.upd"), "[all]\nBOOT_UART=0\nBOOT_ORDER=0xf21\nTFTP_PREFIX=2\n");
      // Before the reboot: the staged image already says so; nothing staged again, reboot still due.
      const again = await play({ boot_order: "0xF21", tftp_prefix: 2 });
      assert.match(again.stdout, /changed=0/, again.stdout.slice(-3000));
      assert.match(again.stdout, /reboot_required=[Tt]rue/);
      // The bootloader flashes the staged config at the reboot (what a Pi does; here by hand).
      await onMaster("mv /boot/firmware/pieeprom.upd /var/lib/eeprom-standin/boot.conf");
      const flashed = await play({ boot_order: "0xf21", tftp_prefix: 2 });
      assert.match(flashed.stdout, /changed=0/, flashed.stdout.slice(-3000));
      assert.match(flashed.stdout, /reboot_required=[Ff]alse/);
      const bad = await play({ boot_order: "0xf21\nBOOT_UART=1" });
      assert.notEqual(bad.code, 0, "a BOOT_ORDER with a second line was accepted");
      assert.match(bad.stdout + bad.stderr, /boot_order.*must be a BOOT_ORDER/s);
      const calls = (await onMaster("cat /var/lib/eeprom-standin/calls")).trim().split("\n");
      assert.equal(calls.filter((c) => c.startsWith("--apply")).length, 1, `rpi-eeprom-config --apply ran more than once: ${calls.join(" | ")}`);
    } finally {
      await onMaster("rm -rf /usr/local/bin/rpi-eeprom-config /var/lib/eeprom-standin /boot/firmware/pieeprom.upd");
    }
  });

  test("adding a third client (by MAC) changes only its files", { timeout: 10 * 60_000 }, async () => {
    const snapshot = () =>
      onMaster(
        `cd /srv && find nfs/${PI4.name} nfs/${PI5.name} nfs/${PXE.name} tftp/${PI4.serial} tftp/${PI5.serial} tftp/${PXE.name} tftp/pxelinux.cfg /etc/exports.d/netboot-${PI4.name}.exports /etc/exports.d/netboot-${PI5.name}.exports /etc/exports.d/netboot-${PXE.name}.exports \\( -type f -exec sha256sum {} + \\) -o \\( -type l -printf '%p -> %l\\n' \\) | sort`,
      );
    const before = await snapshot();
    const changed = await converge(writeInventory([PI4, PI5, PXE, PI4_BY_MAC]), "third client");
    assert.ok(changed.length > 0, "adding a client changed nothing");
    assert.equal(await snapshot(), before, "adding a client changed the other clients' files");
    await bootSequence(PI4_BY_MAC, "dc-a6-32-00-00-0c", ["start4.elf", "config.txt", "cmdline.txt", "bcm2711-rpi-4-b.dtb", "kernel8.img"]);
    const [a, c] = [await identity(PI4), await identity(PI4_BY_MAC)];
    assert.notEqual(a.machine_id, c.machine_id);
    assert.notEqual(a.host_key, c.host_key);
    const again = await converge(writeInventory([PI4, PI5, PXE, PI4_BY_MAC]), "after the third client");
    assert.deepEqual(again, [], "the run after adding the third client changed tasks");
  });

  test("a dnsmasq configuration that dnsmasq --test refuses is never put in place", { timeout: 5 * 60_000 }, async () => {
    const before = await onMaster("sha256sum /etc/dnsmasq.d/pi-cluster-netboot.conf");
    const bad = { netboot_dhcp_mode: "full", netboot_dhcp_range_start: `${CONFIG.subnet}.100`, netboot_dhcp_range_end: `${CONFIG.subnet}.150`, netboot_dhcp_lease: "soon" };
    const r = await run("npx", ["zx", "run", "-i", writeInventory([PI4, PI5, PXE, PI4_BY_MAC], bad), playbook], { CI: "true", ANSIBLE_ROLES_PATH: join(repo, "roles") });
    assert.equal(r.code, 2, `the run did not fail\n${r.stdout.slice(-3000)}`);
    assert.match(r.stdout, /Configure dnsmasq for network boot.*failed to validate/s, r.stdout.slice(-3000));
    assert.equal(await onMaster("sha256sum /etc/dnsmasq.d/pi-cluster-netboot.conf"), before, "the refused configuration replaced the old one");
    assert.match(await onMaster("systemctl is-active dnsmasq"), /^active/, "dnsmasq stopped");
  });

  test("full DHCP mode: a registered client gets its own address from the master, forwarding and masquerading on", { timeout: 5 * 60_000 }, async () => {
    const full = { netboot_dhcp_mode: "full", netboot_dhcp_range_start: `${CONFIG.subnet}.100`, netboot_dhcp_range_end: `${CONFIG.subnet}.150`, netboot_uplink_interface: "wan0" };
    // Someone else's nftables table, which the role must leave alone.
    await onMaster("apt-get install -y -qq nftables >/dev/null && nft add table inet someone_else && nft add chain inet someone_else keep '{ type filter hook input priority 0; policy accept; }'");
    const inventory = writeInventory([PI4, PI5, PXE, PI4_BY_MAC], full);
    const changed = await converge(inventory, "full mode");
    assert.ok(changed.some((t) => t.endsWith("Configure dnsmasq for network boot")), `the mode switch did not change the dnsmasq config: ${changed.join(", ")}`);
    assert.deepEqual(await converge(inventory, "full mode again"), [], "the second full-mode run changed tasks");
    const conf = await onMaster("cat /etc/dnsmasq.d/pi-cluster-netboot.conf; cat /proc/sys/net/ipv4/ip_forward");
    assert.ok(conf.includes(`dhcp-host=${PI4.mac},set:netboot_pi,${PI4.address},${PI4.name}`), conf);
    assert.match(conf, /^1$/m, "ip_forward is not on");
    const nat = await onMaster("nft list table ip pi_cluster_netboot; nft list table inet someone_else; systemctl is-enabled pi-cluster-netboot-nat");
    assert.match(nat, /type nat hook postrouting priority srcnat; policy accept;\s+oifname "wan0" masquerade/, `no masquerade rule:\n${nat}`);
    assert.match(nat, /table inet someone_else \{\s+chain keep \{/, `the foreign table was touched:\n${nat}`);
    assert.match(nat, /^enabled$/m, "the NAT unit is not enabled at boot");
    // nftables.service flushes the whole ruleset; the NAT unit follows it and loads our table again.
    // systemctl returns once nftables itself restarted; the NAT unit's restart follows it (bounded wait).
    const after = await onMaster("systemctl restart nftables && for i in $(seq 50); do nft list tables | grep -q pi_cluster_netboot && break; sleep 0.2; done; nft list tables");
    assert.match(after, /^table ip pi_cluster_netboot$/m, `restarting nftables lost the NAT table:\n${after}`);
    // The client namespace becomes pi-a (its MAC) and asks for a lease as its bootloader would.
    const ns = lab!.clientNetns!;
    assert.equal(spawnSync("ip", ["-n", ns, "link", "set", "eth0", "address", PI4.mac]).status, 0);
    const r = await run("ip", ["netns", "exec", ns, "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", "4", "-T", "2", "-s", "/bin/true", "-V", PI_VENDOR_CLASS]);
    const said = `${r.stdout}${r.stderr}`;
    assert.match(said, new RegExp(`lease of ${PI4.address.replaceAll(".", "\\.")} obtained`), `no lease of ${PI4.address}:\n${said}`);
    assert.match(said, new RegExp(`from ${master.replaceAll(".", "\\.")}`), said);
  });
  test("a root filesystem tarball of the same tree replaces the imported image once; client roots untouched; proxy mode again drops the NAT", { timeout: 5 * 60_000 }, async () => {
    const roots = () => onMaster(`cd /srv/nfs && find ${PI4.name} ${PI5.name} -type f -exec sha256sum {} + | sort`);
    const before = await roots();
    const inventory = writeInventory([PI4, PI5, PXE, PI4_BY_MAC], { netboot_os_image: "", netboot_os_tarball: tarball });
    const changed = await converge(inventory, "tarball");
    assert.ok(changed.some((t) => t.endsWith("Import the OS tree from the image (once per image)")), `the tarball was not imported: ${changed.join(", ")}`);
    assert.equal(await onMaster("ls -A /srv/netboot/base | grep '^.netboot-import-'"), `.netboot-import-${sha1(tarball)}\n`);
    assert.equal(await roots(), before, "a new OS tree changed existing client roots");
    // Back in proxy mode: the NAT table and its unit are gone, nftables' own table stays.
    assert.ok(changed.some((t) => t.endsWith("Remove the NAT table and its unit when the master no longer masquerades")), changed.join(", "));
    const nat = await onMaster("nft list tables; ls /etc/systemd/system/pi-cluster-netboot-nat.service /etc/nftables.d/pi-cluster-netboot.nft 2>&1 || true");
    assert.doesNotMatch(nat, /table ip pi_cluster_netboot/, nat);
    assert.match(nat, /^table inet filter$/m, `nftables' own table was touched:\n${nat}`);
    assert.match(nat, /cannot access '\/etc\/systemd\/system\/pi-cluster-netboot-nat.service'/, nat);
    assert.match(nat, /cannot access '\/etc\/nftables.d\/pi-cluster-netboot.nft'/, nat);
    assert.deepEqual(await converge(inventory, "tarball again"), [], "the second tarball run changed tasks");
  });
});
