/**
 * group_vars/ and host_vars/ folders: each entry `<name>`, `<name>.yml|.yaml|.json`, or a folder
 * `<name>/` whose files (recursively, in name order) are merged, as Ansible's host_group_vars.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors.ts";
import { parseYaml, positionOf, readInputFile } from "../yaml/load.ts";

const VAR_EXTENSIONS = ["", ".yml", ".yaml", ".json"];

/** Name -> merged variables of every entry in `dir` (missing dir: empty map). */
export function loadVarsDir(dir: string): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return out;
  }
  // Ansible loads `name` as a folder first, then name, name.yml, name.yaml, name.json.
  const names = new Set<string>();
  for (const entry of entries) {
    if (entry.startsWith(".")) continue;
    const ext = VAR_EXTENSIONS.find((e) => e !== "" && entry.endsWith(e));
    names.add(ext ? entry.slice(0, -ext.length) : entry);
  }
  for (const name of names) {
    const vars: Record<string, unknown> = {};
    const folder = join(dir, name);
    if (isDirectory(folder)) for (const file of filesIn(folder)) Object.assign(vars, loadVarsFile(file));
    for (const ext of VAR_EXTENSIONS) {
      const file = join(dir, name + ext);
      if (ext === "" && isDirectory(file)) continue;
      if (entries.includes(name + ext)) Object.assign(vars, loadVarsFile(file));
    }
    out.set(name, vars);
  }
  return out;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function filesIn(folder: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(folder).sort()) {
    if (entry.startsWith(".")) continue;
    const path = join(folder, entry);
    if (isDirectory(path)) out.push(...filesIn(path));
    else if (VAR_EXTENSIONS.some((e) => e !== "" && entry.endsWith(e)) || !entry.includes(".")) out.push(path);
  }
  return out;
}

/** One variables file: a mapping (an empty file is no variables). */
export function loadVarsFile(file: string): Record<string, unknown> {
  const text = readInputFile(file);
  const data = parseYaml(text, file);
  if (data === null || data === undefined) return {};
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new UserError(`A variables file must be a mapping of names to values, not ${Array.isArray(data) ? "a list" : typeof data}`, {
      where: positionOf(data) ?? { file, line: 1, col: 1 },
      hint: "Write `name: value` lines at the top level.",
    });
  }
  return data as Record<string, unknown>;
}
