/**
 * host_vars/ and group_vars/ next to the inventory: which files hold a host's or group's
 * variables, as the loader reads them (`name`, `name.yml|.yaml|.json`, or a folder `name/`).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export type VarsKind = "host_vars" | "group_vars";
export const VAR_EXTENSIONS = ["", ".yml", ".yaml", ".json"];

/** The entries (files or folders) named after `name` in dir/kind, in the loader's order. */
export function varsEntries(dir: string, kind: VarsKind, name: string): string[] {
  const base = join(dir, kind);
  if (!existsSync(base)) return [];
  const present = new Set(readdirSync(base));
  return VAR_EXTENSIONS.filter((ext) => present.has(name + ext)).map((ext) => join(base, name + ext));
}

/** Every file holding variables for `name` (a folder's files recursively, in name order). */
export function varsFiles(dir: string, kind: VarsKind, name: string): string[] {
  const out: string[] = [];
  const walk = (path: string) => {
    if (!statSync(path).isDirectory()) {
      out.push(path);
      return;
    }
    for (const entry of readdirSync(path).sort()) if (!entry.startsWith(".")) walk(join(path, entry));
  };
  for (const entry of varsEntries(dir, kind, name)) walk(entry);
  return out;
}
