/**
 * Remote file helpers shared by the file modules. Each is ONE round trip:
 * - probeFile: type, mode, owner, size, and (on request) the content or its sha1;
 * - writeFileAtomic: content on stdin -> temp file in the same directory, checked against the
 *   size and sha1 the controller sent -> chmod/chown -> validate -> optional backup -> atomic
 *   rename;
 * - planAttributes/applyAttributesCommand: owner/group/mode differences as changes.
 * The probe is also offered as a script fragment plus parser (fileProbeScript /
 * parseFileProbe) so a module can combine it with other reads in the same command.
 */
import { posix } from "node:path";
import { createHash } from "node:crypto";
import type { ModuleContext, Probe } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { raw, sh, quote } from "../shell/quote.ts";
import { Secret, maskSecrets } from "../shell/secret.ts";
import { readProbe } from "./probe.ts";
import { parseMode } from "./support/mode.ts";
import { splitArgs } from "./support/shlex.ts";
import { framedUpload, receiveScript, UPLOAD_INCOMPLETE } from "./support/upload.ts";
import { makeWriteTemp } from "./support/write-temp.ts";

export { parseMode } from "./support/mode.ts";

export interface FileState {
  exists: boolean;
  type: "file" | "directory" | "link" | "other" | null;
  /** 4 octal digits, e.g. "0644" (of the link itself for links unless followed). */
  mode: string;
  owner: string;
  group: string;
  uid: number;
  gid: number;
  size: number;
  /** Modification time, seconds since the epoch. */
  mtime: number;
  /** For links: where the link points (as stored, not resolved). */
  linkTarget?: string;
  /** For links: what the target is ("file", "directory", ..., null when dangling). */
  linkTargetType?: FileState["type"];
  /** Hex sha1 of the content (regular files, when asked). */
  sha1?: string;
  /** The content (regular files, when asked): a string when valid UTF-8, else the bytes. */
  content?: string | Uint8Array;
}

/** The checksums a target computes with coreutils' `<algorithm>sum` (get_url's checksum, stat's checksum_algorithm). */
export const CHECKSUM_ALGORITHMS = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];

export interface ProbeOptions {
  content?: boolean;
  checksum?: boolean;
  /** Report on the link's target instead of the link (stat -L). */
  follow?: boolean;
  /** With content: only send it when the file is at most this big (diffs of huge files). */
  maxContentBytes?: number;
}

const MISSING: FileState = {
  exists: false,
  type: null,
  mode: "",
  owner: "",
  group: "",
  uid: -1,
  gid: -1,
  size: 0,
  mtime: 0,
};

/**
 * A shell fragment printing the probe of one path as lines `<tag>.<key> <value>`. Values
 * that could hold anything (link targets, content) are base64 on one line, so the output
 * parses safely whatever the file holds. Combine with other commands and parse with
 * parseFileProbe(stdout, tag).
 */
export function fileProbeScript(path: string, options: ProbeOptions = {}, tag = "f"): string {
  const statFlag = options.follow ? "-L " : "";
  const lines = [
    sh`p=${path}`,
    `if [ -e "$p" ] || [ -L "$p" ]; then`,
    `  stat ${statFlag}-c '${tag}.stat %F|%a|%U|%G|%u|%g|%s|%Y' -- "$p"`,
    `  if [ -L "$p" ]; then printf '${tag}.link '; readlink -- "$p" | base64 -w0; echo;` +
      ` stat -L -c '${tag}.linkto %F' -- "$p" 2>/dev/null; fi`,
  ];
  if (options.checksum) lines.push(`  if [ -f "$p" ] && [ -r "$p" ]; then printf '${tag}.sha1 '; sha1sum < "$p" | cut -c1-40; fi`);
  if (options.content) {
    const small = options.maxContentBytes === undefined ? "" : ` && [ "$(stat -L -c %s -- "$p")" -le ${Math.floor(options.maxContentBytes)} ]`;
    lines.push(`  if [ -f "$p" ] && [ -r "$p" ]${small}; then printf '${tag}.content '; base64 -w0 < "$p"; echo; fi`);
  }
  lines.push(`else echo '${tag}.absent'; fi`);
  return lines.join("\n");
}

