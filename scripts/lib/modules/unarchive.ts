/**
 * ansible.builtin.unarchive: extract a tar (any compression GNU tar reads) or zip archive
 * into an existing directory. Changed only when extraction would change something:
 * - `creates` exists -> skipped (ok);
 * - archive on the controller: its member list (read here, no transfer) is compared with
 *   the target in one probe (type, size, and for tar the mtime extraction restores);
 * - remote_src: the archive is extracted into a temp dir on the target and compared with
 *   `diff -rq` (dest untouched).
 * Apply streams a controller archive on stdin (tar reads it directly; zip via a temp file).
 */
import { readFileSync } from "node:fs";
import { posix } from "node:path";
import type { ModuleContext, ModuleDefinition, Plan } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { quote, sh } from "../shell/quote.ts";
import { maskSecrets } from "../shell/secret.ts";
import { FILE_ATTRIBUTE_PROPERTIES } from "./support/text-edit.ts";
import type { ArchiveFormat, ArchiveMember } from "./support/archive-list.ts";
import { archiveFormat, listArchive } from "./support/archive-list.ts";
import { attributesCommand } from "./remote-file.ts";
import { parseMode } from "./support/mode.ts";
import { framedUpload, receiveToTemp } from "./support/upload.ts";

export interface UnarchiveArgs {
  src: string;
  dest: string;
  remote_src?: boolean;
  copy?: boolean;
  creates?: string;
  extra_opts?: string[];
  exclude?: string[];
  include?: string[];
  keep_newer?: boolean;
  list_files?: boolean;
  owner?: string | number;
  group?: string | number;
  mode?: string | number;
}

const schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "unarchive",
  description: "Unpacks a tar or zip archive (from the controller, or already on the target).",
  type: "object",
  additionalProperties: false,
  properties: {
    src: { type: "string", description: "Archive: controller path (role files/ or playbook dir), or a target path with remote_src." },
    dest: { type: "string", description: "Existing directory on the target to extract into." },
    remote_src: { type: "boolean", default: false },
    copy: { type: "boolean", description: "Deprecated inverse of remote_src." },
    creates: { type: "string", description: "When this path exists, nothing is extracted." },
    extra_opts: { type: "array", items: { type: "string" }, default: [], description: "Extra options for tar/unzip (e.g. --strip-components=1)." },
    exclude: { type: "array", items: { type: "string" }, default: [] },
    include: { type: "array", items: { type: "string" }, default: [] },
    keep_newer: { type: "boolean", default: false },
    list_files: { type: "boolean", default: false },
    validate_certs: { type: "boolean", description: "Accepted for compatibility." },
    decrypt: { type: "boolean", description: "Accepted for compatibility." },
    io_buffer_size: { type: "integer", description: "Accepted for compatibility." },
    ...FILE_ATTRIBUTE_PROPERTIES,
  },
  required: ["src", "dest"],
  not: { required: ["remote_src", "copy"] },
};

interface UnarchiveState {
  format: ArchiveFormat;
  /** The archive bytes (controller src) streamed on apply. */
  local?: string;
  members: string[];
}

function isRemote(args: UnarchiveArgs): boolean {
  return args.remote_src === true || args.copy === false;
}

function tarOptions(args: UnarchiveArgs): string {
  const opts: string[] = [...(args.extra_opts ?? [])];
  for (const e of args.exclude ?? []) opts.push(`--exclude=${e}`);
  if (args.keep_newer) opts.push("--keep-newer-files");
  const include = args.include ?? [];
  return `${opts.map((o) => quote(o)).join(" ")}${include.length ? ` -- ${include.map((i) => quote(i)).join(" ")}` : ""}`;
}

function unzipOptions(args: UnarchiveArgs): { before: string; after: string } {
  const before = (args.extra_opts ?? []).map((o) => quote(o)).join(" ");
  const inc = (args.include ?? []).map((i) => quote(i)).join(" ");
  const exc = (args.exclude ?? []).length ? ` -x ${(args.exclude ?? []).map((e) => quote(e)).join(" ")}` : "";
  return { before, after: `${inc ? ` ${inc}` : ""}${exc}` };
}

/** Extract command reading the archive from `file` (a shell word: quoted path or "$t"). */
function extractCommand(format: ArchiveFormat, file: string, args: UnarchiveArgs, dest: string): string {
  if (format === "zip") {
    const { before, after } = unzipOptions(args);
    return `unzip -o -q ${before}${before ? " " : ""}${file} -d ${dest}${after}`;
  }
  const opts = tarOptions(args);
  // GNU tar detects the compression itself when reading a file.
  return `tar -x -f ${file} -C ${dest}${opts ? ` ${opts}` : ""}`;
}

