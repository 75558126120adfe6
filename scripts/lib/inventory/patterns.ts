/**
 * Ansible host patterns (`hosts:`, `--limit`): names, groups, `all`/`*`, wildcards, `~regex`,
 * `a:b` / `a,b` union, `a:&b` intersection, `a:!b` exclusion, `@file`, `group[0]`, `group[1:3]`.
 * As Ansible: unions first, then intersections, then exclusions, whatever their written order.
 */
import { boundedRegExp } from "../bounded-regex.ts";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { UserError, ExitCode } from "../errors.ts";
import type { Inventory } from "./types.ts";

const LOCALHOST_NAMES = ["localhost", "127.0.0.1", "::1"];

/** The hosts a pattern selects, and the parts of it that matched nothing (for the CLI's warning). */
export interface HostMatch {
  hosts: string[];
  /** Terms (without their `&`/`!`) that matched no host: "Could not match supplied host pattern, ignoring: X". */
  unmatched: string[];
}

/** Hosts selected by `pattern`, in inventory order, each once. */
export function selectHosts(inventory: Inventory, pattern: string | string[], options: { baseDir?: string } = {}): string[] {
  return matchHosts(inventory, pattern, options).hosts;
}

/** Like selectHosts, also telling which terms matched nothing. */
export function matchHosts(inventory: Inventory, pattern: string | string[], options: { baseDir?: string } = {}): HostMatch {
  const terms = expandFiles(splitPattern(pattern), options.baseDir ?? process.cwd());
  const regular = terms.filter((t) => !t.startsWith("&") && !t.startsWith("!"));
  const intersections = terms.filter((t) => t.startsWith("&")).map((t) => t.slice(1));
  const exclusions = terms.filter((t) => t.startsWith("!")).map((t) => t.slice(1));
  if (regular.length === 0) regular.push("all");
  const unmatched: string[] = [];
  const match = (term: string): string[] => {
    const found = matchOne(inventory, term);
    if (found.length === 0 && term !== "all" && term !== "*" && !unmatched.includes(term)) unmatched.push(term);
    return found;
  };
  const selected = new Set<string>();
  for (const term of regular) for (const h of match(term)) selected.add(h);
  for (const term of intersections) {
    const keep = new Set(match(term));
    for (const h of [...selected]) if (!keep.has(h)) selected.delete(h);
  }
  for (const term of exclusions) for (const h of match(term)) selected.delete(h);
  const inOrder = inventory.hosts.filter((h) => selected.has(h));
  for (const h of selected) if (!inOrder.includes(h)) inOrder.push(h); // implicit localhost
  return { hosts: inOrder, unmatched };
}

/** Splits a pattern into terms: on commas, else on colons outside `[...]` (so ranges and slices survive). */
export function splitPattern(pattern: string | string[]): string[] {
  if (Array.isArray(pattern)) return pattern.flatMap((p) => splitPattern(p));
  const parts = pattern.includes(",") ? pattern.split(",") : [pattern];
  const terms: string[] = [];
  for (const part of parts) {
    const p = part.trim();
    if (p === "") continue;
    // A regex (~...) or an IPv6 address keeps its colons.
    if (/^[!&]?~/.test(p) || /^[!&]?[0-9a-fA-F]*::?[0-9a-fA-F:]*$/.test(p) && (p.match(/:/g) ?? []).length > 1) {
      terms.push(p);
      continue;
    }
    for (const m of p.matchAll(/(?:[^\s:\[\]]|\[[^\]]*\])+/g)) terms.push(m[0]);
  }
  return terms;
}

function expandFiles(terms: string[], baseDir: string): string[] {
  return terms.flatMap((term) => {
    const prefix = /^[!&]/.test(term) ? term[0] : "";
    const body = term.slice(prefix.length);
    if (!body.startsWith("@")) return [term];
    const file = resolve(baseDir, body.slice(1));
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      throw new UserError(`Cannot read the host list file "${body.slice(1)}"`, {
        exitCode: ExitCode.badOptions,
        hint: "--limit @FILE takes a file with one host name or pattern per line.",
      });
    }
    return text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"))
      .map((l) => (prefix && !/^[!&]/.test(l) ? prefix + l : l));
  });
}

const SUBSCRIPT = /^(.+)\[(?:(-?\d+)|(\d+)([:-])(\d+)?)\]$/;

function matchOne(inventory: Inventory, term: string): string[] {
  let name = term;
  let slice: ((hosts: string[]) => string[]) | undefined;
  const sub = term.startsWith("~") ? null : SUBSCRIPT.exec(term);
  if (sub) {
    name = sub[1];
    if (sub[2] !== undefined) {
      const i = Number(sub[2]);
      slice = (hosts) => {
        const h = hosts[i < 0 ? hosts.length + i : i];
        return h === undefined ? [] : [h];
      };
    } else {
      const start = Number(sub[3]);
      const end = sub[5] === undefined ? undefined : Number(sub[5]);
      // Ansible's slices include their end: web[0:2] is three hosts.
      slice = (hosts) => hosts.slice(start, end === undefined ? undefined : end + 1);
    }
  }
  const found = enumerate(inventory, name);
  return slice ? slice(found) : found;
}

function enumerate(inventory: Inventory, pattern: string): string[] {
  if (pattern === "all" || pattern === "*") return [...inventory.hosts];
  const test = matcher(pattern);
  const results: string[] = [];
  const add = (hosts: string[]) => {
    for (const h of hosts) if (!results.includes(h)) results.push(h);
  };
  const groupNames = Object.keys(inventory.groups).filter(test);
  for (const g of groupNames) add(inventory.groups[g]);
  if (groupNames.length === 0 || pattern.startsWith("~") || /[.?*\[]/.test(pattern)) add(inventory.hosts.filter(test));
  if (results.length === 0 && LOCALHOST_NAMES.includes(pattern)) results.push(pattern);
  return results;
}

const matcherCache = new Map<string, (name: string) => boolean>();

function matcher(pattern: string): (name: string) => boolean {
  let m = matcherCache.get(pattern);
  if (m) return m;
  if (pattern.startsWith("~")) {
    let re: RegExp;
    try {
      re = boundedRegExp(`^(?:${pattern.slice(1).replace(/\(\?P</g, "(?<")})`);
    } catch (e) {
      throw new UserError(`Invalid regular expression in host pattern "${pattern}": ${(e as Error).message}`, {
        exitCode: ExitCode.badOptions,
        hint: "A pattern starting with ~ is a regular expression matched at the start of each name.",
      });
    }
    m = (name) => re.test(name);
  } else if (/[*?\[]/.test(pattern)) {
    const re = new RegExp(`^${fnmatchToRegex(pattern)}$`);
    m = (name) => re.test(name);
  } else {
    m = (name) => name === pattern;
  }
  matcherCache.set(pattern, m);
  return m;
}

/** Python's fnmatch.translate: * any run, ? one char, [seq], [!seq]. */
function fnmatchToRegex(glob: string): string {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") out += ".*";
    else if (c === "?") out += ".";
    else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close < 0) out += "\\[";
      else {
        let body = glob.slice(i + 1, close);
        if (body.startsWith("!")) body = "^" + body.slice(1);
        out += `[${body.replace(/\\/g, "\\\\")}]`;
        i = close;
      }
    } else out += c.replace(/[.+^${}()|\\\/-]/g, "\\$&");
  }
  return out;
}
