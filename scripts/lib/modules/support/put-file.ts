/**
 * What copy and template share: put known content at a path. The plan probes the
 * destination once (sha1, attributes, and the old text when diffing small files) and
 * compares checksums, so an unchanged file is never transferred; apply writes atomically
 * (validate, backup) or only fixes owner/group/mode.
 */
import { posix } from "node:path";
import type { ApplyResult, FileDiff, ModuleContext, Plan, Probe } from "../types.ts";
import { readProbe } from "../probe.ts";
import { ModuleFailure } from "../types.ts";
import { sh } from "../../shell/quote.ts";
import { Secret, maskSecrets } from "../../shell/secret.ts";
import type { AttributeWish, FileState } from "../remote-file.ts";
import { applyAttributes, contentBytes, fileProbeScript, parseFileProbe, planAttributes, sha1Hex, writeFileAtomic } from "../remote-file.ts";
import { MAX_DIFF_BYTES, attributesDiff, contentDiff, joinMessages } from "./file-diff.ts";

export interface PutFileRequest extends AttributeWish {
  /** Destination as given; a trailing "/" or an existing directory means dest/<basename>. */
  dest: string;
  /** Basename used when dest is a directory (copy with src); undefined for content. */
  basename?: string;
  content: string | Uint8Array | Secret;
  /** Diff's after header ("dynamically generated" or the source's path). */
  afterHeader: string;
  backup?: boolean;
  force?: boolean;
  validate?: string;
  /** Create the destination directory when dest ends with "/". */
  makeParents?: boolean;
  /** Content comes from this path on the target (remote_src) rather than stdin. */
  remoteSource?: string;
  /** dest is a symlink: write the file it points to instead of replacing the link. */
  follow?: boolean;
}

/** The options copy and template share: where the file goes, its attributes, backup/force/validate/follow. */
export type PutFileOptions = Pick<PutFileRequest, "dest" | "owner" | "group" | "mode" | "backup" | "force" | "validate" | "follow">;

/** A module's arguments cut down to the PutFileOptions (nothing else of them reaches the request). */
export function putFileOptions(args: PutFileOptions): PutFileOptions {
  return { dest: args.dest, owner: args.owner, group: args.group, mode: args.mode, backup: args.backup, force: args.force, validate: args.validate, follow: args.follow };
}

export interface PutFileState {
  path: string;
  contentChanged: boolean;
  existed: boolean;
  checksum: string;
  /** The content as planned (a template is rendered once; apply writes exactly this). */
  content: string | Uint8Array | Secret;
}

/** What PUT_FILE_PROBE reads: dest, dest/<basename> (when a basename is given), the remote source. */
export interface PutFileTargets {
  dest: FileState;
  child?: FileState;
  source?: FileState;
  /** dest's parent directory does not exist. */
  parentMissing: boolean;
}

/** The probe for dest (tag d), dest/<basename> (tag n), the remote source (tag s) and dest's parent. */
export const PUT_FILE_PROBE: Probe<{ req: PutFileRequest; diff: boolean }, PutFileTargets> = {
  name: "put-file",
  command({ req, diff }) {
    const opts = { checksum: true, content: diff, maxContentBytes: MAX_DIFF_BYTES, follow: req.follow === true };
    const parts = [fileProbeScript(req.dest, opts, "d")];
    if (req.basename !== undefined) parts.push(fileProbeScript(posix.join(req.dest, req.basename), opts, "n"));
    if (req.remoteSource !== undefined) parts.push(fileProbeScript(req.remoteSource, { checksum: true, content: diff, maxContentBytes: MAX_DIFF_BYTES, follow: true }, "s"));
    parts.push(sh`[ -d "$(dirname -- ${req.dest})" ] || echo parent.missing`);
    return parts.join("\n");
  },
  parse(r, { req }) {
    if (r.rc !== 0) throw new ModuleFailure(`Cannot inspect ${req.dest}: ${maskSecrets(r.stderr.trim())}`, { rc: r.rc });
    return {
      dest: parseFileProbe(r.stdout, "d"),
      child: req.basename === undefined ? undefined : parseFileProbe(r.stdout, "n"),
      source: req.remoteSource === undefined ? undefined : parseFileProbe(r.stdout, "s"),
      parentMissing: /^parent\.missing$/m.test(r.stdout),
    };
  },
};

