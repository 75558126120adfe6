/**
 * lookup()/query()/q() as Ansible's, for the plugins that make sense without spawning anything:
 * env, file, vars, template, items, list, dict, indexed_items, first_found, subelements,
 * inventory_hostnames.
 * pipe and other process-running lookups are refused: templates never start processes.
 */
import { readFileSync } from "node:fs";
import { active } from "./engine.ts";
import { isUndefined, TemplateError, type Undefined } from "./errors.ts";
import { join } from "node:path";
import { isMapping, pyStr, splitKwargs, typeName } from "./python.ts";
import { matchHosts } from "../inventory/patterns.ts";
import type { Inventory } from "../inventory/inventory.ts";

// deno-lint-ignore no-explicit-any
type Env = any;

/** The role subfolder a relative file is searched in first (Ansible's lookup `_subdir`). */
export type FileKind = "files" | "templates" | "vars";

/** What lookups need from the Templar (kept small to avoid an import cycle). */
interface LookupHost {
  findFile(name: string, kind?: FileKind): string | undefined;
  lookup(name: string): unknown;
  renderText(text: string, sourceName: string): string;
  render<T>(value: T): T;
  searchPaths: string[];
}

function host(): LookupHost {
  const h = active.source as unknown as LookupHost | undefined;
  if (!h) throw new TemplateError("lookup() used outside a template");
  return h;
}

const REFUSED = new Set(["pipe", "lines", "shell", "command", "password", "url", "dig", "passwordstore", "hashi_vault"]);

function runLookup(name: string, terms: unknown[], kw: Record<string, unknown>): unknown[] {
  const short = name.replace(/^(ansible\.builtin|community\.general)\./, "");
  if (REFUSED.has(short)) {
    throw new TemplateError(`lookup('${name}') is not supported: templates never run programs or reach the network`, {
      hint: "Run it as a task (command/shell) with register:, then use the registered result.",
    });
  }
  switch (short) {
    case "env":
      return terms.map((t) => process.env[pyStr(t)] ?? (kw.default !== undefined ? kw.default : ""));
    case "file":
      return terms.map((t) => {
        const path = host().findFile(pyStr(t), "files");
        if (!path) {
          throw new TemplateError(`lookup('file'): could not find "${pyStr(t)}"`, {
            hint: `Looked in ${host().searchPaths.map((p) => `${p}/files`).join(", ") || "the current directory"}.`,
          });
        }
        const text = readFileSync(path, "utf8");
        return kw.rstrip === false ? text : text.replace(/\s+$/, "");
      });
    case "template":
      return terms.map((t) => {
        const path = host().findFile(pyStr(t), "templates");
        if (!path) throw new TemplateError(`lookup('template'): could not find "${pyStr(t)}"`);
        return host().renderText(readFileSync(path, "utf8"), path);
      });
    case "vars":
      return terms.map((t) => {
        const v = host().lookup(pyStr(t));
        if (isUndefined(v)) {
          if (kw.default !== undefined) return kw.default;
          (v as Undefined).fail();
        }
        return v;
      });
    case "first_found":
      // Its terms are templated, nested ones too (`files: ["{{ ansible_os_family }}.yml"]` in a variable).
      return firstFound(host().render(terms), host().render(kw), "files", (n, sub) => host().findFile(n, sub));
    case "items":
    case "list":
      return terms.flatMap((t) => (Array.isArray(t) && short === "items" ? t : [t]));
    case "indexed_items":
      return terms.flatMap((t) => (Array.isArray(t) ? t : [t])).map((t, i) => [i, t]);
    case "dict":
      return terms.flatMap((t) => (isMapping(t) ? Object.keys(t).map((k) => ({ key: k, value: t[k] })) : []));
    case "sequence":
      return sequence(terms, kw);
    case "subelements":
      return subelements(terms);
    case "inventory_hostnames": {
      const groups = host().lookup("groups");
      if (!isMapping(groups)) throw new TemplateError("lookup('inventory_hostnames') needs the groups variable");
      const inventory = { hosts: (groups.all as string[]) ?? [], groups: groups as Record<string, string[]> } as unknown as Inventory;
      return matchHosts(inventory, terms.map(pyStr)).hosts;
    }
  }
  throw new TemplateError(`Unknown lookup plugin "${name}"`, {
    hint: "Supported: env, file, template, vars, first_found, items, list, indexed_items, dict, sequence, subelements, inventory_hostnames.",
  });
}

