/**
 * A "Raspberry Pi OS-shaped" arm64 disk image for the lab's Pi clients, built on the
 * controller without loop devices, mounts or a foreign-architecture chroot step:
 *
 * - an MBR with a FAT boot partition (mkfs.vfat --offset, mcopy) holding the file NAMES the Pi
 *   4 / Pi 5 bootloader asks for: kernel8.img and kernel_2712.img (a stock Debian arm64 kernel),
 *   initramfs8 and initramfs_2712 (config.txt's auto_initramfs=1), config.txt, cmdline.txt, the
 *   Pi 4 device tree Debian ships, and placeholders for the closed firmware (start4.elf,
 *   fixup4.dat) and what Debian lacks (bcm2712-rpi-5-b.dtb, overlays/);
 * - an ext4 root (mkfs.ext4 -d at its offset) holding the lab's cached arm64 Debian userspace
 *   (systemd, sshd) as a Raspberry Pi OS image has it: hostname raspberrypi, PARTUUID fstab.
 *
 * The kernel package is unpacked host-side (dpkg-deb -x, under a private APT_CONFIG: the
 * host's apt state is untouched). update-initramfs under qemu-user is what made a full arm64
 * debootstrap take 811 s (shared/notes/lab-vm.md), so the initramfs is a small busybox one
 * built here: THE LAB'S STAND-IN FOR THE PI KERNEL'S BUILT-IN NFS ROOT. It loads virtio-net and
 * NFS, does DHCP for `ip=dhcp`, mounts `nfsroot=SERVER:PATH,vers=3` and switch_roots to systemd.
 * A real Pi boots Raspberry Pi OS's own kernel and initramfs instead.
 *
 * Cached like vm-image.ts: under <cache>/vm/raspios-shaped-arm64, keyed by its inputs.
 */
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { mbrSector } from "../firstboot/mbr.ts";
import { run } from "./exec.ts";
import { which } from "./preflight.ts";
import { ensureBaseRootfs, stderrProgress } from "./rootfs.ts";

/** Bump when anything below changes: a cached image of an older version is rebuilt. */
export const PI_IMAGE_VERSION = 2;

/** Debian packages unpacked host-side (arm64). */
const PACKAGES = ["linux-image-arm64", "busybox-static"];
const MIRROR = "http://deb.debian.org/debian";

/** Modules the stand-in initramfs loads (their dependencies are found in the modules). */
const INITRAMFS_MODULES = ["virtio_pci", "virtio_net", "nfsv3"];

/** Units of the container base a VM must not have (see vm-image.ts). */
const CONTAINER_ONLY = ["sysinit.target.wants/lab-devices-settled.service", "run-rpc_pipefs.mount"];
/** Not needed in a Pi image and large: left out of the root (the role copies it per client). */
const ROOT_PRUNED = ["usr/share/doc", "usr/share/man", "usr/share/locale", "usr/share/info", "var/cache/apt/pkgcache.bin", "var/cache/apt/srcpkgcache.bin"];

const MiB = 1024 * 1024;
const BOOT_START = 4 * MiB;
const BOOT_SIZE = 96 * MiB;
const DISK_ID = "5ca1ab1e";
const MTOOLS_ENV = { MTOOLS_SKIP_CHECK: "1", MTOOLSRC: "/dev/null", PATH: `${process.env.PATH}:/sbin:/usr/sbin` };

/** The firmware's own, closed files cannot be had here: placeholders under their real names. */
const PLACEHOLDERS = ["start4.elf", "fixup4.dat", "bcm2712-rpi-5-b.dtb", "overlays/README"];

/** Raspberry Pi OS bookworm's config.txt, 64-bit, initramfs loaded by the firmware. */
const CONFIG_TXT = `# Raspberry Pi OS-shaped image of the pi-cluster-runner lab (scripts/lib/lab/vm-pi-image.ts)
# For more options and information see http://rptl.io/configtxt
dtparam=audio=on
camera_auto_detect=1
display_auto_detect=1
auto_initramfs=1
dtoverlay=vc4-kms-v3d
max_framebuffers=2
disable_fw_kms_setup=1
arm_64bit=1
disable_overscan=1
arm_boost=1

[all]
`;

