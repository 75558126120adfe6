/**
 * ansible.builtin.file: the state of a path (file, directory, link, hard, absent, touch)
 * and its owner/group/mode, recursively for directories with `recurse`. One probe gathers
 * the path, what a link points to, the link source and (recurse) whether anything below
 * differs; apply runs one command.
 */
import { posix } from "node:path";
import type { ApplyResult, FileDiff, ModuleContext, ModuleDefinition, Plan, Probe } from "./types.ts";
import { readProbe } from "./probe.ts";
import { ModuleFailure } from "./types.ts";
import { quote, raw, sh, type RawShell } from "../shell/quote.ts";
import { maskSecrets } from "../shell/secret.ts";
import type { AttributeWish, FileState } from "./remote-file.ts";
import { attributesCommand, fileProbeScript, parseFileProbe, planAttributes } from "./remote-file.ts";
import { FILE_ATTRIBUTE_PROPERTIES } from "./support/text-edit.ts";
import { parseMode } from "./support/mode.ts";
import { joinMessages } from "./support/file-diff.ts";

type FileModuleState = "file" | "directory" | "link" | "hard" | "absent" | "touch";

export interface FileArgs extends AttributeWish {
  path: string;
  state?: FileModuleState;
  src?: string;
  recurse?: boolean;
  force?: boolean;
  follow?: boolean;
  access_time?: string;
  modification_time?: string;
}

const schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "file",
  description: "Manages files, directories, symlinks and hard links and their attributes.",
  type: "object",
  additionalProperties: false,
  properties: {
    path: { type: "string", aliases: ["dest", "name"], description: "Path to manage." },
    state: { type: "string", enum: ["file", "directory", "link", "hard", "absent", "touch"], description: "Default: the current state, or file." },
    src: { type: "string", description: "Target of the link (link/hard); relative to the link's directory." },
    recurse: { type: "boolean", default: false, description: "Apply owner/group/mode to everything below a directory." },
    force: { type: "boolean", default: false, description: "Replace a file by a link, or create a link to a missing src." },
    follow: { type: "boolean", default: true, description: "Act on the target of a symlink (except for state link)." },
    access_time: { type: "string", description: "touch: 'now', 'preserve' or YYYYMMDDHHMM.SS." },
    modification_time: { type: "string", description: "touch: 'now', 'preserve' or YYYYMMDDHHMM.SS." },
    access_time_format: { type: "string", description: "Only the default %Y%m%d%H%M.%S is supported." },
    modification_time_format: { type: "string", description: "Only the default %Y%m%d%H%M.%S is supported." },
    ...FILE_ATTRIBUTE_PROPERTIES,
  },
  required: ["path"],
  allOf: [{ if: { properties: { state: { enum: ["link", "hard"] } }, required: ["state"] }, then: { required: ["src"] } }],
};

interface FileApplyState {
  /** The one command apply runs. */
  command: string;
}

function stateName(st: FileState): string {
  if (!st.exists) return "absent";
  return st.type === "other" ? "special" : st.type === "link" ? "link" : st.type!;
}

function stateDiff(path: string, before: Record<string, string>, after: Record<string, string>): FileDiff {
  const text = (o: Record<string, string>) => Object.entries(o).map(([k, v]) => `${k}: ${v}\n`).join("");
  return { before_header: path, after_header: path, before: text({ path, ...before }), after: text({ path, ...after }) };
}

/** What FILE_PATHS_PROBE reads. */
export interface FilePaths {
  /** The path itself (a link as a link). */
  path: FileState;
  /** The path followed through links. */
  target: FileState;
  /** src (link and hard), followed. */
  source?: FileState;
  /** state hard: the device:inode of path and of src, as far as they exist. */
  inodes?: string[];
  /** recurse: the first path below that differs from the wish. */
  drift?: string;
}

