/**
 * disk_info: what one disk holds, read in ONE round trip and never written to. The disk is
 * named by a path (/dev/disk/by-id/..., /dev/sda) or `serial:XXXX` (as `lsblk -o SERIAL`
 * shows it). The probe prints `lsblk -J` of the disk's tree, `blkid -p` (the low-level probe,
 * not the udev cache) of the disk and each partition, and the mount points of every device
 * below the disk (mountinfo by device number, plus lsblk's [SWAP]); `parseDiskProbe` turns
 * that into `disk` (and `disks`, every disk of the host, for a message when it is missing).
 * Roles decide from these facts; deciding is not this module's business.
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { requireSuccess, schemaHeader } from "./support/system.ts";
import { humanBytes } from "./filesystem.ts";
import { partitionPath } from "./parted.ts";
import { unescapeMountField } from "../facts/mounts.ts";

interface DiskInfoArgs {
  device: string;
}

/** A partition of the disk, as blkid -p reads it. */
export interface DiskPartition {
  path: string;
  size: number | null;
  /** Filesystem or other content (ext4, swap, LVM2_member); null when blkid finds none. */
  fstype: string | null;
  label: string | null;
  uuid: string | null;
  /** The GPT partition name (PART_ENTRY_NAME). */
  partname: string | null;
  mountpoints: string[];
}

/** One disk of the host, for naming the choices when the wanted one is missing. */
export interface HostDisk {
  path: string;
  type: string;
  size: number | null;
  serial: string | null;
  model: string | null;
}

export interface DiskState {
  /** As named in the arguments. */
  device: string;
  exists: boolean;
  /** The device node it resolves to (symlinks followed, serial looked up). */
  path: string | null;
  /** lsblk's TYPE: disk, loop, part, rom, lvm, ...; null when not a block device. */
  type: string | null;
  size: number | null;
  serial: string | null;
  model: string | null;
  /** Partition table type (gpt, dos) from blkid -p; null when none. */
  pttype: string | null;
  /** A signature on the whole disk (a filesystem without a partition table, a RAID member...). */
  signature: { type: string; label: string | null; uuid: string | null } | null;
  partitions: DiskPartition[];
  /** Everything mounted (or swapped on) from the disk or anything below it. */
  mountpoints: string[];
  /** Devices blkid -p could not read or classify (e.g. ambivalent signatures): never blank. */
  unreadable: string[];
  /** No partition table, no signature, no partition, nothing mounted, nothing unreadable. */
  blank: boolean;
  /** It holds the running system: /, /boot, /boot/firmware or an active swap is on it. */
  system: boolean;
  /** The path its first partition has (or will have): /dev/sda1, /dev/nvme0n1p1. */
  first_partition: string | null;
  /** One line: what is on the disk, or why it cannot be read. */
  summary: string;
}

const SYSTEM_MOUNTS = new Set(["/", "/boot", "/boot/firmware", "[SWAP]"]);

/** The probe; the device goes in as a quoted value and every program gets it after `--`. */
export function diskProbe(device: string): string {
  return [
    "export LC_ALL=C",
    sh`d=${device}`,
    "disk=",
    'case "$d" in',
    '  serial:*) want=${d#serial:}; disk=$(lsblk -d -n -r -o PATH,SERIAL | while read -r p s; do if [ "$s" = "$want" ]; then echo "$p"; break; fi; done) ;;',
    '  *) if [ -e "$d" ]; then disk=$(readlink -f -- "$d"); fi ;;',
    "esac",
    'echo "disk=$disk"',
    "echo @@disks",
    "lsblk -J -b -d -o PATH,TYPE,SIZE,SERIAL,MODEL 2>&1",
    'if [ -n "$disk" ] && [ -b "$disk" ]; then',
    "  echo @@tree",
    '  lsblk -J -b -o PATH,MAJ:MIN,TYPE,SIZE,SERIAL,MODEL,MOUNTPOINT -- "$disk" 2>&1',
    "  echo @@mountinfo",
    '  mm=" $(lsblk -n -r -o MAJ:MIN -- "$disk" | tr \'\\n\' \' \')"',
    '  awk -v mm="$mm" \'index(mm, " " $3 " ") { print $3, $5 }\' /proc/self/mountinfo',
    '  lsblk -n -r -o PATH,TYPE -- "$disk" | while read -r p t; do',
    '    case "$t" in disk|loop|part) echo "@@blkid $p"; blkid -p -o export -- "$p" 2>&1; echo "rc=$?" ;; esac',
    "  done",
    "fi",
  ].join("\n");
}

