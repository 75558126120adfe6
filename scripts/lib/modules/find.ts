/**
 * ansible.builtin.find: the entries under folders, as Ansible's `files` (path, type flags,
 * size, mode, owner, mtime), `matched`, `examined` and `skipped_paths`. Read-only; ONE round
 * trip whatever the number of paths (GNU find -printf, one NUL-ended record per entry, so any
 * file name survives). Selection as Ansible's: file_type, hidden (a name starting with "."),
 * patterns/excludes as shell globs on the base name, recurse with depth, follow. Options that
 * select by content, age, size or mode are not implemented: a task that sets one fails saying
 * so rather than returning a different list.
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { listArg, requireSuccess, schemaHeader } from "./support/system.ts";

interface FindArgs {
  paths: string | string[];
  file_type: "any" | "directory" | "file" | "link";
  hidden: boolean;
  recurse: boolean;
  depth?: number;
  follow: boolean;
  patterns?: string | string[];
  excludes?: string | string[];
  use_regex: boolean;
  [unsupported: string]: unknown;
}

/** One entry, with Ansible's field names. */
export interface FoundFile {
  path: string;
  isdir: boolean;
  isreg: boolean;
  islnk: boolean;
  size: number;
  mode: string;
  uid: number;
  gid: number;
  pw_name: string;
  gr_name: string;
  mtime: number;
}

const UNSUPPORTED = ["contains", "read_whole_file", "age", "age_stamp", "size", "exact_mode", "mode", "encoding", "limit", "get_checksum", "checksum_algorithm"];

// %y type, %m mode, %s size, %U/%G ids, %u/%g names, %T@ mtime, %d depth, %p path; NUL-ended.
const FORMAT = "%y %m %s %U %G %u %g %T@ %p\\0";

/** The probe: per path, a "@@path <index> dir|missing" record, then find's (every record NUL-ended). */
export function findScript(paths: string[], options: { recurse: boolean; depth?: number; follow: boolean }): string {
  const maxDepth = options.recurse ? (options.depth !== undefined ? ` -maxdepth ${options.depth}` : "") : " -maxdepth 1";
  return paths
    .map((p, i) =>
      [
        sh`p=${p}`,
        // find reads an operand starting with "-" as an expression: make it ./-name.
        `case "$p" in -*) p=./$p ;; esac`,
        // A path that is not a folder is skipped, as Ansible does.
        `if [ -d "$p" ]; then printf '@@path ${i} dir\\0'; find ${options.follow ? "-L " : ""}"$p" -mindepth 1${maxDepth} -printf '${FORMAT}'; else printf '@@path ${i} missing\\0'; fi`,
      ].join("\n"),
    )
    .join("\n");
}

/** Python's fnmatch as a RegExp (*, ?, [seq], [!seq]; everything else literal). */
export function fnmatchRegExp(pattern: string): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") out += ".*";
    else if (c === "?") out += ".";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) out += "\\[";
      else {
        let set = pattern.slice(i + 1, end).replace(/\\/g, "\\\\");
        if (set.startsWith("!")) set = "^" + set.slice(1);
        out += `[${set}]`;
        i = end;
      }
    } else out += c.replace(/[.+^${}()|\\/]/g, "\\$&");
  }
  return new RegExp(`^${out}$`, "s");
}

const TYPE_FLAGS: Record<string, Pick<FoundFile, "isdir" | "isreg" | "islnk">> = {
  d: { isdir: true, isreg: false, islnk: false },
  f: { isdir: false, isreg: true, islnk: false },
  l: { isdir: false, isreg: false, islnk: true },
};

