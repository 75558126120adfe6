/**
 * community.general.filesystem: makes a filesystem on a device, SAFELY. One probe (blkid -p,
 * size, mounts, partitions) decides:
 * - the same fstype already there -> ok;
 * - mounted -> refused, force or not;
 * - ANY other signature (another filesystem, a partition table, RAID/LVM member, swap) ->
 *   refused with what was found (TYPE, LABEL, UUID, size) unless force: true.
 * Nothing is erased without force. state absent (wipefs) needs force too (Ansible does not ask).
 */
import type { ModuleDefinition, Probe } from "./types.ts";
import { readProbe } from "./probe.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { splitArgs } from "./support/shlex.ts";
import { RULES, schemaPattern } from "./support/values.ts";
import { requireSuccess, schemaHeader, probeSection, probeValues } from "./support/system.ts";

interface FilesystemArgs {
  dev: string;
  fstype?: string;
  opts?: string;
  force: boolean;
  resizefs: boolean;
  state: "present" | "absent";
}

/** What a device holds, from `blkid -p -o export` and friends. */
export interface DeviceSignature {
  exists: boolean;
  /** Filesystem or other content type (ext4, xfs, swap, LVM2_member, ...). */
  type?: string;
  /** Partition table type (gpt, dos) when the device is a partitioned disk. */
  ptType?: string;
  label?: string;
  uuid?: string;
  size?: number;
  mountpoints: string[];
  /** Partitions below it (lsblk children). */
  partitions: string[];
}

/** The probe: block device or file, blkid, size, mount points, child partitions. */
export function signatureProbe(dev: string): string {
  return [
    sh`d=${dev}`,
    `if [ ! -b "$d" ] && [ ! -f "$d" ]; then echo exists=no; exit 0; fi; echo exists=yes`,
    `echo "size=$(blockdev --getsize64 "$d" 2>/dev/null || stat -L -c %s "$d")"`,
    `echo @@blkid; blkid -p -o export "$d" 2>/dev/null`,
    // Mount points by device number (mountinfo field 3), which also catches /dev/disk/by-* names.
    `echo @@mounts; n=$(stat -L -c '%t:%T' "$d" 2>/dev/null); if [ -b "$d" ]; then mm="$((0x\${n%:*})):$((0x\${n#*:}))"; awk -v mm="$mm" '$3 == mm { print $5 }' /proc/self/mountinfo; fi`,
    `echo @@parts; if [ -b "$d" ]; then lsblk -n -l -o NAME,TYPE "$d" 2>/dev/null | awk 'NR > 1 && $2 == "part" { print $1 }'; fi`,
    "echo @@end",
  ].join("\n");
}

/** Parses signatureProbe's output. Pure. */
export function parseSignature(stdout: string): DeviceSignature {
  const head = probeValues(stdout.split("@@blkid")[0]);
  if (head.get("exists") !== "yes") return { exists: false, mountpoints: [], partitions: [] };
  const blkid = probeValues(probeSection(stdout, "blkid"));
  const size = Number(head.get("size"));
  return {
    exists: true,
    type: blkid.get("TYPE"),
    ptType: blkid.get("PTTYPE"),
    label: blkid.get("LABEL"),
    uuid: blkid.get("UUID"),
    size: Number.isFinite(size) ? size : undefined,
    mountpoints: probeSection(stdout, "mounts").split("\n").filter(Boolean),
    partitions: probeSection(stdout, "parts").split("\n").filter(Boolean),
  };
}

/** What a device (or an image file) holds. */
export const SIGNATURE_PROBE: Probe<{ dev: string }, DeviceSignature> = {
  name: "device-signature",
  command: ({ dev }) => signatureProbe(dev),
  parse: (r, { dev }) => parseSignature(requireSuccess(r, `Cannot inspect ${dev}`).stdout),
};

/** "ext4 (LABEL=data, UUID=...), 1.0 GiB" */
export function describeSignature(s: DeviceSignature): string {
  const what: string[] = [];
  if (s.ptType) what.push(`a ${s.ptType} partition table${s.partitions.length ? ` with ${s.partitions.length} partition(s): ${s.partitions.join(", ")}` : ""}`);
  if (s.type) {
    const ids = [s.label ? `LABEL=${s.label}` : "", s.uuid ? `UUID=${s.uuid}` : ""].filter(Boolean);
    what.push(`a ${s.type} signature${ids.length ? ` (${ids.join(", ")})` : ""}`);
  }
  if (!s.ptType && s.partitions.length) what.push(`partitions ${s.partitions.join(", ")}`);
  const size = s.size !== undefined ? `, size ${humanBytes(s.size)}` : "";
  return `${what.join(" and ") || "nothing"}${size}`;
}

