/**
 * community.general.parted: partition tables and partitions, SAFELY. One probe
 * (`parted -s -m DEV unit B print` + blkid + mounts) and these rules:
 * - an existing partition or table is never removed or changed, except `state: absent` with
 *   the `number` of an unmounted partition;
 * - a disk whose table is of another label and holds partitions is refused, naming them;
 * - a disk with no table but a filesystem signature on the whole disk is refused;
 * - a new partition is made only where parted finds free space (it refuses overlaps).
 * After creating a partition it waits (bounded) for the partition's device node: on the lab
 * kernel the node appears only through BLKPG (parted) plus udev in the node.
 */
import type { ModuleDefinition, Probe } from "./types.ts";
import { readProbe } from "./probe.ts";
import { ModuleFailure } from "./types.ts";
import { sh, raw } from "../shell/quote.ts";
import { listArg, requireSuccess, schemaHeader, probeSection, probeValues } from "./support/system.ts";
import { RULES, schemaPattern } from "./support/values.ts";
import { describeSignature, humanBytes } from "./filesystem.ts";

interface PartedArgs {
  device: string;
  number?: number;
  state: "present" | "absent" | "info";
  label: string;
  part_start: string;
  part_end: string;
  part_type: "primary" | "extended" | "logical";
  fs_type?: string;
  name?: string;
  flags?: string[];
  unit: string;
  align: string;
  resize?: boolean;
}

export interface PartedPartition {
  num: number;
  begin: number;
  end: number;
  size: number;
  fstype: string;
  name: string;
  flags: string[];
}

export interface PartedDisk {
  dev: string;
  size: number;
  table: string;
  model: string;
  logical_block: number;
  physical_block: number;
}

/** Parses `parted -s -m DEV unit B print` (machine format, values in bytes). Pure. */
export function parsePartedMachine(stdout: string): { disk?: PartedDisk; partitions: PartedPartition[] } {
  const partitions: PartedPartition[] = [];
  let disk: PartedDisk | undefined;
  for (const raw of stdout.split("\n")) {
    const line = raw.trim().replace(/;$/, "");
    if (!line || line === "BYT" || line === "CHS" || line === "CYL") continue;
    const f = line.split(":");
    if (f[0].startsWith("/")) {
      disk = { dev: f[0], size: bytes(f[1]), table: f[5] ?? "unknown", model: f[6] ?? "", logical_block: Number(f[3]), physical_block: Number(f[4]) };
    } else if (/^\d+$/.test(f[0])) {
      partitions.push({ num: Number(f[0]), begin: bytes(f[1]), end: bytes(f[2]), size: bytes(f[3]), fstype: f[4] ?? "", name: f[5] ?? "", flags: (f[6] ?? "").split(",").map((s) => s.trim()).filter(Boolean) });
    }
  }
  return { disk, partitions };
}

/** What DISK_PROBE reads of a disk. */
export interface DiskLayout {
  exists: boolean;
  /** parted's view; undefined when parted could not read the disk (then partedSaid is why). */
  disk?: PartedDisk;
  partitions: PartedPartition[];
  partedSaid: string;
  /** What blkid finds on the whole disk. */
  signature: { type?: string; ptType?: string; label?: string; uuid?: string };
  /** Its mounted partitions (lsblk names). */
  mounted: Array<{ name: string; mountpoint: string }>;
}

/** A disk (or an image file): parted's table and partitions, blkid's signature, what is mounted. */
export const DISK_PROBE: Probe<{ dev: string }, DiskLayout> = {
  name: "disk-layout",
  command: ({ dev }) => [
    sh`d=${dev}`,
    `if [ ! -b "$d" ] && [ ! -f "$d" ]; then echo exists=no; exit 0; fi; echo exists=yes`,
    `echo @@parted; LC_ALL=C parted -s -m "$d" unit B print 2>&1`,
    `echo @@blkid; blkid -p -o export "$d" 2>/dev/null`,
    // Mounted partitions of this disk, as "name mountpoint".
    `echo @@mounts; lsblk -n -l -o NAME,MOUNTPOINT "$d" 2>/dev/null | awk 'NF == 2'`,
    "echo @@end",
  ].join("\n"),
  parse(r, { dev }) {
    requireSuccess(r, `Cannot inspect ${dev}`);
    const layout: DiskLayout = { exists: false, partitions: [], partedSaid: "", signature: {}, mounted: [] };
    if (probeValues(r.stdout.split("@@parted")[0]).get("exists") !== "yes") return layout;
    const partedOut = probeSection(r.stdout, "parted");
    const blkid = probeValues(probeSection(r.stdout, "blkid"));
    const { disk, partitions } = parsePartedMachine(partedOut);
    return {
      exists: true,
      disk,
      partitions,
      partedSaid: disk ? "" : partedOut.trim(),
      signature: { type: blkid.get("TYPE"), ptType: blkid.get("PTTYPE"), label: blkid.get("LABEL"), uuid: blkid.get("UUID") },
      mounted: probeSection(r.stdout, "mounts").split("\n").filter(Boolean).map((l) => l.split(/\s+/)).map(([name, mountpoint]) => ({ name, mountpoint })),
    };
  },
};