async function planUnarchive(args: UnarchiveArgs, ctx: ModuleContext): Promise<Plan<UnarchiveState>> {
  const remote = isRemote(args);
  const checks = [
    sh`[ -d ${args.dest} ] || echo dest.missing`,
    args.creates !== undefined ? sh`[ -e ${args.creates} ] && echo creates.exists` : "",
  ].filter(Boolean);

  if (!remote) {
    const local = ctx.findFile("files", args.src);
    const bytes = readFileSync(local);
    const format = archiveFormat(bytes);
    if (!format) throw new ModuleFailure(`Failed to find handler for "${args.src}": not a tar or zip archive`);
    let members: ArchiveMember[];
    try {
      members = stripComponents(listArchive(local, bytes, format), args.extra_opts ?? []);
    } catch (e) {
      throw new ModuleFailure(`Cannot read the archive ${args.src}: ${(e as Error).message}`);
    }
    // One probe: dest, creates, and every member's type/size/mtime (paths on stdin).
    const probe = `${checks.join("\n")}\necho probe.members\nwhile IFS= read -r p; do if [ -L "$p" ]; then echo L; elif [ -d "$p" ]; then stat -c 'D 0 0 %U %G %u %g %a' -- "$p"; elif [ -f "$p" ]; then stat -c 'F %s %Y %U %G %u %g %a' -- "$p"; else echo M; fi; done`;
    const paths = members.map((m) => posix.join(args.dest, m.path)).join("\n") + "\n";
    const r = await ctx.run(probe, { stdin: paths });
    if (r.rc !== 0) throw new ModuleFailure(`Cannot inspect ${args.dest}: ${maskSecrets(r.stderr.trim())}`, { rc: r.rc });
    const early = earlyExit(r.stdout, args);
    if (early) return early;
    const answers = r.stdout.split("probe.members\n")[1]?.split("\n") ?? [];
    const differing = members.filter((m, i) => !memberMatches(m, answers[i] ?? "M", args));
    const base = { dest: args.dest, src: args.src, handler: format === "zip" ? "ZipArchive" : "TgzArchive" };
    // --transform rewrites names in ways a listing cannot predict: only creates can say "done".
    const unpredictable = (args.extra_opts ?? []).some((o) => /^--(transform|xform)|^-s$/.test(o));
    if (differing.length === 0 && !unpredictable) {
      return { changed: false, reason: `all ${members.length} archive members already extracted in ${args.dest}`, result: { ...base, ...(args.list_files ? { files: members.map((m) => m.path) } : {}) } };
    }
    return {
      changed: true,
      msg: `${differing.length} of ${members.length} archive members extracted`,
      result: { ...base, ...(args.list_files ? { files: members.map((m) => m.path) } : {}) },
      state: { format, local, members: members.map((m) => m.path) },
    };
  }

  // remote_src: detect the format on the target and compare a temp extraction with dest.
  const format = `case "$(head -c 4 -- ${quote(args.src)} | od -An -tx1 | tr -d ' \\n')" in 504b0304|504b0506) echo fmt.zip;; *) echo fmt.tar;; esac`;
  const r0 = await ctx.run(`${sh`[ -f ${args.src} ] || echo src.missing`}\n${checks.join("\n")}\n${format}`);
  if (r0.rc !== 0) throw new ModuleFailure(`Cannot inspect ${args.src}: ${maskSecrets(r0.stderr.trim())}`, { rc: r0.rc });
  if (r0.stdout.includes("src.missing")) throw new ModuleFailure(`Source '${args.src}' does not exist`);
  const early = earlyExit(r0.stdout, args);
  if (early) return early;
  const fmt: ArchiveFormat = r0.stdout.includes("fmt.zip") ? "zip" : "tar";
  const compare = [
    `x=$(mktemp -d) || exit 1`,
    `trap 'rm -rf "$x"' EXIT`,
    `${extractCommand(fmt, quote(args.src), args, '"$x"')} >/dev/null 2>&1 || { echo extract.failed; exit 0; }`,
    `diff -rq --no-dereference "$x" ${quote(args.dest)} 2>&1 | grep -v "^Only in ${args.dest.replace(/[^A-Za-z0-9/_.-]/g, ".")}" | head -n 5 | sed 's/^/diff /'`,
    `true`,
  ].join("\n");
  const r = await ctx.run(compare);
  if (r.stdout.includes("extract.failed")) throw new ModuleFailure(`Failed to unpack ${args.src}: not a readable ${fmt} archive`);
  const diffs = r.stdout.split("\n").filter((l) => l.startsWith("diff "));
  const base = { dest: args.dest, src: args.src, handler: fmt === "zip" ? "ZipArchive" : "TgzArchive" };
  if (diffs.length === 0) return { changed: false, reason: `${args.src} already extracted in ${args.dest}`, result: base };
  return { changed: true, msg: `${args.src} extracted into ${args.dest}`, result: base, state: { format: fmt, members: [] } };
}

