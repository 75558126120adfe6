/**
 * ansible.builtin.apt_repository: a one-line apt source (`deb [options] uri suite components`)
 * in sources.list / sources.list.d/*.list, where apt-config says they are. One probe reads
 * them all; the edit is Ansible's (support/apt-sources-edit.ts): the repo goes to the .list
 * file Ansible names, and when anything changes every sources file is written back in
 * Ansible's normalized form, so the files end byte for byte as Ansible leaves them. Then
 * `apt-get update` (with Ansible's retries); when that fails the files are put back as they were.
 */
import type { FileDiff, ModuleDefinition, Probe } from "./types.ts";
import { readProbe } from "./probe.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { writeFileAtomic } from "./remote-file.ts";
import { parseMode } from "./support/mode.ts";
import { contentDiff } from "./support/file-diff.ts";
import { RULES, schemaPattern } from "./support/values.ts";
import { requireSuccess, schemaHeader, probeValues } from "./support/system.ts";
import { requireAptSuccess } from "./support/apt-errors.ts";

/** As the apt module runs it: no questions, waiting for a held apt lock. */
const UPDATE = "DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120 update";
import { dumpSources, editSources, parseSourceLine, parseSourcesFile, suggestFilename } from "./support/apt-sources-edit.ts";

interface AptRepositoryArgs {
  repo: string;
  state: "present" | "absent";
  filename?: string;
  mode?: string | number;
  update_cache: boolean;
  update_cache_retries: number;
  update_cache_retry_max_delay: number;
  validate_certs: boolean;
  install_python_apt: boolean;
}

/** What APT_SOURCES_PROBE reads: apt's own paths and every one-line sources file. */
export interface AptSources {
  sourcelist: string;
  /** sources.list.d, without its final "/". */
  sourceparts: string;
  files: Array<{ path: string; content: string }>;
}

interface SourcesChange {
  writes: Array<{ path: string; content: string; mode?: string }>;
  removes: string[];
  /** Each changed file as it was (undefined: it did not exist), to put back when apt-get update fails. */
  before: Array<{ path: string; content?: string }>;
}

export const APT_SOURCES_PROBE: Probe<void, AptSources> = {
  name: "apt-sources",
  command: () => [
    `command -v apt-config >/dev/null || { echo 'apt-config not found: apt_repository needs apt (Debian, Raspberry Pi OS)' >&2; exit 127; }`,
    // apt-config shell prints shell assignments for exactly this use.
    `eval "$(apt-config shell S Dir::Etc::sourcelist/f P Dir::Etc::sourceparts/d)"`,
    `printf 'sourcelist=%s\\nsourceparts=%s\\n' "$S" "\${P%/}"`,
    `for f in "$S" "\${P%/}"/*.list; do [ -f "$f" ] || continue; printf 'file='; printf %s "$f" | base64 -w0; printf ' '; base64 -w0 < "$f"; echo; done`,
  ].join("\n"),
  parse(r) {
    requireSuccess(r, "Cannot read apt's sources");
    const v = probeValues(r.stdout);
    const files = r.stdout.split("\n").filter((l) => l.startsWith("file=")).map((l) => {
      const [path, content = ""] = l.slice("file=".length).split(" ");
      return { path: Buffer.from(path, "base64").toString("utf8"), content: Buffer.from(content, "base64").toString("utf8") };
    });
    return { sourcelist: v.get("sourcelist") ?? "", sourceparts: v.get("sourceparts") ?? "", files };
  },
};