/** The read-only probe: the path, its followed target, the link source, recurse drift. */
export const FILE_PATHS_PROBE: Probe<{ args: FileArgs; recurseCheck?: string }, FilePaths> = {
  name: "file-paths",
  command({ args, recurseCheck }) {
    const parts = [fileProbeScript(args.path, {}, "p"), fileProbeScript(args.path, { follow: true }, "t")];
    if (args.src !== undefined) {
      const src = posix.isAbsolute(args.src) ? args.src : posix.join(posix.dirname(args.path), args.src);
      parts.push(fileProbeScript(src, { follow: true }, "s"));
      if (args.state === "hard") parts.push(sh`stat -L -c 'hard %d:%i' -- ${args.path} ${src} 2>/dev/null || :`);
    }
    if (recurseCheck) parts.push(recurseCheck);
    return parts.join("\n");
  },
  parse(r, { args, recurseCheck }) {
    if (r.rc !== 0) throw new ModuleFailure(`Cannot inspect ${args.path}: ${maskSecrets(r.stderr.trim())}`, { rc: r.rc });
    const found: FilePaths = { path: parseFileProbe(r.stdout, "p"), target: parseFileProbe(r.stdout, "t") };
    if (args.src !== undefined) found.source = parseFileProbe(r.stdout, "s");
    if (args.src !== undefined && args.state === "hard") found.inodes = [...r.stdout.matchAll(/^hard (\S+)$/gm)].map((m) => m[1]);
    const drift = recurseCheck ? /^r\.drift (.*)$/m.exec(r.stdout) : null;
    if (drift) found.drift = drift[1];
    return found;
  },
};

/** `find` expression printing one path when anything below differs from the wish. */
function recurseFind(path: string, wish: AttributeWish): string | undefined {
  const tests: string[] = [];
  if (wish.owner !== undefined) tests.push(`! -user ${quote(String(wish.owner))}`);
  if (wish.group !== undefined) tests.push(`! -group ${quote(String(wish.group))}`);
  if (wish.mode !== undefined) {
    const exact = exactMode(wish.mode);
    if (exact) tests.push(`! -perm ${exact}`);
    else return `echo 'r.drift relative-mode'`;
  }
  if (tests.length === 0) return undefined;
  return `find ${quote(path)} -mindepth 1 ! -type l \\( ${tests.join(" -o ")} \\) -print -quit 2>/dev/null | sed 's/^/r.drift /'`;
}

/** An octal mode, or a symbolic one that sets every class with "=", as exact octal. */
function exactMode(mode: string | number): string | undefined {
  if (typeof mode === "number" || /^0?[0-7]{1,4}$/.test(mode)) return parseMode(mode);
  if (/^([ugoa]+=[rwxst]*)(,[ugoa]+=[rwxst]*)*$/.test(mode)) {
    const who = new Set(mode.split(",").flatMap((c) => c.split("=")[0].replaceAll("a", "ugo").split("")));
    if (who.has("u") && who.has("g") && who.has("o")) return parseMode(mode, "0000");
  }
  return undefined;
}