/** Applies tar's --strip-components=N to the member paths (members above N vanish). */
function stripComponents(members: ArchiveMember[], extraOpts: string[]): ArchiveMember[] {
  let n = 0;
  extraOpts.forEach((o, i) => {
    const m = /^--strip-components(?:=(\d+))?$/.exec(o);
    if (m) n = Number(m[1] ?? extraOpts[i + 1] ?? 0);
  });
  if (n === 0) return members;
  return members
    .map((m) => ({ ...m, path: m.path.split("/").slice(n).join("/") }))
    .filter((m) => m.path !== "");
}

function earlyExit(stdout: string, args: UnarchiveArgs): Plan<UnarchiveState> | undefined {
  if (stdout.includes("creates.exists")) {
    // Ansible's unarchive action reports this as skipped (not ok): same here.
    const why = `skipped, since ${args.creates} exists`;
    return { changed: false, skipped: why, reason: why, result: { dest: args.dest, src: args.src } };
  }
  if (stdout.includes("dest.missing")) throw new ModuleFailure(`dest '${args.dest}' must be an existing dir`);
  return undefined;
}

/** A member is in place when type, size, mtime (tar) and the wished owner/group/mode match. */
function memberMatches(m: ArchiveMember, answer: string, wish: Pick<UnarchiveArgs, "owner" | "group" | "mode">): boolean {
  if (m.type === "link") return answer === "L";
  const [kind, size, mtime, owner, group, uid, gid, mode] = answer.split(" ");
  if (m.type === "directory" ? kind !== "D" : kind !== "F") return false;
  if (m.type !== "directory") {
    if (m.size !== undefined && Number(size) !== m.size) return false;
    if (m.mtime !== undefined && Number(mtime) !== m.mtime) return false;
  }
  const same = (want: string | number | undefined, name: string, id: string) =>
    want === undefined || (/^\d+$/.test(String(want)) ? String(want) === id : String(want) === name);
  if (!same(wish.owner, owner, uid) || !same(wish.group, group, gid)) return false;
  if (wish.mode !== undefined && /^0?[0-7]{3,4}$|^\d+$/.test(String(wish.mode))) {
    if (parseMode(wish.mode) !== mode.padStart(4, "0")) return false;
  }
  return true;
}

export const unarchive: ModuleDefinition<UnarchiveArgs, UnarchiveState> = {
  name: "unarchive",
  aliases: [],
  schema,
  plan: planUnarchive,
  async apply(plan, args, ctx) {
    const st = plan.state!;
    const dest = quote(args.dest);
    let r;
    if (st.local !== undefined) {
      const bytes = readFileSync(st.local);
      const flag: Record<ArchiveFormat, string> = { tar: "", "tar.gz": "z", "tar.bz2": "j", "tar.xz": "J", "tar.zst": " --zstd", zip: "" };
      const opts = tarOptions(args);
      // The archive lands whole in a temp file before anything is extracted: a transfer cut
      // short must not leave half an archive's files in dest (support/upload.ts checks it).
      const extract = st.format === "zip" ? extractCommand("zip", '"$t"', args, dest) : `tar -x${flag[st.format]} -f "$t" -C ${dest}${opts ? ` ${opts}` : ""}`;
      const script = `${receiveToTemp()}\n${extract}`;
      r = await ctx.run(script, { stdin: framedUpload(bytes) });
    } else {
      r = await ctx.run(extractCommand(st.format, quote(args.src), args, dest));
    }
    if (r.rc !== 0) throw new ModuleFailure(`Failed to unpack ${args.src} into ${args.dest}: ${maskSecrets(r.stderr.trim())}`, { rc: r.rc, stderr: maskSecrets(r.stderr) });
    const wish = { owner: args.owner, group: args.group, mode: args.mode };
    if (st.members.length > 0 && attributesCommand("x", wish)) {
      // Ansible sets owner/group/mode on every extracted member.
      const top = [...new Set(st.members.map((m) => m.split("/")[0]))].map((t) => posix.join(args.dest, t));
      for (const path of top) {
        const a = await ctx.run(attributesCommand(path, wish, { recurse: true }));
        if (a.rc !== 0) throw new ModuleFailure(`Cannot set attributes on ${path}: ${a.stderr.trim()}`, { rc: a.rc });
      }
    }
    return { msg: plan.msg, result: { extract_results: { rc: r.rc, out: r.stdout, err: maskSecrets(r.stderr) } } };
  },
};
