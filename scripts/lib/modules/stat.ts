/**
 * ansible.builtin.stat: facts about one path, in `register`'s `stat` with Ansible's field
 * names. Read-only: never changed, one round trip.
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { maskSecrets } from "../shell/secret.ts";
import { CHECKSUM_ALGORITHMS } from "./remote-file.ts";

interface StatArgs {
  path: string;
  follow?: boolean;
  get_checksum?: boolean;
  checksum_algorithm: string;
  get_mime?: boolean;
  get_attributes?: boolean;
}

const schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "stat",
  description: "Retrieves facts about a file or directory.",
  type: "object",
  additionalProperties: false,
  properties: {
    path: { type: "string", aliases: ["dest", "name"], description: "The path to inspect." },
    follow: { type: "boolean", default: false, description: "Follow symbolic links." },
    get_checksum: { type: "boolean", default: true, description: "Compute the checksum of regular files." },
    checksum_algorithm: { type: "string", enum: CHECKSUM_ALGORITHMS, default: "sha1", aliases: ["checksum_algo", "checksum"], description: "Checksum algorithm." },
    get_mime: { type: "boolean", default: true, description: "Accepted for compatibility (mime type via file(1) when present)." },
    get_md5: { type: "boolean", description: "Accepted for compatibility; ignored." },
    get_attributes: { type: "boolean", default: true, description: "Accepted for compatibility; ignored." },
  },
  required: ["path"],
};

/** The one probe: stat fields, link info, access tests and the checksum. */
export function statScript(path: string, follow: boolean, algorithm: string | undefined): string {
  const L = follow ? "-L " : "";
  return [
    sh`p=${path}`,
    `if [ -e "$p" ] || [ -L "$p" ]; then`,
    `  stat ${L}-c 's.stat %f|%F|%a|%U|%G|%u|%g|%s|%X|%Y|%Z|%i|%d|%h' -- "$p"`,
    `  if [ -L "$p" ]; then printf 's.lnk_target '; readlink -- "$p" | base64 -w0; echo; printf 's.lnk_source '; readlink -f -- "$p" | base64 -w0; echo; fi`,
    `  a=''; [ -r "$p" ] && a="$a"r; [ -w "$p" ] && a="$a"w; [ -x "$p" ] && a="$a"x; echo "s.access $a"`,
    algorithm ? `  if [ -f "$p" ] && [ -r "$p" ]; then printf 's.checksum '; ${algorithm}sum < "$p" | cut -d' ' -f1; fi` : "",
    `else echo s.absent; fi`,
  ].filter(Boolean).join("\n");
}

/** Parses statScript's output into Ansible's `stat` dictionary. */
export function parseStat(stdout: string, path: string): Record<string, unknown> {
  const lines = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const m = /^s\.(\w+) ?(.*)$/.exec(line);
    if (m) lines.set(m[1], m[2]);
  }
  const st = lines.get("stat");
  if (!st) return { exists: false };
  const [rawModeHex, , mode, owner, group, uid, gid, size, atime, mtime, ctime, inode, dev, nlink] = st.split("|");
  const rawMode = parseInt(rawModeHex, 16);
  const fmt = rawMode & 0o170000;
  const perm = rawMode & 0o7777;
  const access = lines.get("access") ?? "";
  const stat: Record<string, unknown> = {
    exists: true,
    path,
    mode: mode.padStart(4, "0"),
    isdir: fmt === 0o040000,
    ischr: fmt === 0o020000,
    isblk: fmt === 0o060000,
    isreg: fmt === 0o100000,
    isfifo: fmt === 0o010000,
    islnk: fmt === 0o120000,
    issock: fmt === 0o140000,
    uid: Number(uid),
    gid: Number(gid),
    size: Number(size),
    inode: Number(inode),
    dev: Number(dev),
    nlink: Number(nlink),
    atime: Number(atime),
    mtime: Number(mtime),
    ctime: Number(ctime),
    wusr: !!(perm & 0o200),
    rusr: !!(perm & 0o400),
    xusr: !!(perm & 0o100),
    wgrp: !!(perm & 0o020),
    rgrp: !!(perm & 0o040),
    xgrp: !!(perm & 0o010),
    woth: !!(perm & 0o002),
    roth: !!(perm & 0o004),
    xoth: !!(perm & 0o001),
    isuid: !!(perm & 0o4000),
    isgid: !!(perm & 0o2000),
    pw_name: owner,
    gr_name: group,
    readable: access.includes("r"),
    writeable: access.includes("w"),
    executable: access.includes("x"),
  };
  const b64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, "base64").toString("utf8").replace(/\n$/, ""));
  if (lines.has("lnk_target")) {
    stat.lnk_target = b64(lines.get("lnk_target"));
    stat.lnk_source = b64(lines.get("lnk_source"));
  }
  if (lines.has("checksum")) stat.checksum = lines.get("checksum")!.trim();
  return stat;
}

export const stat: ModuleDefinition<StatArgs> = {
  name: "stat",
  aliases: [],
  schema,
  async plan(args, ctx) {
    const path = args.path;
    const algorithm = args.checksum_algorithm;
    const r = await ctx.run(statScript(path, args.follow === true, args.get_checksum === false ? undefined : algorithm));
    if (r.rc !== 0) throw new ModuleFailure(`Cannot stat ${path}: ${maskSecrets(r.stderr.trim())}`, { rc: r.rc });
    const st = parseStat(r.stdout, path);
    return { changed: false, reason: st.exists ? `${path} exists` : `${path} does not exist`, result: { stat: st } };
  },
};