/** What a freshly flashed bookworm image boots with (the netboot master replaces it). */
const CMDLINE_TXT = `console=serial0,115200 console=tty1 root=PARTUUID=${DISK_ID}-02 rootfstype=ext4 fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot\n`;

const FSTAB = `proc            /proc           proc    defaults          0       0
PARTUUID=${DISK_ID}-01  /boot/firmware  vfat    defaults          0       2
PARTUUID=${DISK_ID}-02  /               ext4    defaults,noatime  0       1
`;

/**
 * /init of the stand-in initramfs (busybox sh). Reads ip= and nfsroot= from /proc/cmdline as
 * the kernel's own NFS root code would; any failure is said on the console, then power off
 * (the lab sees QEMU end instead of waiting for sshd).
 */
const INIT = `#!/bin/busybox sh
# pi-cluster-runner lab: the stand-in for the Pi kernel's built-in NFS root (vm-pi-image.ts).
/bin/busybox mkdir -p /proc /sys /dev /root /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() { echo "lab-initramfs: $*" > /dev/console; }
die() { say "$* - powering off"; sleep 5; poweroff -f; }
for m in $(cat /lib/modules/load-order); do insmod "/lib/modules/$m.ko" || die "insmod $m failed"; done
ip= nfsroot=
for arg in $(cat /proc/cmdline); do
  case $arg in
    ip=*) ip=\${arg#ip=} ;;
    nfsroot=*) nfsroot=\${arg#nfsroot=} ;;
  esac
done
[ "$ip" = dhcp ] || die "cmdline has ip='$ip'; only ip=dhcp is supported"
[ -n "$nfsroot" ] || die "cmdline has no nfsroot="
n=0
while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 50 ]; do sleep 0.2; n=$((n + 1)); done
ip link set eth0 up
udhcpc -i eth0 -f -q -n -t 20 -T 3 -s /etc/udhcpc.script || die "no DHCP answer on eth0"
server=\${nfsroot%%:*}
rest=\${nfsroot#*:}
path=\${rest%%,*}
opts=
case $rest in *,*) opts=,\${rest#*,} ;; esac
say "mounting $server:$path (nolock$opts)"
mount -t nfs -o "nolock,addr=$server$opts" "$server:$path" /root || die "NFS mount of $server:$path failed"
# /sbin/init is an absolute symlink (to /lib/systemd/systemd): it resolves only after switch_root.
[ -L /root/sbin/init ] || [ -x /root/sbin/init ] || die "$server:$path has no /sbin/init"
umount /sys /proc
mount --move /dev /root/dev 2>/dev/null || umount /dev
exec switch_root /root /sbin/init
`;

const UDHCPC_SCRIPT = `#!/bin/sh
# udhcpc: the address, netmask and router it was given, kept after switch_root.
case $1 in
  bound|renew)
    ifconfig "$interface" "$ip" netmask "$subnet" up
    [ -n "$router" ] && route add default gw "\${router%% *}" dev "$interface" 2>/dev/null
    echo "lab-initramfs: $interface $ip/$subnet" > /dev/console ;;
esac
exit 0
`;

/** Why the image cannot be built here (a missing host tool and its package), or undefined. */
export function piImageToolsMissing(): string | undefined {
  const tools = [["mkfs.vfat", "dosfstools"], ["mcopy", "mtools"], ["mkfs.ext4", "e2fsprogs"], ["xz", "xz-utils"], ["busybox", "busybox"], ["dpkg-deb", "dpkg"], ["apt-get", "apt"]];
  for (const [tool, pkg] of tools) if (!which(tool)) return `${tool} is missing (apt-get install ${pkg})`;
  return undefined;
}

/** A built image and what is inside. */
export interface PiOsImage {
  /** The .img.xz the netboot master imports. */
  image: string;
  /** The boot partition's files as built (what the master must serve, byte for byte). */
  bootDir: string;
  kernelRelease: string;
  key: string;
}