/** Parses findScript's output into Ansible's result. Pure. */
export function parseFind(stdout: string, paths: string[], args: Pick<FindArgs, "file_type" | "hidden" | "patterns" | "excludes">): Record<string, unknown> {
  const wanted = { any: "", directory: "d", file: "f", link: "l" }[args.file_type];
  const patterns = listArg(args.patterns).map(fnmatchRegExp);
  const excludes = listArg(args.excludes).map(fnmatchRegExp);
  const files: FoundFile[] = [];
  const skipped: Record<string, string> = {};
  let examined = 0;
  let inFolder = false;
  // A find record starts with its type letter and a space, so no file name can forge a marker.
  for (const record of stdout.split("\0")) {
    const marker = /^@@path (\d+) (dir|missing)$/.exec(record);
    if (marker) {
      const root = paths[Number(marker[1])];
      inFolder = marker[2] === "dir";
      if (!inFolder) skipped[root] = `'${root}' is not a directory`;
      continue;
    }
    const m = inFolder ? /^(\S) (\d+) (\d+) (\d+) (\d+) (\S*) (\S*) ([\d.]+) (.*)$/s.exec(record) : null;
    if (!m) continue;
    examined++;
    const [, type, mode, size, uid, gid, owner, group, mtime, path] = m;
    const name = path.slice(path.lastIndexOf("/") + 1);
    if (wanted && type !== wanted) continue;
    if (!args.hidden && name.startsWith(".")) continue;
    if (patterns.length && !patterns.some((r) => r.test(name))) continue;
    if (excludes.some((r) => r.test(name))) continue;
    const flags = TYPE_FLAGS[type] ?? { isdir: false, isreg: false, islnk: false };
    files.push({ path, ...flags, size: Number(size), mode: mode.padStart(4, "0"), uid: Number(uid), gid: Number(gid), pw_name: owner, gr_name: group, mtime: Number(mtime) });
  }
  const msg = Object.keys(skipped).length ? "Not all paths examined, check warnings for details" : "All paths examined";
  return { files, matched: files.length, examined, skipped_paths: skipped, msg };
}

const listOfStrings = { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] };

export const find: ModuleDefinition<FindArgs> = {
  name: "find",
  aliases: [],
  schema: {
    ...schemaHeader("find", "Returns the files and folders under the given folders (read-only)."),
    properties: {
      paths: { ...listOfStrings, aliases: ["name", "path"], description: "Folders to search (a list, or comma-separated)." },
      file_type: { type: "string", enum: ["any", "directory", "file", "link"], default: "file", description: "Which entries to return." },
      hidden: { type: "boolean", default: false, description: "Also return entries whose name starts with \".\"." },
      recurse: { type: "boolean", default: false, description: "Descend into subfolders." },
      depth: { type: "integer", minimum: 1, description: "With recurse: how many levels (1 = the folder's own entries)." },
      follow: { type: "boolean", default: false, description: "Follow symbolic links." },
      patterns: { ...listOfStrings, aliases: ["pattern"], description: "Shell globs; an entry's base name must match one." },
      excludes: { ...listOfStrings, aliases: ["exclude"], description: "Shell globs; an entry whose base name matches one is left out." },
      use_regex: { type: "boolean", default: false, description: "Not supported as true: patterns are shell globs." },
      ...Object.fromEntries(UNSUPPORTED.map((name) => [name, { description: "Not supported: a task that sets it fails." }])),
    },
    required: ["paths"],
  },
  async plan(args, ctx) {
    const unsupported = [...UNSUPPORTED.filter((name) => args[name] !== undefined), ...(args.use_regex ? ["use_regex"] : [])];
    if (unsupported.length) {
      throw new ModuleFailure(`find: ${unsupported.map((o) => `"${o}"`).join(", ")} ${unsupported.length > 1 ? "are" : "is"} not supported by this runner; select with file_type, hidden, patterns and excludes (shell globs), recurse and depth`);
    }
    const paths = listArg(args.paths);
    const r = requireSuccess(await ctx.run(findScript(paths, args)), `Cannot search ${paths.join(", ")}`);
    const result = parseFind(r.stdout, paths, args);
    // Ansible's words (its warning, and msg when a path was skipped).
    for (const [path, why] of Object.entries(result.skipped_paths as Record<string, string>)) ctx.warn(`Skipped '${path}' path due to this access issue: ${why}`);
    return { changed: false, reason: `${result.matched} of ${result.examined} entries match`, result };
  },
};