export function humanBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** The mkfs command for a type; `force` adds the tool's own force flag. */
export function mkfsCommand(fstype: string, dev: string, opts: string | undefined, force: boolean): string {
  const extra = opts ? sh`${splitArgs(opts)}` + " " : "";
  const forceFlag: Record<string, string> = { ext2: "-F ", ext3: "-F ", ext4: "-F ", xfs: "-f ", btrfs: "-f ", f2fs: "-f ", swap: "-f " };
  const f = force ? forceFlag[fstype] ?? "" : "";
  if (fstype === "swap") return `mkswap ${f}${extra}${sh`${dev}`}`;
  if (/^ext[234]$/.test(fstype)) return `mkfs.${fstype} -q ${f}${extra}${sh`${dev}`}`;
  if (/^[a-z0-9]+$/.test(fstype)) return `mkfs.${fstype} ${f}${extra}${sh`${dev}`}`;
  throw new ModuleFailure(`Unsupported fstype ${fstype}`);
}

export const filesystem: ModuleDefinition<FilesystemArgs, { command: string }> = {
  name: "filesystem",
  aliases: ["community.general.filesystem"],
  schema: {
    ...schemaHeader("filesystem", "Makes a filesystem on a block device; refuses a device that holds anything unless force."),
    properties: {
      dev: { type: "string", aliases: ["device"], ...schemaPattern(RULES.devicePath), description: "Target block device (or a regular file), an absolute path." },
      fstype: { type: "string", aliases: ["type"], enum: ["ext2", "ext3", "ext4", "xfs", "btrfs", "vfat", "f2fs", "swap", "exfat", "ntfs"], description: "Filesystem type." },
      opts: { type: "string", description: "Options for mkfs (e.g. \"-L data\")." },
      force: { type: "boolean", default: false, description: "Create even when the device holds a signature (DESTROYS its data)." },
      resizefs: { type: "boolean", default: false, description: "Not supported: accepted, warns." },
      state: { type: "string", enum: ["present", "absent"], default: "present" },
    },
    required: ["dev"],
    if: { properties: { state: { const: "present" } } },
    then: { required: ["fstype"] },
  },
  async plan(args, ctx) {
    const dev = args.dev;
    const fstype = args.fstype;
    const sig = await readProbe(ctx, SIGNATURE_PROBE, { dev });
    const result = { dev, fstype, found: sig.exists ? { type: sig.type ?? null, pttype: sig.ptType ?? null, label: sig.label ?? null, uuid: sig.uuid ?? null, size: sig.size ?? null, mountpoints: sig.mountpoints, partitions: sig.partitions } : null };
    if (!sig.exists) throw new ModuleFailure(`Device ${dev} not found.`, result);
    if (args.resizefs) ctx.warn("filesystem: resizefs is not supported; the filesystem is left at its size");
    const hasSomething = !!(sig.type || sig.ptType || sig.partitions.length);
    if (args.state === "absent") {
      if (!hasSomething) return { changed: false, reason: `${dev} holds no signature`, result };
      if (sig.mountpoints.length) throw new ModuleFailure(`Refusing to wipe ${dev}: mounted on ${sig.mountpoints.join(", ")}`, result);
      if (!args.force) throw new ModuleFailure(`Refusing to wipe ${dev}: it holds ${describeSignature(sig)}. Set force: true to erase it.`, result);
      return { changed: true, msg: `signatures wiped from ${dev} (${describeSignature(sig)})`, state: { command: sh`wipefs -a ${dev}` }, result };
    }
    // Have the wished filesystem already?
    if (sig.type === fstype && !sig.ptType) return { changed: false, reason: `${dev} already has ${fstype}${sig.uuid ? ` (UUID=${sig.uuid})` : ""}`, result: { ...result, uuid: sig.uuid } };
    if (sig.mountpoints.length) throw new ModuleFailure(`Refusing to create ${fstype} on ${dev}: it is mounted on ${sig.mountpoints.join(", ")} (holds ${describeSignature(sig)})`, result);
    if (hasSomething && !args.force) {
      throw new ModuleFailure(`Refusing to create ${fstype} on ${dev}: it holds ${describeSignature(sig)}. Nothing was changed; set force: true only if that data may be destroyed.`, result);
    }
    const wipe = hasSomething ? sh`wipefs -a ${dev} >/dev/null && ` : "";
    const command = `${wipe}${mkfsCommand(fstype!, dev, args.opts, args.force)} && ${sh`blkid -p -s UUID -o value ${dev}`} | sed 's/^/uuid=/'`;
    const msg = hasSomething ? `${fstype} created on ${dev}, destroying ${describeSignature(sig)} (force)` : `${fstype} created on ${dev}`;
    return { changed: true, msg, state: { command }, result };
  },
  async apply(plan, args, ctx) {
    const dev = args.dev;
    const r = requireSuccess(await ctx.run(plan.state!.command, { timeoutMs: 30 * 60_000 }), `Cannot create the filesystem on ${dev}`);
    const uuid = /^uuid=(\S+)$/m.exec(r.stdout)?.[1];
    return { msg: plan.msg, result: uuid ? { uuid } : {} };
  },
};