const STAMP = ".lab-pi-image";

/** Where the image is cached. */
export function piImageDir(cacheDir: string): string {
  return join(cacheDir, "vm", "raspios-shaped-arm64");
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function put(path: string, content: string | Buffer, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  chmodSync(path, mode);
}

function imageKey(base: string): string {
  const hash = createHash("sha256");
  for (const stamp of [".lab-debootstrap", ".lab-rootfs"]) hash.update(readText(join(base, stamp)) ?? "");
  hash.update(`${PI_IMAGE_VERSION} ${PACKAGES.join(",")} ${INITRAMFS_MODULES.join(",")}`);
  return hash.digest("hex").slice(0, 16);
}

/** Downloads the arm64 .debs with a private apt state (the host's dpkg/apt config untouched). */
async function downloadDebs(aptDir: string, progress: (line: string) => void): Promise<{ kernel: string; busybox: string }> {
  for (const d of ["state/lists/partial", "cache/archives/partial", "etc/parts", "debs"]) mkdirSync(join(aptDir, d), { recursive: true });
  writeFileSync(join(aptDir, "etc/sources.list"), `deb ${MIRROR} bookworm main\n`);
  writeFileSync(join(aptDir, "state/status"), "");
  const conf = join(aptDir, "apt.conf");
  writeFileSync(
    conf,
    [
      'APT::Architecture "arm64";',
      'APT::Architectures { "arm64"; };',
      'APT::Sandbox::User "root";',
      'Acquire::Languages "none";',
      `Dir::State "${aptDir}/state";`,
      `Dir::State::status "${aptDir}/state/status";`,
      `Dir::Cache "${aptDir}/cache";`,
      `Dir::Etc::SourceList "${aptDir}/etc/sources.list";`,
      `Dir::Etc::SourceParts "${aptDir}/etc/parts";`,
      `Dir::Etc::Preferences "${aptDir}/etc/preferences";`,
      `Dir::Etc::PreferencesParts "${aptDir}/etc/parts";`,
      "",
    ].join("\n"),
  );
  const env = { APT_CONFIG: conf };
  await run(["apt-get", "-q", "update"], { env, onOutput: (c) => progress(c.trim().split("\n").pop() ?? "") });
  // The metapackage names the kernel of the day (linux-image-6.1.0-NN-arm64).
  const depends = (await run(["apt-cache", "depends", "--", "linux-image-arm64"], { env })).stdout;
  const kernelPackage = /Depends:\s*(linux-image-\d\S*-arm64)\b/.exec(depends)?.[1];
  if (!kernelPackage) throw new Error(`linux-image-arm64 names no kernel package:\n${depends}`);
  const debs = join(aptDir, "debs");
  for (const f of readdirSync(debs)) rmSync(join(debs, f));
  // apt-get download writes to the current folder: cd there (paths as arguments, never in the script).
  await run(["sh", "-ec", 'cd -- "$1"; shift; apt-get -q download -- "$@"', "download", debs, kernelPackage, "busybox-static"], { env });
  const find = (prefix: string) => {
    const deb = readdirSync(debs).find((f) => f.startsWith(prefix) && f.endsWith("_arm64.deb"));
    if (!deb) throw new Error(`apt-get download left no ${prefix}*_arm64.deb in ${debs}`);
    return join(debs, deb);
  };
  return { kernel: find(`${kernelPackage}_`), busybox: find("busybox-static_") };
}

/** A module's dependencies, from its .modinfo `depends=` string. */
function moduleDepends(ko: Buffer): string[] {
  const at = ko.indexOf("\0depends=");
  if (at < 0) return [];
  const end = ko.indexOf(0, at + 1);
  return ko.subarray(at + 9, end).toString("latin1").split(",").filter(Boolean);
}

/** Every .ko under `modulesDir` by module name (dashes and underscores are one to the kernel). */
function indexModules(modulesDir: string): Map<string, string> {
  const index = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ko")) index.set(entry.name.slice(0, -3).replaceAll("-", "_"), path);
    }
  };
  walk(modulesDir);
  return index;
}

