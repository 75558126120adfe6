/**
 * Lists the members of an archive on the controller without extracting it: tar (plain or
 * gzip, read here; bzip2/xz/zstd through the controller's `tar -t`, names only) and zip
 * (its central directory). unarchive compares this list with the target in one probe.
 */
import { spawnSync } from "node:child_process";
import { gunzipSync } from "node:zlib";

export type ArchiveFormat = "tar" | "tar.gz" | "tar.bz2" | "tar.xz" | "tar.zst" | "zip";

export interface ArchiveMember {
  /** Relative path, no leading "./", no trailing "/". */
  path: string;
  type: "file" | "directory" | "link" | "hard";
  size?: number;
  /** Seconds since the epoch (tar only; zip's DOS times carry no zone). */
  mtime?: number;
}

/** Recognises the format by its magic bytes (extension is not trusted). */
export function archiveFormat(bytes: Uint8Array): ArchiveFormat | undefined {
  const b = Buffer.from(bytes.subarray(0, 512));
  if (b[0] === 0x1f && b[1] === 0x8b) return "tar.gz";
  if (b.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04])) || b.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x05, 0x06]))) return "zip";
  if (b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return "tar.xz";
  if (b.subarray(0, 3).toString("latin1") === "BZh") return "tar.bz2";
  if (b.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return "tar.zst";
  if (b.length >= 262 && b.subarray(257, 262).toString("latin1") === "ustar") return "tar";
  return undefined;
}

function cleanPath(p: string): string {
  return p.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
}

function cstr(b: Buffer, start: number, len: number): string {
  const s = b.subarray(start, start + len);
  const end = s.indexOf(0);
  return s.subarray(0, end < 0 ? s.length : end).toString("utf8");
}

function numeric(b: Buffer, start: number, len: number): number {
  if (b[start] & 0x80) {
    // base-256 (GNU) for big values
    let v = 0;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + b[i];
    return v;
  }
  return parseInt(cstr(b, start, len).trim() || "0", 8);
}

/** Members of a plain tar stream. */
export function listTar(buf: Buffer): ArchiveMember[] {
  const out: ArchiveMember[] = [];
  let off = 0;
  let longName: string | undefined;
  let pax: Record<string, string> = {};
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break;
    const name = cstr(h, 0, 100);
    const size = numeric(h, 124, 12);
    const mtime = numeric(h, 136, 12);
    const type = h[156] === 0 ? "0" : String.fromCharCode(h[156]);
    const prefix = cstr(h, 257, 6).startsWith("ustar") ? cstr(h, 345, 155) : "";
    off += 512;
    const data = buf.subarray(off, off + size);
    off += Math.ceil(size / 512) * 512;
    if (type === "L") {
      longName = cstr(data, 0, data.length);
      continue;
    }
    if (type === "x") {
      pax = parsePax(data.toString("utf8"));
      continue;
    }
    if (type === "g" || type === "K") continue;
    const path = cleanPath(pax.path ?? longName ?? (prefix ? `${prefix}/${name}` : name));
    longName = undefined;
    const member: ArchiveMember = {
      path,
      type: type === "5" ? "directory" : type === "2" ? "link" : type === "1" ? "hard" : "file",
      size: pax.size !== undefined ? Number(pax.size) : size,
      mtime: pax.mtime !== undefined ? Math.floor(Number(pax.mtime)) : mtime,
    };
    pax = {};
    if (path) out.push(member);
  }
  return out;
}

function parsePax(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^\d+ ([^=]+)=(.*)$/gm)) out[m[1]] = m[2];
  return out;
}

/** Members of a zip file, from its central directory. */
export function listZip(buf: Buffer): ArchiveMember[] {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("Not a zip file (no end of central directory)");
  const count = buf.readUInt16LE(eocd + 10);
  let off = buf.readUInt32LE(eocd + 16);
  const out: ArchiveMember[] = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(off) !== 0x02014b50) throw new Error("Corrupt zip central directory");
    const size = buf.readUInt32LE(off + 24);
    const nameLen = buf.readUInt16LE(off + 28);
    const extraLen = buf.readUInt16LE(off + 30);
    const commentLen = buf.readUInt16LE(off + 32);
    const attrs = buf.readUInt32LE(off + 38);
    const rawName = buf.subarray(off + 46, off + 46 + nameLen).toString("utf8");
    off += 46 + nameLen + extraLen + commentLen;
    const unixType = (attrs >>> 16) & 0o170000;
    const type = rawName.endsWith("/") || unixType === 0o040000 ? "directory" : unixType === 0o120000 ? "link" : "file";
    const path = cleanPath(rawName);
    if (path) out.push({ path, type, size: type === "file" ? size : undefined });
  }
  return out;
}

/** Members of an archive file on the controller. */
export function listArchive(file: string, bytes: Buffer, format: ArchiveFormat): ArchiveMember[] {
  if (format === "zip") return listZip(bytes);
  if (format === "tar") return listTar(bytes);
  if (format === "tar.gz") return listTar(gunzipSync(bytes));
  // No decompressor in node for these: the controller's tar lists names (compared by existence).
  const r = spawnSync("tar", ["-tf", file], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`Cannot list ${file}: ${r.stderr.trim()}`);
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => ({ path: cleanPath(line), type: line.endsWith("/") ? ("directory" as const) : ("file" as const) }))
    .filter((m) => m.path);
}
