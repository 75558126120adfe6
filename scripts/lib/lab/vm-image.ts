/**
 * The root filesystem a lab virtual machine boots: the cached base rootfs (rootfs.ts) plus a
 * kernel, its initramfs and what a netboot master or an NFS-root client needs, installed once
 * in a copy and cached beside the base, keyed by what went in. Package installs inside a TCG
 * guest are slow (see shared/notes/lab-vm.md), so everything the tests need is installed here.
 */
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { run } from "./exec.ts";
import type { NodeArch } from "./config.ts";
import { baseRootfsDir, ensureBaseRootfs, stderrProgress } from "./rootfs.ts";

/** Bump when anything below changes: cached images of an older version are rebuilt. */
export const VM_IMAGE_VERSION = 4;

/**
 * Installed on top of the base rootfs. The stock initramfs (MODULES=most) already holds nfs,
 * virtio and klibc's nfsmount, so one kernel + initrd boots from a disk and from NFS.
 */
export const VM_PACKAGES: Record<NodeArch, string[]> = {
  amd64: ["linux-image-amd64", "initramfs-tools", "nfs-kernel-server", "nfs-common", "dnsmasq-base", "pxelinux", "syslinux-common", "zstd", "xz-utils"],
  arm64: ["linux-image-arm64", "initramfs-tools", "nfs-kernel-server", "nfs-common", "dnsmasq-base", "zstd", "xz-utils"],
};

/**
 * A small initramfs (netboot: file systems, NFS, virtio and NIC drivers, ~3x smaller than
 * `most`): a diskless client fetches it over TFTP, slow under TCG. virtio_blk for VM nodes'
 * disks, listed since `netboot` skips block drivers.
 */
const INITRAMFS_CONF = "# Lab VM image: small initramfs for TFTP (see vm-image.ts)\nMODULES=netboot\n";
const INITRAMFS_MODULES = "# Lab VM image: the VM nodes' root disk\nvirtio_blk\nvirtio_net\n";

/** Units the container base masks that a real kernel needs (NFS's rpc_pipefs). */
const UNMASKED_UNITS = ["run-rpc_pipefs.mount"];
/** Container-only units of the base (a VM has a real /dev and udev): not started in a VM. */
const CONTAINER_ONLY_WANTS = ["sysinit.target.wants/lab-devices-settled.service"];

/** A built image: its root tree, and the kernel and initramfs copied out of it. */
export interface VmImage {
  rootfs: string;
  kernel: string;
  initrd: string;
  key: string;
}

const STAMP = ".lab-vm-image";