/** `wanted` and their dependencies (from the .ko files under `modulesDir`), dependencies first. */
export function moduleLoadOrder(modulesDir: string, wanted: string[]): { name: string; path: string }[] {
  const index = indexModules(modulesDir);
  return loadOrder(index, wanted).map((name) => ({ name, path: index.get(name)! }));
}

function loadOrder(index: Map<string, string>, wanted: string[]): string[] {
  const order: string[] = [];
  const visit = (name: string) => {
    if (order.includes(name)) return;
    const path = index.get(name);
    if (!path) throw new Error(`Kernel module ${name} is not in the kernel package (built in? then drop it from INITRAMFS_MODULES)`);
    for (const dep of moduleDepends(readFileSync(path))) visit(dep.replaceAll("-", "_"));
    order.push(name);
  };
  for (const name of wanted) visit(name);
  return order;
}

/** The stand-in initramfs as a gzipped newc cpio (busybox cpio: the host may lack cpio). */
async function buildInitramfs(work: string, kernelTree: string, kernelRelease: string, busyboxTree: string, out: string): Promise<void> {
  const tree = join(work, "initramfs");
  const order = moduleLoadOrder(join(kernelTree, "lib/modules", kernelRelease, "kernel"), INITRAMFS_MODULES);
  for (const m of order) put(join(tree, "lib/modules", `${m.name}.ko`), readFileSync(m.path));
  put(join(tree, "lib/modules/load-order"), `${order.map((m) => m.name).join("\n")}\n`);
  put(join(tree, "bin/busybox"), readFileSync(join(busyboxTree, "bin/busybox")), 0o755);
  symlinkSync("busybox", join(tree, "bin/sh"));
  put(join(tree, "init"), INIT, 0o755);
  put(join(tree, "etc/udhcpc.script"), UDHCPC_SCRIPT, 0o755);
  await run(["sh", "-ec", 'cd -- "$1"; find . | busybox cpio -o -H newc 2>/dev/null | gzip -9 > "$2"', "initramfs", tree, out]);
}

/** Folder size in MiB (apparent, as mkfs.ext4 -d needs it). */
async function sizeMiB(dir: string): Promise<number> {
  const out = (await run(["du", "-s", "--block-size=1M", "--apparent-size", "--", dir])).stdout;
  return Number(out.split(/\s/)[0]);
}

/** MBR with a FAT32 boot partition (0x0c) and a Linux one (0x83), written into a plain file. */
async function writeDiskImage(image: string, bootDir: string, rootDir: string, rootMiB: number): Promise<void> {
  const rootStart = BOOT_START + BOOT_SIZE;
  const rootSize = rootMiB * MiB;
  const partitions = [
    { type: 0x0c, startLba: BOOT_START / 512, sectors: BOOT_SIZE / 512 },
    { type: 0x83, startLba: rootStart / 512, sectors: rootSize / 512 },
  ];
  writeFileSync(image, mbrSector(Number.parseInt(DISK_ID, 16), partitions));
  truncateSync(image, rootStart + rootSize); // sparse, full size
  // One sector per cluster: FAT32 needs >= 65525 clusters, or mtools takes it for FAT16.
  await run(["mkfs.vfat", "-F", "32", "-s", "1", "--offset", String(BOOT_START / 512), "-n", "bootfs", "--", image, String(BOOT_SIZE / 1024)], { env: MTOOLS_ENV });
  const entries = readdirSync(bootDir).map((name) => join(bootDir, name));
  await run(["mcopy", "-s", "-i", `${image}@@${BOOT_START}`, ...entries, "::/"], { env: MTOOLS_ENV });
  await run(["mkfs.ext4", "-q", "-F", "-L", "rootfs", "-d", rootDir, "-E", `offset=${rootStart}`, "--", image, `${rootSize / 1024}k`], { env: MTOOLS_ENV });
}

/**
 * Returns the Pi OS-shaped image, building it when absent or built from other inputs
 * (cold: the arm64 base rootfs if not cached, ~60 MB of .debs, mkfs, xz; measured in the README).
 */
