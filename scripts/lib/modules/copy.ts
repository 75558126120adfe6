/**
 * ansible.builtin.copy: put a controller file (from the role's files/ or the playbook's
 * directory), inline `content`, or (remote_src) a file already on the target at `dest`.
 * Compared by sha1 in the one probe: nothing is transferred when it already matches. A
 * directory `src` is copied recursively (one probe for the whole tree).
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { basename, join, posix } from "node:path";
import type { ApplyResult, FileDiff, ModuleContext, ModuleDefinition, Plan, Probe } from "./types.ts";
import { readProbe } from "./probe.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { Secret, maskSecrets } from "../shell/secret.ts";
import { FILE_ATTRIBUTE_PROPERTIES } from "./support/text-edit.ts";
import type { PutFileRequest, PutFileState } from "./support/put-file.ts";
import { applyPutFile, planPutFile, putFileOptions } from "./support/put-file.ts";
import { fileProbeScript, parseFileProbe, planAttributes, sha1Hex, writeFileAtomic, applyAttributes, type FileState } from "./remote-file.ts";
import { attributesDiff, contentDiff } from "./support/file-diff.ts";
import { parseMode } from "./support/mode.ts";

export interface CopyArgs {
  src?: string;
  content?: unknown;
  dest: string;
  owner?: string | number;
  group?: string | number;
  mode?: string | number;
  directory_mode?: string | number;
  backup?: boolean;
  force?: boolean;
  validate?: string;
  remote_src?: boolean;
  follow?: boolean;
  checksum?: string;
}

const schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "copy",
  description: "Copies a file (or inline content) to the target.",
  type: "object",
  additionalProperties: false,
  properties: {
    src: { type: "string", description: "Controller path (role files/ or playbook dir), or a target path with remote_src. A directory is copied recursively; a trailing / copies its contents." },
    content: { description: "Inline content to write (dicts/lists are written as JSON)." },
    dest: { type: "string", description: "Target path; a trailing / (or an existing directory) means dest/<basename of src>." },
    backup: { type: "boolean", default: false },
    force: { type: "boolean", aliases: ["thirsty"], description: "Default true. false: only create the file when it does not exist." },
    validate: { type: "string", description: "Command to validate the file before use (%s is the temp file)." },
    remote_src: { type: "boolean", default: false, description: "src is a path on the target." },
    follow: { type: "boolean", default: false },
    local_follow: { type: "boolean", default: true },
    directory_mode: { type: ["string", "integer"], description: "Mode of directories created when copying a directory." },
    checksum: { type: "string", description: "Expected sha1 of the source; the task fails if it differs." },
    decrypt: { type: "boolean", description: "Accepted for compatibility; ignored." },
    ...FILE_ATTRIBUTE_PROPERTIES,
  },
  required: ["dest"],
  oneOf: [{ required: ["src"] }, { required: ["content"] }],
};

function contentValue(content: unknown): string | Secret {
  if (content instanceof Secret || typeof content === "string") return content;
  if (typeof content === "number" || typeof content === "boolean") return String(content);
  // Ansible writes dicts and lists as JSON.
  return JSON.stringify(content);
}

/** The request for a single file (content, controller file or remote source). */
function singleRequest(args: CopyArgs, ctx: ModuleContext): PutFileRequest {
  const common = { ...putFileOptions(args), makeParents: args.dest.endsWith("/") };
  if (args.content !== undefined) {
    if (args.dest.endsWith("/")) throw new ModuleFailure("Can not use content with a dir as dest");
    return { ...common, content: contentValue(args.content), afterHeader: "dynamically generated" };
  }
  if (args.remote_src) {
    return { ...common, content: new Uint8Array(), basename: posix.basename(args.src!), afterHeader: args.src!, remoteSource: args.src! };
  }
  const local = ctx.findFile("files", args.src!);
  const bytes = readFileSync(local);
  const mode = args.mode === "preserve" ? parseMode(statSync(local).mode & 0o7777) : args.mode;
  return { ...common, mode, content: decodeIfText(bytes), basename: basename(args.src!), afterHeader: args.src! };
}

function decodeIfText(bytes: Uint8Array): string | Uint8Array {
  if (bytes.includes(0)) return bytes;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return bytes;
  }
}

interface TreeEntry {
  /** Path relative to the copied directory ("" for the top directory itself). */
  rel: string;
  dir: boolean;
  local: string;
}