/** Where the VM root of `arch` is cached. */
export function vmImageDir(cacheDir: string, arch: NodeArch): string {
  return join(cacheDir, "vm", `bookworm-${arch}`);
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** What went into an image: the base's stamps, the packages and this file's version. */
function imageKey(base: string, arch: NodeArch): string {
  const hash = createHash("sha256");
  for (const stamp of [".lab-debootstrap", ".lab-rootfs"]) hash.update(readText(join(base, stamp)) ?? "");
  hash.update(`${VM_IMAGE_VERSION} ${arch} ${VM_PACKAGES[arch].join(",")}`);
  return hash.digest("hex").slice(0, 16);
}

/** The newest file in `dir` starting with `prefix` (vmlinuz-6.1.0-28-amd64, ...). */
function newest(dir: string, prefix: string): string {
  const found = readdirSync(dir).filter((f) => f.startsWith(prefix)).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  if (found.length === 0) throw new Error(`No ${prefix}* in ${dir}: the kernel package did not install there`);
  return found[found.length - 1];
}

/** Runs a command inside `root` with systemd-nspawn (not booted; host network, host DNS). */
function inRoot(root: string, command: string[], onOutput?: (chunk: string) => void) {
  return run(
    ["systemd-nspawn", "--quiet", "--register=no", "--keep-unit", "--resolv-conf=bind-host", "--timezone=off", `--directory=${root}`, ...command],
    { env: { DEBIAN_FRONTEND: "noninteractive" }, onOutput },
  );
}

/**
 * Returns the VM image of `arch`, building it when absent or built from other inputs
 * (amd64 ~1-2 min; arm64 much longer: dpkg and update-initramfs run under qemu-user).
 */
export async function ensureVmImage(cacheDir: string, arch: NodeArch, log: (line: string) => void = () => {}): Promise<VmImage> {
  const base = await ensureBaseRootfs(cacheDir, arch, log);
  const dir = vmImageDir(cacheDir, arch);
  const key = imageKey(base, arch);
  const image = { rootfs: join(dir, "rootfs"), kernel: join(dir, "vmlinuz"), initrd: join(dir, "initrd.img"), key };
  if (readText(join(dir, STAMP)) === key && existsSync(image.kernel)) return image;

  log(`Building the ${arch} VM image (kernel, initramfs, NFS server; once; cached in ${dir})`);
  const progress = stderrProgress(`vm image ${arch}`);
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(join(partial, "rootfs"), { recursive: true });
  const root = join(partial, "rootfs");
  await run(["cp", "-a", "--reflink=auto", `${baseRootfsDir(cacheDir, arch)}/.`, root]);
  const apt = ["apt-get", "-q", "-y", "-o", "Dpkg::Use-Pty=0"];
  await inRoot(root, [...apt, "update"], (c) => progress(c.trim().split("\n").pop() ?? ""));
  await inRoot(root, [...apt, "install", "--no-install-recommends", "--", ...VM_PACKAGES[arch]], (c) => progress(c.trim().split("\n").pop() ?? ""));
  rmSync(join(root, "var/cache/apt/archives"), { recursive: true, force: true });
  mkdirSync(join(root, "var/cache/apt/archives/partial"), { recursive: true });
  // The package lists stay (as in the container base): roles install without an update.
  for (const unit of [...UNMASKED_UNITS, ...CONTAINER_ONLY_WANTS]) rmSync(join(root, "etc/systemd/system", unit), { force: true });
  writeFileSync(join(root, "etc/initramfs-tools/conf.d/lab.conf"), INITRAMFS_CONF);
  appendFileSync(join(root, "etc/initramfs-tools/modules"), INITRAMFS_MODULES);
  await inRoot(root, ["update-initramfs", "-u", "-k", "all"], (c) => progress(c.trim().split("\n").pop() ?? ""));
  // A package's own nfs-server/dnsmasq would run on every VM: roles enable what they need.
  await inRoot(root, ["systemctl", "disable", "nfs-server.service"]);
  // Stable names inside the root too (the netboot role serves <root>/boot/vmlinuz and initrd.img).
  const bootDir = join(root, "boot");
  const kernelName = newest(bootDir, "vmlinuz-");
  const initrdName = newest(bootDir, "initrd.img-");
  for (const [link, target] of [["vmlinuz", kernelName], ["initrd.img", initrdName]]) {
    rmSync(join(bootDir, link), { force: true });
    symlinkSync(target, join(bootDir, link));
  }
  await run(["cp", "--", join(bootDir, kernelName), join(partial, "vmlinuz")]);
  await run(["cp", "--", join(bootDir, initrdName), join(partial, "initrd.img")]);
  writeFileSync(join(partial, STAMP), key);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(cacheDir, "vm"), { recursive: true });
  renameSync(partial, dir);
  progress.done(`built ${dir} (${kernelName})`);
  return image;
}

/**
 * Drivers no lab VM has (graphics, sound, media, wireless, ...): left out of the netboot
 * client tarball, which the master receives over SSH and unpacks under emulation.
 */
const TARBALL_EXCLUDES = [
  "./usr/lib/modules/*/kernel/drivers/gpu", "./usr/lib/modules/*/kernel/drivers/media",
  "./usr/lib/modules/*/kernel/drivers/net/wireless", "./usr/lib/modules/*/kernel/drivers/infiniband",
  "./usr/lib/modules/*/kernel/drivers/iio", "./usr/lib/modules/*/kernel/sound",
  ...["scsi", "usb", "staging", "hwmon", "platform", "hid", "input", "mtd", "comedi", "target", "video", "isdn", "bluetooth", "mmc", "i2c", "watchdog"].map((d) => `./usr/lib/modules/*/kernel/drivers/${d}`),
  "./usr/share/doc", "./usr/share/man", "./usr/share/locale", "./var/cache/apt/*.bin",
];

/**
 * The VM root as a root filesystem tarball (.tar.zst), what roles/netboot-master imports as
 * the OS tree of its clients: a real kernel and an initramfs that mounts an NFS root. Cached
 * beside the image, made again when the image changes.
 */
export async function ensureVmRootTarball(cacheDir: string, image: VmImage): Promise<string> {
  const tarball = join(cacheDir, "vm", `netboot-root-${image.key}.tar.zst`);
  if (existsSync(tarball)) return tarball;
  // Tarballs of older images are of no use any more.
  for (const f of readdirSync(dirname(tarball))) if (f.startsWith("netboot-root-")) rmSync(join(dirname(tarball), f), { force: true });
  const partial = `${tarball}.partial`;
  await run(["tar", "--zstd", "-cf", partial, "--numeric-owner", ...TARBALL_EXCLUDES.map((e) => `--exclude=${e}`), "-C", image.rootfs, "."]);
  renameSync(partial, tarball);
  return tarball;
}