interface LsblkNode {
  path?: string;
  name?: string;
  "maj:min"?: string;
  type?: string;
  size?: number | string | null;
  serial?: string | null;
  model?: string | null;
  mountpoint?: string | null;
  children?: LsblkNode[];
}

/** Sections of the probe's output: "disk=..." head, then "@@name [arg]" blocks. */
function sections(stdout: string): { head: string; blocks: Array<{ name: string; arg: string; body: string }> } {
  const blocks: Array<{ name: string; arg: string; body: string[] }> = [];
  const head: string[] = [];
  for (const line of stdout.split("\n")) {
    const m = /^@@([a-z]+)(?: (.*))?$/.exec(line);
    if (m) blocks.push({ name: m[1], arg: m[2] ?? "", body: [] });
    else (blocks.length ? blocks[blocks.length - 1].body : head).push(line);
  }
  return { head: head.join("\n"), blocks: blocks.map((b) => ({ ...b, body: b.body.join("\n") })) };
}

function lsblkDevices(json: string): LsblkNode[] {
  if (!json.trim()) return [];
  try {
    return (JSON.parse(json) as { blockdevices?: LsblkNode[] }).blockdevices ?? [];
  } catch {
    throw new ModuleFailure(`The lsblk on this host cannot print JSON (util-linux 2.33 or later is needed): "${json.trim().slice(0, 200)}"`);
  }
}