/**
 * Ansible's first_found: terms are file names (a string is split on , and ;), lists of them, or
 * mappings with files: and paths: (paths split on , : and ;); each file is tried under each path,
 * in order, and searched as any relative file (`kind` subfolder of the role, then the playbook's).
 * The first that exists is returned; none: [] with skip, else Ansible's error.
 */
export function firstFound(terms: unknown[], kw: Record<string, unknown>, kind: FileKind, find: (name: string, kind: FileKind) => string | undefined): string[] {
  const split = (v: unknown, seps: RegExp): string[] =>
    (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]).flatMap((x) => (Array.isArray(x) ? split(x, seps) : pyStr(x).split(seps))).map((x) => x.trim()).filter((x) => x !== "");
  const bool = (v: unknown) => (typeof v === "string" ? /^(y|yes|on|true|1)$/i.test(v.trim()) : Boolean(v));
  let skip = bool(kw.skip ?? false);
  const defaultPaths = split(kw.paths, /[,:;]/);
  const candidates: string[] = [];
  const add = (files: string[], paths: string[]) => {
    for (const f of files) {
      if (paths.length === 0) candidates.push(f);
      else for (const p of paths) candidates.push(join(p, f));
    }
  };
  const visit = (term: unknown): void => {
    if (Array.isArray(term)) term.forEach(visit);
    else if (isMapping(term)) {
      add(split(term.files, /[,;]/), term.paths !== undefined ? split(term.paths, /[,:;]/) : defaultPaths);
      if (term.skip !== undefined) skip = bool(term.skip);
    } else if (typeof term === "string") add(split(term, /[,;]/), defaultPaths);
    else throw new TemplateError(`lookup('first_found'): a term must be a file name, a list or a mapping with files:, not '${typeName(term)}'`);
  };
  visit(terms.length === 0 && kw.files !== undefined ? [{ files: kw.files }] : terms);
  for (const c of candidates) {
    const path = find(c, kind);
    if (path) return [path];
  }
  if (skip) return [];
  throw new TemplateError("No file was found when using first_found.", {
    hint: `Tried ${candidates.map((c) => JSON.stringify(c)).join(", ") || "no file"} (in the role's ${kind}/ folder, then the playbook's). Add skip: true to skip the task when none exists.`,
  });
}

/**
 * Ansible's subelements: terms are [list or dict of mappings, "key" or "a.b", optional
 * {skip_missing}]; one [parent, element] pair per element of each parent's list. As Ansible, the
 * list is taken out of the parent in the pair, and skipped parents (registered results) are left out.
 */
export function subelements(terms: unknown[]): unknown[] {
  const usage = "lookup('subelements') takes a list (or dict) of mappings, the key of their lists, and optionally {skip_missing: true}";
  if (terms.length < 2 || terms.length > 3) throw new TemplateError(`${usage}; got ${terms.length} terms`);
  const [source, key, flags = {}] = terms;
  if ((!Array.isArray(source) && !isMapping(source)) || typeof key !== "string") throw new TemplateError(usage);
  if (!isMapping(flags)) throw new TemplateError(`${usage}; the third term is ${typeName(flags)}`);
  if (isMapping(source) && source.skipped !== undefined && source.skipped !== false) return [];
  const parents = Array.isArray(source) ? source : Object.values(source);
  const skipMissing = typeof flags.skip_missing === "string" ? /^(y|yes|on|true|1)$/i.test(flags.skip_missing) : Boolean(flags.skip_missing);
  const path = key.split(".");
  const out: unknown[] = [];
  for (const parent of parents) {
    if (!isMapping(parent)) throw new TemplateError(`subelements lookup expects a dictionary, got '${pyStr(parent)}'`);
    if (parent.skipped !== undefined && parent.skipped !== false) continue;
    let holder: Record<string, unknown> = parent;
    let found = true;
    for (const [i, k] of path.entries()) {
      const last = i === path.length - 1;
      if (!(k in holder) || (!last && !isMapping(holder[k]))) {
        if (skipMissing) {
          found = false;
          break;
        }
        throw new TemplateError(`could not find '${k}' key in iterated item '${pyStr(holder)}'`, { hint: "Add skip_missing: true as the third term to skip such items." });
      }
      if (!last) holder = holder[k] as Record<string, unknown>;
    }
    if (!found) continue;
    const list = holder[path[path.length - 1]];
    if (!Array.isArray(list)) throw new TemplateError(`the key '${key}' should point to a list, got '${pyStr(list)}'`);
    // Ansible pops the list out of the parent it pairs: item.0 has no such key.
    const copy = structuredCopyWithout(parent, path);
    for (const element of list) out.push([copy, element]);
  }
  return out;
}