async function planFile(args: FileArgs, ctx: ModuleContext): Promise<Plan<FileApplyState>> {
  if (!args.path) throw new ModuleFailure("Missing required argument: path");
  const wish: AttributeWish = { mode: args.mode, owner: args.owner, group: args.group };
  const recurseCheck = args.recurse ? recurseFind(args.path, wish) : undefined;
  const found = await readProbe(ctx, FILE_PATHS_PROBE, { args, recurseCheck });
  const self = found.path;
  const followed = found.target;
  const follow = args.follow !== false;
  let state = args.state;
  if (state === undefined) {
    if (self.exists) state = self.type === "directory" ? "directory" : self.type === "link" ? "link" : "file";
    else state = args.recurse ? "directory" : args.src !== undefined ? "link" : "file";
  }
  if (args.recurse && state !== "directory") throw new ModuleFailure("recurse option requires state to be 'directory'");
  const path = args.path;
  const base = { path, state };

  if (state === "absent") {
    if (!self.exists) return { changed: false, reason: `${path} is already absent`, result: { ...base } };
    return {
      changed: true,
      msg: `${stateName(self)} removed`,
      diff: [stateDiff(path, { state: stateName(self) }, { state: "absent" })],
      result: base,
      state: { command: sh`rm -rf -- ${path}` },
    };
  }

  // States other than link act on the link's target when following.
  const current = self.type === "link" && follow && state !== "link" ? followed : self;

  if (state === "file") {
    if (!current.exists) throw new ModuleFailure(`file (${path}) is absent, cannot continue`, { path, state: "absent" });
    if (current.type !== "file") throw new ModuleFailure(`file (${path}) is ${stateName(current)}, cannot continue`, { path, state: stateName(current) });
    return attributesOnly(path, current, wish, base, follow);
  }

  if (state === "directory") {
    if (current.exists && current.type !== "directory") {
      throw new ModuleFailure(`${path} already exists as a ${stateName(current)}`, { path });
    }
    if (!current.exists) {
      const attrs = attributesCommand(path, wish, { recurse: args.recurse });
      return {
        changed: true,
        msg: "directory created",
        diff: [stateDiff(path, { state: "absent" }, { state: "directory" })],
        result: base,
        state: { command: [sh`mkdir -p -- ${path}`, attrs].filter(Boolean).join(" && ") },
      };
    }
    const plan = attributesOnly(path, current, wish, base, follow);
    const drift = found.drift;
    if (args.recurse && drift !== undefined) {
      const recursive = attributesCommand(path, wish, { recurse: true });
      return {
        changed: true,
        msg: joinMessages(plan.msg, `attributes changed below ${path}${drift === "relative-mode" ? "" : ` (e.g. ${drift})`}`),
        diff: plan.diff,
        result: base,
        state: { command: recursive },
      };
    }
    return plan;
  }

  if (state === "touch") {
    const preserve = args.access_time === "preserve" && args.modification_time === "preserve";
    const touch = touchCommand(path, args);
    if (current.exists && preserve) return attributesOnly(path, current, wish, base, follow);
    const attrs = planAttributes(current.exists ? current : { ...current, exists: false }, wish);
    return {
      changed: true,
      msg: current.exists ? joinMessages("timestamps updated", attrs.changes) : "file created",
      diff: current.exists ? [] : [stateDiff(path, { state: "absent" }, { state: "touch" })],
      result: base,
      state: { command: [touch, attributesCommand(path, wish)].filter(Boolean).join(" && ") },
    };
  }

  // link / hard
  const src = args.src!;
  const source = found.source!;
  if (state === "hard") {
    if (!source.exists) throw new ModuleFailure(`src does not exist: ${src}`, { path, src });
    const ids = found.inodes ?? [];
    const same = self.exists && ids.length === 2 && ids[0] === ids[1];
    if (same) return attributesOnly(path, current, wish, base, true);
    if (self.exists && self.type === "directory") throw new ModuleFailure(`${path} is a directory; refusing to replace it with a hard link`, { path });
    if (self.exists && !args.force) throw new ModuleFailure(`Cannot link, ${stateName(self)} exists at destination: ${path} (use force: true)`, { path });
    return linkPlan(path, src, self, wish, base, "hard", sh`ln -f -- ${src} ${path}`);
  }
  if (!source.exists && !args.force) {
    throw new ModuleFailure(`src file does not exist, use "force=yes" if you really want to create the link: ${src}`, { path, src });
  }
  if (self.type === "link" && self.linkTarget === src) {
    return attributesOnly(path, self, wish, base, false);
  }
  if (self.exists && self.type === "directory") {
    if (!args.force) throw new ModuleFailure(`refusing to convert from directory to symlink for ${path}`, { path });
    return linkPlan(path, src, self, wish, base, "link", sh`rmdir -- ${path} && ln -s -- ${src} ${path}`);
  }
  if (self.exists && self.type !== "link" && !args.force) {
    throw new ModuleFailure(`refusing to convert from ${stateName(self)} to symlink for ${path}`, { path });
  }
  // A temp link renamed over the path: atomic, and works over an existing link or file.
  const tmp = posix.join(posix.dirname(path), `.${posix.basename(path)}.${process.pid}.tmp`);
  return linkPlan(path, src, self, wish, base, "link", sh`ln -s -- ${src} ${tmp} && mv -Tf -- ${tmp} ${path}`);
}