function bytes(text: string | undefined): number {
  return Number((text ?? "").replace(/B$/, ""));
}

/** /dev/sda + 1 -> /dev/sda1; /dev/loop0 or /dev/nvme0n1 + 1 -> ...p1 (kernel naming). */
export function partitionPath(device: string, number: number): string {
  return /\d$/.test(device) ? `${device}p${number}` : `${device}${number}`;
}

const UNITS: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

function inUnit(n: number, unit: string): number {
  const d = UNITS[unit] ?? 1024;
  return Math.round((n / d) * 1000) / 1000;
}

const POSITION = "^-?\\d+(\\.\\d+)?(%|B|s|[kKMGT]i?B|[KMGT])?$";

export const parted: ModuleDefinition<PartedArgs, { commands: string[]; waitFor?: string }> = {
  name: "parted",
  aliases: ["community.general.parted"],
  schema: {
    ...schemaHeader("parted", "Creates a partition table and partitions; never changes or removes existing ones unless asked by number."),
    properties: {
      device: { type: "string", ...schemaPattern(RULES.devicePath), description: "The block device (disk)." },
      number: { type: "integer", minimum: 1, description: "Partition number (required unless state is info)." },
      state: { type: "string", enum: ["present", "absent", "info"], default: "info" },
      label: { type: "string", enum: ["aix", "amiga", "bsd", "dvh", "gpt", "loop", "mac", "msdos", "pc98", "sun"], default: "msdos", description: "Partition table type (only used on a disk without one)." },
      part_start: { type: "string", pattern: POSITION, default: "0%", description: "Where the partition starts (0%, 1MiB, ...)." },
      part_end: { type: "string", pattern: POSITION, default: "100%", description: "Where it ends (100%, 10GiB, -1s, ...)." },
      part_type: { type: "string", enum: ["primary", "extended", "logical"], default: "primary" },
      fs_type: { type: "string", description: "Filesystem type hint for parted (it does not format)." },
      // parted reads options anywhere on its command line: a name must not start with "-".
      name: { type: "string", pattern: "^[^-\\n\\r][^\\n\\r]*$", patternErrorMessage: 'must be one line not starting with "-"', description: "Partition name (GPT)." },
      flags: { type: "array", items: { type: "string", pattern: "^[a-z_]+$", patternErrorMessage: "must be a parted flag name (lowercase letters and _)" }, description: "Flags to set (boot, esp, lvm, ...)." },
      unit: { type: "string", enum: ["s", "B", "KB", "KiB", "MB", "MiB", "GB", "GiB", "TB", "TiB", "%", "cyl", "chs", "compact"], default: "KiB", description: "Unit of the returned sizes." },
      align: { type: "string", enum: ["cylinder", "minimal", "none", "optimal", "undefined"], default: "optimal" },
      resize: { type: "boolean", description: "Not supported: accepted, an existing partition is never resized." },
    },
    required: ["device"],
    if: { properties: { state: { enum: ["present", "absent"] } }, required: ["state"] },
    then: { required: ["number"] },
  },
  async plan(args, ctx) {
    const dev = args.device;
    const found = await readProbe(ctx, DISK_PROBE, { dev });
    if (!found.exists) throw new ModuleFailure(`Device ${dev} not found.`);
    const { disk, partitions, signature, mounted } = found;
    if (!disk) throw new ModuleFailure(`parted could not read ${dev}: ${found.partedSaid}`);
    const unit = args.unit;
    const result = {
      disk: { ...disk, size: inUnit(disk.size, unit), unit: unit.toLowerCase() },
      partitions: partitions.map((p) => ({ num: p.num, begin: inUnit(p.begin, unit), end: inUnit(p.end, unit), size: inUnit(p.size, unit), fstype: p.fstype, name: p.name, flags: p.flags, unit: unit.toLowerCase() })),
    };
    if (args.state === "info") return { changed: false, reason: `${dev}: ${disk.table} table, ${partitions.length} partition(s)`, result };
    if (args.resize) ctx.warn("parted: resize is not supported; existing partitions are never resized");
    const number = args.number!;
    const existing = partitions.find((p) => p.num === number);
    const partPath = partitionPath(dev, number);

    if (args.state === "absent") {
      if (!existing) return { changed: false, reason: `partition ${number} of ${dev} is absent`, result };
      const busy = mounted.find((m) => partPath.endsWith(`/${m.name}`));
      if (busy) throw new ModuleFailure(`Refusing to remove partition ${number} of ${dev}: ${partPath} is mounted on ${busy.mountpoint}`, result);
      return { changed: true, msg: `partition ${number} removed from ${dev} (${humanBytes(existing.size)}${existing.fstype ? `, ${existing.fstype}` : ""})`, state: { commands: [sh`parted -s ${dev} rm ${number}`] }, result };
    }

    // Want partition but disk has no table?
    const hasTable = disk.table !== "unknown" && disk.table !== "";
    const commands: string[] = [];
    const done: string[] = [];
    if (!hasTable) {
      if (signature.type || signature.ptType) {
        const sig = { exists: true, ...signature, size: disk.size, mountpoints: [], partitions: [] };
        throw new ModuleFailure(`Refusing to partition ${dev}: it has no partition table parted knows but holds ${describeSignature(sig)}. Nothing was changed.`, result);
      }
      commands.push(sh`parted -s ${dev} mklabel ${args.label}`);
      done.push(`${args.label} label created`);
    } else if (disk.table !== args.label && !(disk.table === "msdos" && args.label === "msdos")) {
      if (partitions.length > 0) {
        const list = partitions.map((p) => `${p.num} (${humanBytes(p.size)}${p.fstype ? ` ${p.fstype}` : ""}${p.name ? ` "${p.name}"` : ""})`).join(", ");
        throw new ModuleFailure(`Refusing to change the partition table of ${dev} from ${disk.table} to ${args.label}: it holds partition(s) ${list}. Nothing was changed.`, result);
      }
      if (!existing) {
        commands.push(sh`parted -s ${dev} mklabel ${args.label}`);
        done.push(`${args.label} label created (the empty ${disk.table} table replaced)`);
      }
    }
    let waitFor: string | undefined;
    if (!existing) {
      const mkpart = sh`parted -s -a ${args.align} ${dev} -- mkpart ${args.part_type}${raw(args.fs_type ? " " + sh`${args.fs_type}` : "")} ${args.part_start} ${args.part_end}`;
      commands.push(mkpart);
      done.push(`partition ${number} created (${args.part_start}..${args.part_end})`);
      if (args.name) commands.push(sh`parted -s ${dev} name ${number} ${args.name}`);
      for (const flag of listArg(args.flags)) commands.push(sh`parted -s ${dev} set ${number} ${flag} on`);
      waitFor = partPath;
    } else {
      // Have it: only the name and flags may differ (never moved or resized).
      if (args.name !== undefined && existing.name !== args.name) {
        commands.push(sh`parted -s ${dev} name ${number} ${args.name}`);
        done.push(`partition ${number} renamed ${existing.name || "(none)"} -> ${args.name}`);
      }
      for (const flag of listArg(args.flags).filter((f) => !existing.flags.includes(f))) {
        commands.push(sh`parted -s ${dev} set ${number} ${flag} on`);
        done.push(`flag ${flag} set on ${number}`);
      }
    }
    if (commands.length === 0) return { changed: false, reason: `partition ${number} of ${dev} exists (${humanBytes(existing!.size)})`, result };
    return { changed: true, msg: `${dev}: ${done.join(", ")}`, state: { commands, waitFor }, result };
  },
  async apply(plan, args, ctx) {
    const s = plan.state!;
    const wait = s.waitFor
      ? // udev in the node creates the partition's node (BLKPG from parted); bounded, 10 s.
        sh`p=${s.waitFor}; d=${args.device}` + `; if [ -b "$d" ]; then i=0; while [ ! -b "$p" ] && [ $i -lt 100 ]; do udevadm settle --timeout=1 2>/dev/null || :; [ -b "$p" ] || sleep 0.1; i=$((i+1)); done; [ -b "$p" ] && echo node=ok || echo node=missing; fi`
      : "";
    const after = sh`LC_ALL=C parted -s -m ${args.device} unit B print`;
    const r = requireSuccess(await ctx.run([...s.commands, ...(wait ? [wait] : []), after].join(" && "), { timeoutMs: 120_000 }), `parted failed on ${args.device}`);
    if (s.waitFor && /node=missing/.test(r.stdout)) ctx.warn(`parted: ${s.waitFor} did not appear within 10 s (udev?)`);
    const { partitions } = parsePartedMachine(r.stdout.split("\n").filter((l) => !l.startsWith("node=")).join("\n"));
    if (args.state === "present" && !partitions.some((p) => p.num === args.number)) {
      throw new ModuleFailure(`parted created a partition on ${args.device}, but not number ${args.number} (now: ${partitions.map((p) => p.num).join(", ")}): the number must be the next free one`);
    }
    return { msg: plan.msg, result: { partitions: partitions.map((p) => ({ ...p, unit: "b" })) } };
  },
};
