/**
 * What the user pointed us at, and whether we may write to it. An image file is fine. A block
 * device is refused when it or any of its partitions is mounted, used as swap, or held by
 * device-mapper/RAID (LVM, LUKS), and when it is the disk the controller's root filesystem
 * lives on: a card reader shows up as a disk, but so does the laptop's own SSD.
 */
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from "node:fs";
import { basename } from "node:path";
import { ExitCode, UserError } from "../errors.ts";

export interface Target {
  path: string;
  kind: "image" | "device";
}

/** A mount from /proc/self/mountinfo: the device's major:minor and the mount point. */
export interface MountEntry {
  dev: string;
  mountPoint: string;
  source: string;
}

export function parseMountinfo(text: string): MountEntry[] {
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const fields = line.split(" ");
      const dash = fields.indexOf("-");
      const unescape = (s: string) => s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
      return { dev: fields[2], mountPoint: unescape(fields[4]), source: unescape(fields[dash + 2] ?? "") };
    });
}

const refuse = (message: string, hint?: string) => new UserError(message, { exitCode: ExitCode.error, hint });

/** Linux's major:minor of a device number (st_rdev) as "8:16". */
export function devName(rdev: number): string {
  const major = Math.floor(rdev / 256) & 0xfff;
  const minor = (rdev & 0xff) | ((Math.floor(rdev / 4096) & 0xfff00) >>> 0);
  return `${major}:${minor}`;
}

/** The sysfs folder of a block device (major:minor), e.g. /sys/devices/.../block/sdb/sdb1. */
function sysfsOf(dev: string): string | undefined {
  try {
    return realpathSync(`/sys/dev/block/${dev}`);
  } catch {
    return undefined;
  }
}

/** The whole disk a block device belongs to, and the major:minor of the disk and all its partitions. */
function diskOf(dev: string): { disk: string; devs: Map<string, string> } | undefined {
  const sys = sysfsOf(dev);
  if (!sys) return undefined;
  const parts = sys.split("/");
  const at = parts.lastIndexOf("block");
  const diskDir = parts.slice(0, at + 2).join("/");
  const disk = parts[at + 1];
  const devs = new Map<string, string>([[readFileSync(`${diskDir}/dev`, "utf8").trim(), disk]]);
  for (const name of readdirSync(diskDir)) {
    if (name.startsWith(disk) && existsSync(`${diskDir}/${name}/dev`)) devs.set(readFileSync(`${diskDir}/${name}/dev`, "utf8").trim(), name);
  }
  return { disk, devs };
}

/** Disks under a device, following device-mapper/RAID slaves down to the real disks. */
function underlyingDisks(dev: string, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  const sys = sysfsOf(dev);
  if (!sys || seen.has(sys)) return out;
  seen.add(sys);
  const slavesDir = `${sys}/slaves`;
  const slaves = existsSync(slavesDir) ? readdirSync(slavesDir) : [];
  if (slaves.length === 0) {
    const d = diskOf(dev);
    if (d) out.add(d.disk);
    return out;
  }
  for (const s of slaves) {
    const sdev = readFileSync(`${slavesDir}/${s}/dev`, "utf8").trim();
    for (const d of underlyingDisks(sdev, seen)) out.add(d);
  }
  return out;
}

/** What the system says about the disk a block device belongs to. */
export interface DiskFacts {
  /** The whole disk's name (sdb, mmcblk0). */
  disk: string;
  /** major:minor -> name, for the disk and each of its partitions. */
  devs: Map<string, string>;
  mounts: MountEntry[];
  /** Disks under the root filesystem (through device-mapper/RAID). */
  rootDisks: Set<string>;
  /** Device paths in use as swap. */
  swaps: string[];
  /** name -> what holds it (dm-0, md0). */
  holders: Map<string, string[]>;
}

/** Why a disk must not be written (pure), or undefined when nothing uses it. */
export function whyNotWritable(path: string, f: DiskFacts): { message: string; hint?: string } | undefined {
  const name = JSON.stringify(path);
  if (f.rootDisks.has(f.disk)) {
    return { message: `Refusing ${name}: it is on /dev/${f.disk}, the disk this machine's root filesystem lives on`, hint: "Insert the card in a reader and give its device (lsblk shows which is which)." };
  }
  const mounted = f.mounts.filter((m) => f.devs.has(m.dev));
  if (mounted.length > 0) {
    const where = mounted.map((m) => `/dev/${f.devs.get(m.dev)} on ${m.mountPoint}`).join(", ");
    return { message: `Refusing ${name}: /dev/${f.disk} is mounted (${where})`, hint: `Unmount it first (umount ${[...new Set(mounted.map((m) => m.mountPoint))].join(" ")}); firstboot writes without mounting.` };
  }
  const names = new Set(f.devs.values());
  const swapped = f.swaps.filter((s) => names.has(basename(s)));
  if (swapped.length > 0) return { message: `Refusing ${name}: ${swapped.join(", ")} is in use as swap`, hint: `swapoff ${swapped.join(" ")} first.` };
  for (const [part, holders] of f.holders) {
    if (holders.length > 0) return { message: `Refusing ${name}: /dev/${part} is in use by ${holders.join(", ")} (device-mapper, LVM, RAID or encryption)` };
  }
  return undefined;
}

function diskFacts(dev: string): DiskFacts | undefined {
  const found = diskOf(dev);
  if (!found) return undefined;
  const mounts = parseMountinfo(readFileSync("/proc/self/mountinfo", "utf8"));
  const root = mounts.find((m) => m.mountPoint === "/");
  const swaps = existsSync("/proc/swaps") ? readFileSync("/proc/swaps", "utf8").split("\n").slice(1).map((l) => l.split(/\s+/)[0]).filter(Boolean) : [];
  const holders = new Map<string, string[]>();
  for (const [d, name] of found.devs) {
    const sys = sysfsOf(d);
    holders.set(name, sys && existsSync(`${sys}/holders`) ? readdirSync(`${sys}/holders`) : []);
  }
  return { ...found, mounts, rootDisks: root ? underlyingDisks(root.dev) : new Set(), swaps, holders };
}

/** Checks the target; throws a UserError saying why when it must not be written. */
export function inspectTarget(path: string): Target {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw refuse(`Target not found: ${JSON.stringify(path)}`, "Give the card's device (lsblk shows it, e.g. /dev/sdb) or an .img file.");
  }
  if (st.isFile()) return { path, kind: "image" };
  if (!st.isBlockDevice()) throw refuse(`${JSON.stringify(path)} is neither a block device nor an image file`);
  const dev = devName(st.rdev);
  const facts = diskFacts(dev);
  if (!facts) throw refuse(`Cannot find ${JSON.stringify(path)} (${dev}) in /sys/dev/block`, "Is it a block device of this machine?");
  const why = whyNotWritable(path, facts);
  if (why) throw refuse(why.message, why.hint);
  return { path, kind: "device" };
}