/** Parses the lines printed by fileProbeScript (other lines are ignored). */
export function parseFileProbe(stdout: string, tag = "f"): FileState {
  const state: FileState = { ...MISSING };
  const prefix = `${tag}.`;
  for (const line of stdout.split("\n")) {
    if (!line.startsWith(prefix)) continue;
    const space = line.indexOf(" ");
    const key = line.slice(prefix.length, space < 0 ? undefined : space);
    const value = space < 0 ? "" : line.slice(space + 1);
    if (key === "stat") {
      const [kind, mode, owner, group, uid, gid, size, mtime] = value.split("|");
      state.exists = true;
      state.type = fileType(kind);
      state.mode = mode.padStart(4, "0");
      state.owner = owner;
      state.group = group;
      state.uid = Number(uid);
      state.gid = Number(gid);
      state.size = Number(size);
      state.mtime = Number(mtime);
    } else if (key === "link") {
      state.linkTarget = Buffer.from(value.trim(), "base64").toString("utf8").replace(/\n$/, "");
      state.linkTargetType = null;
    } else if (key === "linkto") {
      state.linkTargetType = fileType(value);
    } else if (key === "sha1") {
      state.sha1 = value.trim();
    } else if (key === "content") {
      state.content = decodeContent(Buffer.from(value.trim(), "base64"));
    }
  }
  return state;
}

/**
 * The inverse of parseFileProbe, for tests and fixtures: prints what fileProbeScript would
 * print for this state (sha1 computed from content when not given).
 */
export function formatFileProbe(state: Partial<FileState> & { content?: string | Uint8Array }, tag = "f"): string {
  if (state.exists === false) return `${tag}.absent\n`;
  const type = state.type ?? "file";
  const kind = type === "file" ? "regular file" : type === "link" ? "symbolic link" : type === "directory" ? "directory" : "fifo";
  const bytes = state.content === undefined ? undefined : contentBytes(state.content);
  const size = state.size ?? bytes?.length ?? 0;
  const mode = (state.mode ?? (type === "directory" ? "0755" : "0644")).replace(/^0(?=\d{3,4}$)/, "");
  let out = `${tag}.stat ${kind}|${mode}|${state.owner ?? "root"}|${state.group ?? "root"}|${state.uid ?? 0}|${state.gid ?? 0}|${size}|${state.mtime ?? 1700000000}\n`;
  if (state.linkTarget !== undefined) out += `${tag}.link ${Buffer.from(state.linkTarget + "\n").toString("base64")}\n`;
  if (state.sha1 !== undefined) out += `${tag}.sha1 ${state.sha1}\n`;
  else if (bytes !== undefined && type === "file") out += `${tag}.sha1 ${createHash("sha1").update(bytes).digest("hex")}\n`;
  if (bytes !== undefined) out += `${tag}.content ${Buffer.from(bytes).toString("base64")}\n`;
  return out;
}

function fileType(kind: string): FileState["type"] {
  if (kind.includes("regular")) return "file";
  if (kind === "directory") return "directory";
  if (kind === "symbolic link") return "link";
  return "other";
}

/** Text when the bytes are valid UTF-8 without NULs, else the bytes themselves. */
export function decodeContent(bytes: Uint8Array): string | Uint8Array {
  if (bytes.includes(0)) return bytes;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return bytes;
  }
}

/** The bytes of a content value (string as UTF-8). */
export function contentBytes(content: string | Uint8Array | Secret): Uint8Array {
  if (content instanceof Secret) return Buffer.from(content.reveal(), "utf8");
  return typeof content === "string" ? Buffer.from(content, "utf8") : content;
}