function linkPlan(path: string, src: string, self: FileState, wish: AttributeWish, base: Record<string, unknown>, kind: "link" | "hard", command: string): Plan<FileApplyState> {
  const ownership = attributesCommand(path, { owner: wish.owner, group: wish.group }, { noFollow: kind === "link" });
  return {
    changed: true,
    msg: self.exists ? `${kind === "link" ? "symlink" : "hard link"} changed to ${src}` : `${kind === "link" ? "symlink" : "hard link"} created`,
    diff: [stateDiff(path, self.type === "link" ? { state: "link", src: self.linkTarget ?? "" } : { state: stateName(self) }, { state: kind, src })],
    result: { ...base, src },
    state: { command: [command, ownership].filter(Boolean).join(" && ") },
  };
}

function attributesOnly(path: string, current: FileState, wish: AttributeWish, base: Record<string, unknown>, follow: boolean): Plan<FileApplyState> {
  // Symlinks' own modes are meaningless on Linux: only owner/group apply to them.
  const effective = current.type === "link" ? { owner: wish.owner, group: wish.group } : wish;
  const attrs = planAttributes(current, effective, current.type === "directory" ? "0755" : "0644");
  const result = { ...base, mode: attrs.mode ?? current.mode, owner: current.owner, group: current.group, uid: current.uid, gid: current.gid, size: current.size };
  if (attrs.changes.length === 0) return { changed: false, reason: `${path} already ${base.state === "touch" ? "exists" : `is a ${stateName(current)}`} with these attributes`, result };
  const before: Record<string, string> = { ...attrs.before };
  const after: Record<string, string> = { ...attrs.after };
  return {
    changed: true,
    msg: attrs.changes.join(", "),
    diff: [stateDiff(path, before, after)],
    result,
    state: { command: attributesCommand(path, effective, { noFollow: current.type === "link" && !follow }) },
  };
}

function touchCommand(path: string, args: FileArgs): string {
  const stamp = (v: string | undefined) => (v && v !== "now" && v !== "preserve" ? v : undefined);
  const m = stamp(args.modification_time);
  const a = stamp(args.access_time);
  if (m && !/^\d{12}(\.\d{2})?$/.test(m)) throw new ModuleFailure(`modification_time ${m} is not YYYYMMDDHHMM.SS`);
  if (a && !/^\d{12}(\.\d{2})?$/.test(a)) throw new ModuleFailure(`access_time ${a} is not YYYYMMDDHHMM.SS`);
  const parts: string[] = [];
  if (args.modification_time === "preserve" && args.access_time !== "preserve") parts.push(sh`touch -a ${a ? touchStamp(a) : ""}-- ${path}`);
  else if (args.access_time === "preserve" && args.modification_time !== "preserve") parts.push(sh`touch -m ${m ? touchStamp(m) : ""}-- ${path}`);
  else if (m || a) {
    parts.push(sh`touch -m ${m ? touchStamp(m) : ""}-- ${path}`, sh`touch -a ${a ? touchStamp(a) : ""}-- ${path}`);
  } else parts.push(sh`touch -- ${path}`);
  return parts.join(" && ");
}

function touchStamp(stamp: string): RawShell {
  return raw(`-t ${quote(stamp)} `);
}

export const file: ModuleDefinition<FileArgs, FileApplyState> = {
  name: "file",
  aliases: [],
  schema,
  plan: (args, ctx) => planFile(args, ctx),
  async apply(plan, _args, ctx): Promise<ApplyResult> {
    const command = plan.state!.command;
    if (!command) return { msg: plan.msg };
    const r = await ctx.run(command);
    if (r.rc !== 0) throw new ModuleFailure(`${plan.msg} failed: ${maskSecrets(r.stderr.trim())}`, { rc: r.rc, stderr: maskSecrets(r.stderr) });
    return { msg: plan.msg };
  },
};