/** A copy of `value` without the key at `path` (the nested mappings on the way copied too). */
function structuredCopyWithout(value: Record<string, unknown>, path: string[]): Record<string, unknown> {
  const copy = { ...value };
  if (path.length === 1) delete copy[path[0]];
  else copy[path[0]] = structuredCopyWithout(value[path[0]] as Record<string, unknown>, path.slice(1));
  return copy;
}

function sequence(terms: unknown[], kw: Record<string, unknown>): unknown[] {
  let start = Number(kw.start ?? 1);
  let end: number = kw.end !== undefined ? Number(kw.end) : kw.count !== undefined ? start + Number(kw.count) - 1 : NaN;
  let text = terms.length ? pyStr(terms[0]) : "";
  // The k=v form: "start=1 end=5 stride=2 format=node%02d".
  if (/^\w+=/.test(text)) {
    for (const word of text.split(/\s+/)) {
      const [k, ...v] = word.split("=");
      kw = { ...kw, [k]: v.join("=") };
    }
    start = Number(kw.start ?? 1);
    end = kw.end !== undefined ? Number(kw.end) : kw.count !== undefined ? start + Number(kw.count) - 1 : NaN;
    text = "";
  }
  const m = /^(?:(\d+)-)?(\d+)(?:\/(\d+))?(?::(.+))?$/.exec(text);
  if (m) {
    if (m[1] !== undefined) start = Number(m[1]);
    end = Number(m[2]);
    if (m[3] !== undefined) kw = { ...kw, stride: m[3] };
    if (m[4] !== undefined) kw = { ...kw, format: m[4] };
  }
  if (Number.isNaN(end)) throw new TemplateError("lookup('sequence') needs end= or count=");
  const stride = Number(kw.stride ?? 1);
  const format = String(kw.format ?? "%d");
  const out: string[] = [];
  for (let i = start; stride > 0 ? i <= end : i >= end; i += stride) out.push(format.replace(/%0?(\d*)d/, (_x, w: string) => String(i).padStart(Number(w || 0), "0")));
  return out;
}

/** Registers lookup, query and q as globals. */
export function installLookups(env: Env): void {
  env.addGlobal("lookup", (name: string, ...rest: unknown[]) => {
    const [terms, kw] = splitKwargs(rest);
    for (const t of terms) if (isUndefined(t)) (t as Undefined).fail();
    const values = runLookup(name, terms, kw);
    if (kw.wantlist) return values;
    // Ansible joins several results with commas; one result is returned as it is.
    return values.length === 1 ? values[0] : values.map(pyStr).join(",");
  });
  const query = (name: string, ...rest: unknown[]) => {
    const [terms, kw] = splitKwargs(rest);
    for (const t of terms) if (isUndefined(t)) (t as Undefined).fail();
    return runLookup(name, terms, kw);
  };
  env.addGlobal("query", query);
  env.addGlobal("q", query);
  // Python's dict(): from a mapping or a list of [key, value] pairs (dict(names | zip(values))),
  // then keyword arguments (dict(a=1)). range() is nunjucks's.
  env.addGlobal("dict", (...args: unknown[]) => {
    const [pos, kw] = splitKwargs(args);
    const from = pos[0] === undefined ? {} : isMapping(pos[0]) ? pos[0] : (env.getFilter("dict")(pos[0]) as Record<string, unknown>);
    return { ...from, ...kw };
  });
}