/** Hex sha1 of a content value, to compare with FileState.sha1 without a transfer. */
export async function sha1Hex(content: string | Uint8Array | Secret): Promise<string> {
  return createHash("sha1").update(contentBytes(content)).digest("hex");
}

/** The probe of one path (probeFile). */
export const FILE_PROBE: Probe<{ path: string; options?: ProbeOptions }, FileState> = {
  name: "remote-file",
  command: ({ path, options }) => fileProbeScript(path, options),
  parse(r, { path }) {
    if (r.rc !== 0) throw new ModuleFailure(`Cannot inspect ${path}: ${maskSecrets(r.stderr.trim()) || `rc ${r.rc}`}`, { rc: r.rc, stderr: maskSecrets(r.stderr) });
    return parseFileProbe(r.stdout);
  },
};

/** Probes one path in one round trip. Fails (ModuleFailure) only when the probe cannot run. */
export function probeFile(ctx: ModuleContext, path: string, options: ProbeOptions = {}): Promise<FileState> {
  return readProbe(ctx, FILE_PROBE, { path, options });
}

export interface WriteOptions {
  /** Octal or symbolic; applied to the temp file before the rename. */
  mode?: string | number;
  owner?: string | number;
  group?: string | number;
  /** A command with `%s` for the file to check (Ansible's validate, shlex-split, no shell). */
  validate?: string;
  /** Keep a copy of the old file as `<path>.<pid>.<YYYY-MM-DD@HH:MM:SS>~` (Ansible's name). */
  backup?: boolean;
  /** The content is secret: a NEW file is created 0600 unless a mode is given (an existing one keeps its mode). */
  secret?: boolean;
  /** Create missing parent directories (lineinfile/blockinfile `create`). */
  makeParents?: boolean;
  /** When the path is a symlink, write the file it points to (lineinfile, replace, ...). */
  followLinks?: boolean;
  /** Take the content from this file on the target instead of stdin (copy remote_src). */
  sourcePath?: string;
  /**
   * A trusted shell fragment (built with `sh`) that fills the temp file "$t" itself, e.g. a
   * download plus checksum check (get_url); non-zero exit aborts with that exit code.
   */
  fillCommand?: string;
}

/** Exit codes of the write script, mapped to messages. */
const WRITE_NO_DIR = 90;
const WRITE_VALIDATE = 91;
const WRITE_VALIDATE_NO_PERCENT_S = 92;

/**
 * Writes a file atomically in one round trip: the content travels on stdin (never on a
 * command line) into `mktemp` in the same directory and is checked against the size and sha1
 * sent with it (support/upload.ts), so a transfer cut short never replaces the file; an
 * existing file's owner/group/mode are carried over first (as Ansible's atomic_move), then
 * the requested ones applied; the validate command checks the temp file; then `mv -f`
 * renames it over the path. Whatever stops the script before the rename (an error, a
 * signal, the connection dropping) removes the temp file and leaves the path as it was; a
 * temp that a power cut left is removed by the next write of the path (support/write-temp.ts).
 */
export async function writeFileAtomic(
  ctx: ModuleContext,
  path: string,
  content: string | Uint8Array | Secret,
  options: WriteOptions = {},
): Promise<{ backupFile?: string }> {
  const command = writeFileCommand(path, options);
  const fromStdin = options.sourcePath === undefined && options.fillCommand === undefined;
  const r = await ctx.run(command, fromStdin ? { stdin: framedUpload(contentBytes(content)) } : undefined);
  if (r.rc === 0) {
    const backup = /^backup (.*)$/m.exec(r.stdout);
    return backup ? { backupFile: backup[1] } : {};
  }
  const stderr = maskSecrets(r.stderr.trim());
  if (r.rc === WRITE_NO_DIR) {
    throw new ModuleFailure(`Destination directory ${posix.dirname(path)} does not exist`, { rc: r.rc });
  }
  // cat, mktemp or sync said ENOSPC: say it in words a person acts on (the temp file is gone, the original untouched).
  if (r.rc !== WRITE_VALIDATE && /no space left on device/i.test(stderr)) {
    const dir = posix.dirname(path);
    throw new ModuleFailure(`Cannot write ${path}: no space left on device on the node (the filesystem holding ${dir} is full); ${path} was left as it was. Free some space there (df -h ${quote(dir)} shows it) and run again`, { rc: r.rc, stderr });
  }
  if (r.rc === UPLOAD_INCOMPLETE) {
    throw new ModuleFailure(`Cannot write ${path}: ${stderr}; ${path} was left as it was`, { rc: r.rc, stderr });
  }
  if (r.rc === WRITE_VALIDATE) {
    throw new ModuleFailure(`failed to validate: ${options.validate} said: ${stderr || "(no output)"}`, {
      rc: r.rc,
      stderr,
    });
  }
  throw new ModuleFailure(`Cannot write ${path}: ${stderr || `rc ${r.rc}`}`, { rc: r.rc, stderr });
}