function number(v: number | string | null | undefined): number | null {
  if (v === null || v === undefined || v === "") return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function text(v: string | null | undefined): string | null {
  const t = v?.trim();
  return t ? t : null;
}

/**
 * `blkid -p -o export` lines: KEY=value, with blkid's backslash escapes undone. Any other line
 * is blkid's own error (it says rc 2, "nothing found", even when it could not open the device).
 */
function blkidValues(body: string): { values: Map<string, string>; rc: number; error: boolean } {
  const values = new Map<string, string>();
  let rc = -1; // no rc line: the output was cut short
  let error = false;
  for (const line of body.split("\n")) {
    if (!line) continue;
    const status = /^rc=(\d+)$/.exec(line);
    const pair = /^([A-Z_]+)=(.*)$/.exec(line);
    if (status) rc = Number(status[1]);
    else if (!pair) error = true;
    else if (!values.has(pair[1])) values.set(pair[1], pair[2].replace(/\\(.)/g, "$1"));
  }
  return { values, rc, error };
}

function walk(node: LsblkNode, visit: (n: LsblkNode) => void): void {
  visit(node);
  for (const child of node.children ?? []) walk(child, visit);
}

function describe(d: Omit<DiskState, "summary">): string {
  const size = d.size === null ? "" : ` (${humanBytes(d.size)})`;
  let s = `${d.path}${size}: partition table ${d.pttype ?? "none"}`;
  if (d.signature) s += `, whole-disk signature ${d.signature.type} label=${d.signature.label ?? ""}`;
  for (const p of d.partitions) {
    s += `; ${p.path}${p.size === null ? "" : ` ${humanBytes(p.size)}`} fstype=${p.fstype ?? ""} label=${p.label ?? ""}`;
    if (p.mountpoints.length) s += ` mounted on ${p.mountpoints.join(", ")}`;
  }
  const ownMounts = d.mountpoints.filter((m) => !d.partitions.some((p) => p.mountpoints.includes(m)));
  if (ownMounts.length) s += `; mounted: ${ownMounts.join(", ")}`;
  if (d.unreadable.length) s += `; blkid cannot tell what ${d.unreadable.join(", ")} hold(s)`;
  return s;
}

function listDisks(disks: HostDisk[]): string {
  return disks.map((x) => [x.path, x.serial, x.size === null ? null : humanBytes(x.size)].filter(Boolean).join(" ")).join("; ") || "none";
}

/** Parses diskProbe's output. Pure. */
export function parseDiskProbe(device: string, stdout: string): { disk: DiskState; disks: HostDisk[] } {
  const { head, blocks } = sections(stdout);
  const path = text(/^disk=(.*)$/m.exec(head)?.[1]);
  const block = (name: string) => blocks.find((b) => b.name === name)?.body ?? "";
  const disks: HostDisk[] = lsblkDevices(block("disks")).map((n) => ({
    path: n.path ?? n.name ?? "",
    type: n.type ?? "",
    size: number(n.size),
    serial: text(n.serial),
    model: text(n.model),
  }));
  const empty: Omit<DiskState, "summary"> = {
    device, exists: path !== null, path, type: null, size: null, serial: null, model: null, pttype: null, signature: null,
    partitions: [], mountpoints: [], unreadable: [], blank: false, system: false, first_partition: null,
  };
  // lsblk nests what is below the disk under `children`; where /sys is private (containers)
  // it lists the partitions after the disk instead. Either way: the disk first, then its tree.
  const tree = lsblkDevices(block("tree"));
  const root = tree[0];
  if (!path || !root) {
    const why = !path
      ? device.startsWith("serial:")
        ? `no disk with serial ${device.slice(7)}`
        : `${device} does not exist`
      : `${path} is not a block device`;
    const summary = path ? why : `${why} (disks: ${listDisks(disks)})`;
    return { disk: { ...empty, summary }, disks };
  }

  // Mount points by device number (mountinfo), and lsblk's (which adds [SWAP]).
  const mountsByDevice = new Map<string, string[]>();
  for (const line of block("mountinfo").split("\n")) {
    const [majMin, target] = line.split(" ");
    if (!majMin || !target) continue;
    mountsByDevice.set(majMin, [...(mountsByDevice.get(majMin) ?? []), unescapeMountField(target)]);
  }
  const mountsOf = (n: LsblkNode): string[] => {
    const all = [...(mountsByDevice.get(n["maj:min"] ?? "") ?? []), ...(n.mountpoint ? [n.mountpoint] : [])];
    return [...new Set(all)];
  };
  const probes = new Map(blocks.filter((b) => b.name === "blkid").map((b) => [b.arg, blkidValues(b.body)]));
  const unreadable: string[] = [];
  // blkid -p: rc 0 found something, rc 2 found nothing; anything else (8: ambivalent) is unknown.
  const probe = (p: string): Map<string, string> => {
    const r = probes.get(p);
    if (!r || r.error || (r.rc !== 0 && r.rc !== 2)) unreadable.push(p);
    return r?.values ?? new Map();
  };

  const diskPath = root.path ?? root.name ?? path;
  const own = probe(diskPath);
  const partitions: DiskPartition[] = [];
  const mountpoints: string[] = [];
  for (const top of tree) walk(top, (n) => {
    mountpoints.push(...mountsOf(n).filter((m) => !mountpoints.includes(m)));
    if (n === root || n.type !== "part") return;
    const p = n.path ?? n.name ?? "";
    const v = probe(p);
    partitions.push({
      path: p,
      size: number(n.size),
      fstype: text(v.get("TYPE")),
      label: text(v.get("LABEL")),
      uuid: text(v.get("UUID")),
      partname: text(v.get("PART_ENTRY_NAME")),
      mountpoints: mountsOf(n),
    });
  });
  const sigType = text(own.get("TYPE"));
  const state: Omit<DiskState, "summary"> = {
    ...empty,
    path: diskPath,
    type: root.type ?? null,
    size: number(root.size),
    serial: text(root.serial),
    model: text(root.model),
    pttype: text(own.get("PTTYPE")),
    signature: sigType ? { type: sigType, label: text(own.get("LABEL")), uuid: text(own.get("UUID")) } : null,
    partitions,
    mountpoints,
    unreadable,
    system: mountpoints.some((m) => SYSTEM_MOUNTS.has(m)),
    first_partition: partitionPath(diskPath, 1),
  };
  state.blank = !state.pttype && !state.signature && partitions.length === 0 && mountpoints.length === 0 && unreadable.length === 0;
  return { disk: { ...state, summary: describe(state) }, disks };
}

export const diskInfo: ModuleDefinition<DiskInfoArgs> = {
  name: "disk_info",
  aliases: [],
  schema: {
    ...schemaHeader("disk_info", "Reads what one disk holds (partition table, signatures, partitions, mount points); never writes to it."),
    properties: {
      device: {
        type: "string",
        pattern: "^(serial:\\S.*|/\\S*)$",
        patternErrorMessage: "must be a /dev/disk/by-id/... path, serial:XXXX or a /dev/... path",
        description: "The disk: a /dev path (symlinks such as /dev/disk/by-id/... are followed) or serial:XXXX.",
      },
    },
    required: ["device"],
  },
  async plan(args, ctx) {
    const r = requireSuccess(await ctx.run(diskProbe(args.device)), `Cannot read ${args.device}`);
    const { disk, disks } = parseDiskProbe(args.device, r.stdout);
    return { changed: false, reason: disk.summary, result: { disk, disks } };
  },
};
