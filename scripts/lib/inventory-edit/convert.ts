/**
 * `convert`: an INI inventory to the equivalent YAML one, so that it can be edited with
 * comments kept from then on. Every group goes under all.children (child groups referenced
 * by name), a host's variables where it is first listed. The result is checked by loading
 * both and comparing every host's groups and variables.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { stringify } from "yaml";
import { UserError } from "../errors.ts";
import type { Inventory } from "../inventory/inventory.ts";
import { InventoryBuilder } from "../inventory/builder.ts";
import { parseIniInventory } from "../inventory/ini.ts";

export function iniToYaml(file: string): string {
  const builder = new InventoryBuilder();
  parseIniInventory(builder, readFileSync(file, "utf8"), file);
  const placed = new Set<string>();
  const hostEntry = (host: string) => {
    if (placed.has(host)) return null;
    placed.add(host);
    const vars = builder.hostInlineVars.get(host) ?? {};
    return Object.keys(vars).length > 0 ? vars : null;
  };
  const groupBody = (name: string) => {
    const g = builder.groups.get(name)!;
    const body: Record<string, unknown> = {};
    if (g.hosts.length > 0) body.hosts = Object.fromEntries(g.hosts.map((h) => [h, hostEntry(h)]));
    if (Object.keys(g.vars).length > 0) body.vars = g.vars;
    if (g.children.length > 0) body.children = Object.fromEntries(g.children.map((c) => [c, null]));
    return body;
  };
  const all = builder.groups.get("all")!;
  const allBody: Record<string, unknown> = {};
  const ungrouped = builder.hostOrder.filter((h) => [...builder.groups.values()].every((g) => g.name === "all" || g.name === "ungrouped" || !g.hosts.includes(h)));
  if (ungrouped.length > 0) allBody.hosts = Object.fromEntries(ungrouped.map((h) => [h, hostEntry(h)]));
  if (Object.keys(all.vars).length > 0) allBody.vars = all.vars;
  const children: Record<string, unknown> = {};
  for (const g of builder.groups.values()) {
    if (g.name === "all" || g.name === "ungrouped") continue;
    const body = groupBody(g.name);
    children[g.name] = Object.keys(body).length > 0 ? body : null;
  }
  if (Object.keys(children).length > 0) allBody.children = children;
  const header = `# Converted from ${basename(file)} (INI) by scripts/inventory.ts convert; its comments were not carried over.\n`;
  return header + stringify({ all: allBody }, { lineWidth: 0, nullStr: "", aliasDuplicateObjects: false });
}

/** Throws when the two inventories differ in hosts, groups or any host's variables. */
export function checkSameInventory(ini: Inventory, yaml: Inventory, file: string): void {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const problem = !same(ini.hosts, yaml.hosts)
    ? "the hosts differ"
    : ini.hosts.map((h) => (!same(ini.groupNames(h), yaml.groupNames(h)) ? `${h}'s groups differ` : !same(sorted(ini.hostVars(h)), sorted(yaml.hostVars(h))) ? `${h}'s variables differ` : "")).find(Boolean);
  if (problem) throw new UserError(`Converting ${file} would change the inventory: ${problem}`, { exitCode: 1, hint: "Please report this; nothing was written." });
}

function sorted(vars: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(vars).sort().map((k) => [k, vars[k]]));
}