/** The shell script writeFileAtomic runs (exported for tests and for modules that batch). */
export function writeFileCommand(path: string, options: WriteOptions = {}): string {
  const dir = posix.dirname(path);
  const base = posix.basename(path);
  const lines: string[] = [sh`p=${path}; d=${dir}`];
  if (options.followLinks) lines.push(`if [ -L "$p" ]; then p=$(readlink -f -- "$p") || exit 1; d=$(dirname -- "$p"); fi`);
  if (options.makeParents) lines.push(`mkdir -p -- "$d" || exit 1`);
  lines.push(
    `[ -d "$d" ] || { echo "directory $d does not exist" >&2; exit ${WRITE_NO_DIR}; }`,
    // mktemp makes it 0600: nobody else reads the content while it arrives. Whatever ends the
    // script from here on, the temp file must not stay behind (and one a power cut left is
    // removed by the next write); the rename is the last step.
    makeWriteTemp(base),
    options.fillCommand !== undefined
      ? options.fillCommand
      : options.sourcePath === undefined
        ? receiveScript('"$t"')
        : sh`cat -- ${options.sourcePath} > "$t" || exit 1`,
    // An existing file keeps its owner, group and mode, secret content or not (a script must
    // stay executable); a new one gets 0666 minus the umask, or keeps 0600 when secret.
    `if [ -e "$p" ]; then chown --reference="$p" "$t" 2>/dev/null || :; chmod --reference="$p" "$t" || exit 1;`,
    options.secret ? "fi" : `else m=$(umask); chmod "$(printf '%o' $((0666 & ~m)))" "$t" || exit 1; fi`,
  );
  const owner = options.owner === undefined ? "" : String(options.owner);
  const group = options.group === undefined ? "" : String(options.group);
  if (owner || group) lines.push(sh`chown -- ${owner}${raw(group ? `:${quote(group)}` : "")} "$t" || exit 1`);
  if (options.mode !== undefined) {
    const mode = typeof options.mode === "number" ? parseMode(options.mode) : options.mode;
    lines.push(sh`chmod ${mode} "$t" || exit 1`);
  }
  if (options.validate) {
    lines.push(
      `v=$(${validateCommand(options.validate)} 2>&1) || { printf '%s\\n' "$v" >&2; exit ${WRITE_VALIDATE}; }`,
    );
  }
  if (options.backup) {
    lines.push(
      `if [ -e "$p" ]; then b="$p.$$.$(date +%Y-%m-%d@%H:%M:%S)~"; cp -p "$p" "$b" || exit 1; echo "backup $b"; fi`,
    );
  }
  // On disk before the rename: after a power cut the path holds the old content or the new
  // one, not an empty file (ext4 may commit the rename before the data otherwise).
  lines.push(`sync -- "$t" 2>/dev/null || :`, `mv -f -- "$t" "$p" || exit 1`, "trap - EXIT");
  return lines.join("\n");
}

/**
 * Ansible's validate: split like shlex, `%s` replaced by the temp file; each word quoted so
 * nothing is expanded. Throws when `%s` is missing (Ansible refuses too).
 */