export const aptRepository: ModuleDefinition<AptRepositoryArgs, SourcesChange> = {
  name: "apt_repository",
  aliases: [],
  schema: {
    ...schemaHeader("apt_repository", "Adds or removes a one-line apt source in sources.list.d, as Ansible writes it."),
    properties: {
      repo: { type: "string", ...schemaPattern(RULES.singleLine), description: "The source line: deb [options] uri suite [components]." },
      state: { type: "string", enum: ["present", "absent"], default: "present" },
      filename: { type: "string", pattern: "^[A-Za-z0-9_][A-Za-z0-9_.-]*$", patternErrorMessage: "must be a file name of letters, digits, '_', '.' and '-' (without .list)", description: "The file in sources.list.d, without .list (default: named after the repo's host and path)." },
      mode: { type: ["string", "integer"], description: "Mode of a file the repo is added to (default 0644)." },
      update_cache: { type: "boolean", default: true, aliases: ["update-cache"], description: "Run apt-get update after a change." },
      update_cache_retries: { type: "integer", minimum: 1, default: 5 },
      update_cache_retry_max_delay: { type: "integer", minimum: 0, default: 12 },
      validate_certs: { type: "boolean", default: true, description: "Accepted (Ansible uses it for PPAs only)." },
      install_python_apt: { type: "boolean", default: true, description: "Accepted (nothing here needs python3-apt)." },
    },
    required: ["repo"],
  },
  async plan(args, ctx) {
    if (args.repo.startsWith("ppa:")) throw new ModuleFailure(`apt_repository: PPA repos (${JSON.stringify(args.repo)}) are for Ubuntu and not supported here; give the deb line instead`);
    const parsed = parseSourceLine(args.repo);
    if (!parsed.valid || !parsed.enabled) throw new ModuleFailure(`Invalid repository string: ${args.repo.trim().replace(/^#/, "")}`);
    const mode = args.mode === undefined ? "0644" : parseMode(args.mode);
    const found = await readProbe(ctx, APT_SOURCES_PROBE, undefined);
    const current = new Map(found.files.map((f) => [f.path, f.content]));
    const files = new Map(found.files.map((f) => [f.path, parseSourcesFile(f.content)]));
    const name = suggestFilename(parsed.source, args.filename);
    const newFile = `${found.sourceparts}/${name}`;
    const edited = editSources(files, parsed.source, args.state, newFile);
    const result = { repo: args.repo, state: args.state };

    const paths = [...new Set([...files.keys(), ...edited.files.keys()])];
    const changedPaths = paths.filter((p) => dumpSources(files.get(p) ?? []) !== dumpSources(edited.files.get(p) ?? []));
    // A URL's user:password stays out of the message (the file itself needs it).
    const shown = parsed.source.replace(/(\w+:\/\/)[^/@\s]+@/g, "$1***@");
    if (changedPaths.length === 0) return { changed: false, reason: `repo ${shown} ${args.state === "present" ? "present" : "absent"}`, result };

    // Ansible then writes every sources file in its normalized form: the same end state.
    const change: SourcesChange = { writes: [], removes: [], before: [] };
    const diff: FileDiff[] = [];
    for (const path of paths) {
      const after = dumpSources(edited.files.get(path) ?? []);
      const before = current.get(path);
      if (after === before) continue;
      if (after === undefined) {
        if (before === undefined) continue;
        change.removes.push(path);
      } else {
        change.writes.push({ path, content: after, mode: edited.touched.has(path) ? mode : undefined });
      }
      change.before.push({ path, content: before });
      if (changedPaths.includes(path)) {
        diff.push(contentDiff(before ?? "", after ?? "", path, { beforeHeader: before === undefined ? "/dev/null" : path, afterHeader: after === undefined ? "/dev/null" : path }));
      }
    }
    return {
      changed: true,
      msg: args.state === "present" ? `repo added to ${newFile}` : `repo removed`,
      diff,
      state: change,
      result,
    };
  },
  async apply(plan, args, ctx) {
    const s = plan.state!;
    for (const w of s.writes) await writeFileAtomic(ctx, w.path, w.content, { makeParents: true, ...(w.mode ? { mode: w.mode } : {}) });
    for (const path of s.removes) requireSuccess(await ctx.run(sh`rm -f -- ${path}`), `Cannot remove ${path}`);
    if (!args.update_cache) return { msg: plan.msg };
    const retries = Math.floor(args.update_cache_retries);
    const maxDelay = Math.floor(args.update_cache_retry_max_delay);
    // Ansible's exponential backoff (1, 2, 4, ... seconds, at most max_delay); an index that
    // could not be fetched fails an attempt even though apt-get exits 0 (Ansible's FetchFailedException).
    const update = [
      "i=1; d=1",
      "while :; do",
      `  o=$(${UPDATE} 2>&1); r=$?`,
      `  if [ $r -eq 0 ] && ! printf '%s\\n' "$o" | grep -q '^[WE]: Failed to fetch '; then exit 0; fi`,
      `  if [ $i -ge ${retries} ]; then printf '%s\\n' "$o" >&2; [ $r -eq 0 ] && r=1; exit $r; fi`,
      `  sleep $d; i=$((i+1)); d=$((d*2)); [ $d -gt ${maxDelay} ] && d=${maxDelay}`,
      "done",
    ].join("\n");
    const r = await ctx.run(update, { timeoutMs: 15 * 60_000 });
    if (r.rc === 0) return { msg: `${plan.msg}, apt cache updated` };
    // As Ansible: the sources go back to what they were, so apt is not left broken.
    for (const b of s.before) {
      if (b.content === undefined) await ctx.run(sh`rm -f -- ${b.path}`);
      else await writeFileAtomic(ctx, b.path, b.content);
    }
    try {
      requireAptSuccess(r, "apt-get update", ctx.host, { update: true });
    } catch (e) {
      if (!(e instanceof ModuleFailure)) throw e;
      throw new ModuleFailure(`${e.message}; the sources files were put back as they were`, e.result);
    }
    throw new ModuleFailure(`apt-get update failed on ${ctx.host} (rc ${r.rc}); the sources files were put back as they were`, { rc: r.rc });
  },
};