/** Plans putting content at dest. One round trip. */
export async function planPutFile(ctx: ModuleContext, req: PutFileRequest): Promise<Plan<PutFileState>> {
  const found = await readProbe(ctx, PUT_FILE_PROBE, { req, diff: ctx.diff });
  let path = req.dest;
  let state = found.dest;
  if (req.basename !== undefined && (req.dest.endsWith("/") || state.type === "directory")) {
    path = posix.join(req.dest, req.basename);
    state = found.child!;
  } else if (state.type === "directory") {
    throw new ModuleFailure(`Can not use content with a dir as dest (${req.dest} is a directory)`);
  }
  // Check mode: the directory may come from an earlier task that check mode only simulated;
  // Ansible reports the file as a change then, not as an error.
  if (!state.exists && !req.dest.endsWith("/") && found.parentMissing && !req.makeParents && !ctx.check) {
    throw new ModuleFailure(`Destination directory ${posix.dirname(req.dest)} does not exist`);
  }
  if (state.exists && state.type !== "file" && state.type !== "link") {
    throw new ModuleFailure(`${path} exists and is not a regular file`);
  }

  let content = req.content;
  let checksum: string;
  if (req.remoteSource !== undefined) {
    const source = found.source!;
    if (!source.exists || source.type !== "file") throw new ModuleFailure(`Source ${req.remoteSource} not found`);
    checksum = source.sha1 ?? "";
    content = source.content ?? new Uint8Array();
  } else {
    checksum = await sha1Hex(content);
  }
  const base = { dest: path, checksum };
  if (state.exists && req.force === false) {
    return { changed: false, reason: `${path} exists and force is false`, result: { ...base, msg: "" } };
  }
  const contentChanged = !state.exists || state.sha1 !== checksum;
  const attrs = planAttributes(state, req);
  if (!contentChanged && attrs.changes.length === 0) {
    return { changed: false, reason: "file already has this content and attributes", result: { ...base, ...attrResult(state) } };
  }
  const diff: FileDiff[] = [];
  if (ctx.diff && contentChanged) {
    const secret = isSecret(content);
    const before = state.exists ? (state.content ?? (state.size > MAX_DIFF_BYTES ? `(file larger than ${MAX_DIFF_BYTES} bytes: diff skipped)\n` : new Uint8Array())) : undefined;
    diff.push(contentDiff(before, content, path, { afterHeader: req.afterHeader, secret }));
  }
  const attrDiff = attributesDiff(path, attrs);
  if (attrDiff) diff.push(attrDiff);
  const msg = joinMessages(contentChanged ? (state.exists ? "content changed" : "file created") : undefined, attrs.changes);
  return {
    changed: true,
    msg,
    diff,
    result: { ...base, msg },
    state: { path, contentChanged, existed: state.exists, checksum, content: req.content },
  };
}

/** True when the content is a Secret or contains a registered secret's text. */
export function isSecret(content: string | Uint8Array | Secret): boolean {
  if (content instanceof Secret) return true;
  if (typeof content !== "string") return false;
  return maskSecrets(content) !== content;
}

function attrResult(state: FileState): Record<string, unknown> {
  return { mode: state.mode, owner: state.owner, group: state.group, uid: state.uid, gid: state.gid, size: state.size, state: "file" };
}

/** Writes the planned content (or fixes attributes only). */
export async function applyPutFile(ctx: ModuleContext, req: PutFileRequest, plan: Plan<PutFileState>): Promise<ApplyResult> {
  const st = plan.state!;
  const wish = { mode: req.mode === "preserve" ? undefined : req.mode, owner: req.owner, group: req.group };
  const result: Record<string, unknown> = { dest: st.path, checksum: st.checksum, state: "file" };
  if (st.contentChanged) {
    const { backupFile } = await writeFileAtomic(ctx, st.path, st.content, {
      ...wish,
      validate: req.validate,
      backup: req.backup === true && st.existed,
      secret: isSecret(st.content),
      makeParents: req.makeParents,
      sourcePath: req.remoteSource,
      followLinks: req.follow === true,
    });
    if (backupFile) result.backup_file = backupFile;
    if (req.remoteSource === undefined) result.size = contentBytes(st.content).length;
  } else {
    await applyAttributes(ctx, st.path, wish);
  }
  return { msg: plan.msg, result };
}
