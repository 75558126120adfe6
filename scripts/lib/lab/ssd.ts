/**
 * A node's "SSD": a sparse image on a loop device, passed into the container with a private
 * /sys/block that lists only that disk (so lsblk never shows the host's own disks). Partitions
 * appear through BLKPG (parted), which is all this kernel offers.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { run, tryRun } from "./exec.ts";

/** Creates the image and attaches it; returns the loop device (e.g. /dev/loop3). */
export async function attachSsd(image: string, size: string): Promise<string> {
  mkdirSync(dirname(image), { recursive: true });
  rmSync(image, { force: true });
  await run(["truncate", "-s", size, image]);
  const r = await run(["losetup", "--find", "--show", "--partscan", image]);
  return r.stdout.trim();
}

/** Loop devices whose backing file is under `dir` (found through `losetup -a`). */
export async function loopDevicesUnder(dir: string): Promise<string[]> {
  const r = await tryRun(["losetup", "--list", "--noheadings", "--output", "NAME,BACK-FILE"]);
  return r.stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([name, file]) => name && file && file.startsWith(dir + "/"))
    .map(([name]) => name);
}

/** Detaches a loop device (partitions go with it). */
export async function detachSsd(device: string): Promise<void> {
  await tryRun(["losetup", "-d", device]);
}

/** A folder to bind over the node's /sys/block listing only `device`. */
export function prepareSysBlock(nodeDir: string, device: string): string {
  const dir = join(nodeDir, "sysblock");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const name = device.replace(/^\/dev\//, "");
  symlinkSync(`../devices/virtual/block/${name}`, join(dir, name));
  return dir;
}

/**
 * The kernel announces every lab disk to every node's udev: hide the disks (and partitions)
 * that were not passed into this node from systemd and the /dev/disk/by-* links.
 */
const FOREIGN_DISK_RULES = `# Lab: ignore loop disks not passed into this node (their node is absent from our /dev).
SUBSYSTEM=="block", KERNEL=="loop*", ENV{DEVTYPE}=="disk", TEST!="/dev/$kernel", ENV{SYSTEMD_READY}="0", ENV{UDEV_DISABLE_PERSISTENT_STORAGE_RULES_FLAG}="1"
SUBSYSTEM=="block", KERNEL=="loop*", ENV{DEVTYPE}=="partition", TEST!="/dev/$parent", ENV{SYSTEMD_READY}="0", ENV{UDEV_DISABLE_PERSISTENT_STORAGE_RULES_FLAG}="1"
`;

/**
 * udev set-up of an SSD node: coldplug limited to its own disk (the container sees the host's
 * /sys), and other nodes' disks ignored.
 */
export function writeSsdUdevConfig(rootfs: string, device: string): void {
  const rules = join(rootfs, "etc/udev/rules.d/05-lab-foreign-disks.rules");
  mkdirSync(dirname(rules), { recursive: true });
  writeFileSync(rules, FOREIGN_DISK_RULES);
  const name = device.replace(/^\/dev\//, "");
  const file = join(rootfs, "etc/systemd/system/systemd-udev-trigger.service.d/lab-only-ssd.conf");
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    `# Lab: coldplug only the node's SSD (${device}), never the host's devices.\n[Service]\nExecStart=\nExecStart=-/bin/udevadm trigger --type=devices --action=add --subsystem-match=block --sysname-match=${name} --sysname-match=${name}p*\n`,
  );
}