function walk(root: string, rel = ""): TreeEntry[] {
  const out: TreeEntry[] = [{ rel, dir: true, local: join(root, rel) }];
  for (const name of readdirSync(join(root, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    if (statSync(join(root, r)).isDirectory()) out.push(...walk(root, r));
    else out.push({ rel: r, dir: false, local: join(root, r) });
  }
  return out;
}

interface TreeState {
  tree: true;
  /** Directories to create, then files to write, then attribute fixes. */
  mkdirs: string[];
  writes: Array<{ path: string; local: string; mode?: string | number }>;
  attrs: Array<{ path: string; dir: boolean }>;
}

/** The state of every path of a recursive copy (directories without a checksum), in order. */
export const COPY_TREE_PROBE: Probe<{ dest: string; entries: Array<{ path: string; dir: boolean }> }, FileState[]> = {
  name: "copy-tree",
  command: ({ entries }) => entries.map((e, i) => fileProbeScript(e.path, { checksum: !e.dir }, `e${i}`)).join("\n"),
  parse(r, { dest, entries }) {
    if (r.rc !== 0) throw new ModuleFailure(`Cannot inspect ${dest}: ${maskSecrets(r.stderr.trim())}`, { rc: r.rc });
    return entries.map((_, i) => parseFileProbe(r.stdout, `e${i}`));
  },
};

/** Recursive copy of a controller directory: one probe for every entry. */
async function planTree(args: CopyArgs, ctx: ModuleContext, localRoot: string): Promise<Plan<TreeState>> {
  // "src/" copies the contents; "src" copies the directory itself into dest.
  const base = args.src!.endsWith("/") ? args.dest : posix.join(args.dest, basename(localRoot));
  const entries = walk(localRoot);
  const remote = (rel: string) => (rel ? posix.join(base, rel) : base);
  const states = await readProbe(ctx, COPY_TREE_PROBE, { dest: args.dest, entries: entries.map((e) => ({ path: remote(e.rel), dir: e.dir })) });
  const state: TreeState = { tree: true, mkdirs: [], writes: [], attrs: [] };
  const changes: string[] = [];
  const diff: FileDiff[] = [];
  for (const [i, e] of entries.entries()) {
    const st = states[i];
    const path = remote(e.rel);
    if (e.dir) {
      if (!st.exists) {
        state.mkdirs.push(path);
        changes.push(`${path}/ created`);
      } else if (st.type !== "directory") {
        throw new ModuleFailure(`${path} exists and is not a directory`);
      } else if (args.directory_mode !== undefined && planAttributes(st, { mode: args.directory_mode, owner: args.owner, group: args.group }).changes.length > 0) {
        state.attrs.push({ path, dir: true });
        changes.push(`${path}/ attributes changed`);
      }
      continue;
    }
    const bytes = readFileSync(e.local);
    const sum = await sha1Hex(bytes);
    const mode = args.mode === "preserve" ? parseMode(statSync(e.local).mode & 0o7777) : args.mode;
    if (!st.exists || (st.sha1 !== sum && args.force !== false)) {
      state.writes.push({ path, local: e.local, mode });
      changes.push(`${path} ${st.exists ? "changed" : "created"}`);
      if (ctx.diff) diff.push(contentDiff(undefined, decodeIfText(bytes), path, { afterHeader: e.local, beforeHeader: path }));
    } else {
      const attrs = planAttributes(st, { mode, owner: args.owner, group: args.group });
      if (attrs.changes.length > 0) {
        state.attrs.push({ path, dir: false });
        changes.push(`${path}: ${attrs.changes.join(", ")}`);
        const d = attributesDiff(path, attrs);
        if (d) diff.push(d);
      }
    }
  }
  if (changes.length === 0) return { changed: false, reason: "directory tree already matches", result: { dest: base } };
  return { changed: true, msg: changes.join("; "), diff, state, result: { dest: base } };
}

async function applyTree(args: CopyArgs, ctx: ModuleContext, st: TreeState): Promise<ApplyResult> {
  const dirWish = { mode: args.directory_mode, owner: args.owner, group: args.group };
  if (st.mkdirs.length > 0) {
    const r = await ctx.run(sh`mkdir -p -- ${st.mkdirs}`);
    if (r.rc !== 0) throw new ModuleFailure(`Cannot create directories: ${r.stderr.trim()}`, { rc: r.rc });
    for (const d of st.mkdirs) await applyAttributes(ctx, d, dirWish);
  }
  for (const w of st.writes) {
    await writeFileAtomic(ctx, w.path, readFileSync(w.local), { mode: w.mode, owner: args.owner, group: args.group, backup: args.backup, validate: args.validate });
  }
  for (const a of st.attrs) {
    await applyAttributes(ctx, a.path, a.dir ? dirWish : { mode: args.mode === "preserve" ? undefined : args.mode, owner: args.owner, group: args.group });
  }
  return {};
}

function isLocalDirectory(args: CopyArgs, ctx: ModuleContext): string | undefined {
  if (args.content !== undefined || args.remote_src || args.src === undefined) return undefined;
  const local = ctx.findFile("files", args.src.replace(/\/+$/, "") || "/");
  return statSync(local).isDirectory() ? local : undefined;
}

export const copy: ModuleDefinition<CopyArgs, PutFileState | TreeState> = {
  name: "copy",
  aliases: [],
  secretArgs: ["content"],
  schema,
  async plan(args, ctx) {
    const dir = isLocalDirectory(args, ctx);
    if (dir) return planTree(args, ctx, dir);
    const req = singleRequest(args, ctx);
    if (args.checksum && req.remoteSource === undefined && (await sha1Hex(req.content)) !== args.checksum) {
      throw new ModuleFailure(`Copied file does not match the expected checksum ${args.checksum}`);
    }
    return planPutFile(ctx, req);
  },
  async apply(plan, args, ctx) {
    if (plan.state && "tree" in plan.state) {
      await applyTree(args, ctx, plan.state);
      return { msg: plan.msg };
    }
    return applyPutFile(ctx, singleRequest(args, ctx), plan as Plan<PutFileState>);
  },
};