export async function ensurePiOsImage(cacheDir: string, log: (line: string) => void = () => {}): Promise<PiOsImage> {
  const base = await ensureBaseRootfs(cacheDir, "arm64", log);
  const dir = piImageDir(cacheDir);
  const key = imageKey(base);
  const stamp = readText(join(dir, STAMP))?.split("\n") ?? [];
  const image = join(dir, "raspios-shaped-arm64.img.xz");
  const bootDir = join(dir, "boot");
  if (stamp[0] === key && stamp[1] && existsSync(image)) return { image, bootDir, kernelRelease: stamp[1], key };

  log(`Building the Raspberry Pi OS-shaped arm64 image (once; cached in ${dir})`);
  const progress = stderrProgress("pi image arm64");
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    const debs = await downloadDebs(join(cacheDir, "vm", "apt-arm64"), progress);
    const kernelTree = join(partial, "kernel");
    const busyboxTree = join(partial, "busybox");
    await run(["dpkg-deb", "-x", "--", debs.kernel, kernelTree]);
    await run(["dpkg-deb", "-x", "--", debs.busybox, busyboxTree]);
    const kernelRelease = readdirSync(join(kernelTree, "lib/modules"))[0];
    progress(`kernel ${kernelRelease}`);

    // The boot partition: names as the Pi 4 and Pi 5 bootloaders ask for them.
    const boot = join(partial, "boot");
    const kernel = gzipSync(readFileSync(join(kernelTree, "boot", `vmlinuz-${kernelRelease}`)), { level: 6 });
    put(join(boot, "kernel8.img"), kernel);
    put(join(boot, "kernel_2712.img"), kernel);
    await buildInitramfs(partial, kernelTree, kernelRelease, busyboxTree, join(boot, "initramfs8"));
    put(join(boot, "initramfs_2712"), readFileSync(join(boot, "initramfs8")));
    put(join(boot, "bcm2711-rpi-4-b.dtb"), readFileSync(join(kernelTree, "usr/lib", `linux-image-${kernelRelease}`, "broadcom/bcm2711-rpi-4-b.dtb")));
    for (const f of PLACEHOLDERS) put(join(boot, f), `Placeholder of the lab's Raspberry Pi OS-shaped image: ${f} (the real file is Raspberry Pi's firmware)\n`);
    put(join(boot, "config.txt"), CONFIG_TXT);
    put(join(boot, "cmdline.txt"), CMDLINE_TXT);

    // The root: the cached arm64 userspace, shaped as Raspberry Pi OS ships it.
    const root = join(partial, "root");
    await run(["cp", "-a", "--reflink=auto", "--", base, root]);
    for (const p of [...CONTAINER_ONLY.map((u) => `etc/systemd/system/${u}`), ...ROOT_PRUNED]) rmSync(join(root, p), { recursive: true, force: true });
    for (const stampFile of readdirSync(root).filter((f) => f.startsWith(".lab-"))) rmSync(join(root, stampFile));
    put(join(root, "etc/hostname"), "raspberrypi\n");
    put(join(root, "etc/fstab"), FSTAB);
    mkdirSync(join(root, "boot/firmware"), { recursive: true });
    const rootMiB = Math.ceil((await sizeMiB(root)) * 1.3) + 64;
    const img = join(partial, "raspios-shaped-arm64.img");
    await writeDiskImage(img, boot, root, rootMiB);
    progress(`compressing ${Math.round(statSync(img).size / MiB)} MiB image`);
    await run(["xz", "-T2", "-3", "-f", "--", img]);
    rmSync(root, { recursive: true, force: true });
    rmSync(kernelTree, { recursive: true, force: true });
    rmSync(busyboxTree, { recursive: true, force: true });
    rmSync(join(partial, "initramfs"), { recursive: true, force: true });
    writeFileSync(join(partial, STAMP), `${key}\n${kernelRelease}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(partial, dir);
    progress.done(`built ${image} (${kernelRelease})`);
    return { image, bootDir, kernelRelease, key };
  } catch (e) {
    rmSync(partial, { recursive: true, force: true });
    throw e;
  }
}