export function validateCommand(validate: string): string {
  if (!validate.includes("%s")) {
    throw new ModuleFailure(`validate must contain %s: ${validate}`, { rc: WRITE_VALIDATE_NO_PERCENT_S });
  }
  return splitArgs(validate)
    .map((word) => word.split("%s").map((part) => (part === "" ? "" : quote(part))).join('"$t"'))
    .join(" ");
}

export interface AttributeWish {
  mode?: string | number;
  owner?: string | number;
  group?: string | number;
}

export interface AttributeChanges {
  /** Human lines: "mode changed 0644 -> 0600", "owner changed root -> pi". */
  changes: string[];
  /** The wanted mode resolved to 4 octal digits (symbolic modes applied to the current). */
  mode?: string;
  /** For the diff's before/after summary (Ansible's diff for attributes). */
  before: Record<string, string>;
  after: Record<string, string>;
}

/**
 * Compares a file's attributes with the wish. A missing file compares against the defaults
 * it would be created with (`defaultMode`), so "mode" is only a change when it differs.
 */
export function planAttributes(state: FileState, wish: AttributeWish, defaultMode = "0644"): AttributeChanges {
  const out: AttributeChanges = { changes: [], before: {}, after: {} };
  const currentMode = state.exists ? state.mode : defaultMode;
  if (wish.mode !== undefined && wish.mode !== "preserve") {
    const mode = parseMode(wish.mode, currentMode, state.type === "directory");
    out.mode = mode;
    if (state.exists && mode !== state.mode) {
      out.changes.push(`mode changed ${state.mode} -> ${mode}`);
      out.before.mode = state.mode;
      out.after.mode = mode;
    }
  }
  if (wish.owner !== undefined && state.exists && !sameId(wish.owner, state.owner, state.uid)) {
    out.changes.push(`owner changed ${state.owner} -> ${wish.owner}`);
    out.before.owner = state.owner;
    out.after.owner = String(wish.owner);
  }
  if (wish.group !== undefined && state.exists && !sameId(wish.group, state.group, state.gid)) {
    out.changes.push(`group changed ${state.group} -> ${wish.group}`);
    out.before.group = state.group;
    out.after.group = String(wish.group);
  }
  return out;
}

function sameId(wanted: string | number, name: string, id: number): boolean {
  const w = String(wanted);
  return /^\d+$/.test(w) ? Number(w) === id : w === name;
}

/** chown/chmod commands for the wish (empty string when nothing is wished). */
export function attributesCommand(path: string, wish: AttributeWish, options: { recurse?: boolean; noFollow?: boolean } = {}): string {
  const parts: string[] = [];
  const r = options.recurse ? "-R " : "";
  const h = options.noFollow ? "-h " : "";
  const owner = wish.owner === undefined ? "" : String(wish.owner);
  const group = wish.group === undefined ? "" : String(wish.group);
  if (owner || group) parts.push(`chown ${r}${h}-- ${quote(`${owner}${group ? `:${group}` : ""}`)} ${quote(path)}`);
  if (wish.mode !== undefined && wish.mode !== "preserve") {
    const mode = typeof wish.mode === "number" ? parseMode(wish.mode) : wish.mode;
    parts.push(`chmod ${r}${quote(mode)} -- ${quote(path)}`);
  }
  return parts.join(" && ");
}

/** Applies owner/group/mode in one round trip; ModuleFailure with the stderr on failure. */
export async function applyAttributes(ctx: ModuleContext, path: string, wish: AttributeWish, options: { recurse?: boolean; noFollow?: boolean } = {}): Promise<void> {
  const command = attributesCommand(path, wish, options);
  if (!command) return;
  const r = await ctx.run(command);
  if (r.rc !== 0) throw new ModuleFailure(`Cannot set attributes of ${path}: ${maskSecrets(r.stderr.trim())}`, { rc: r.rc, stderr: maskSecrets(r.stderr) });
}
