/**
 * Loads `-i` sources (YAML inventory files, folders of them, comma lists, simple INI) into an
 * Inventory, with group_vars/ and host_vars/ next to each inventory and next to the playbook.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, extname, join, resolve } from "node:path";
import { UserError, type SourcePosition } from "../errors.ts";
import { parseYaml, positionOf, positionOfKey, readInputFile } from "../yaml/load.ts";
import { isVaulted } from "../vault/format.ts";
import { decryptVaultText } from "../vault/keyring.ts";
import { expandHostRange } from "./host-ranges.ts";
import { loadVarsDir } from "./group-vars.ts";
import { parseIniInventory } from "./ini.ts";
import type { Inventory } from "./types.ts";
import { InventoryBuilder, type GroupData } from "./builder.ts";

export interface LoadInventoryOptions {
  /** The playbook's folder: its group_vars/ and host_vars/ win over the inventory's. */
  playbookDir?: string;
}

const GROUP_KEYS = ["hosts", "vars", "children"];
const LOCALHOST_NAMES = ["localhost", "127.0.0.1", "::1"];

/** Loads every source (later sources add to earlier ones) into one Inventory. */
export function loadInventory(sources: string[], options: LoadInventoryOptions = {}): Inventory {
  const builder = new InventoryBuilder();
  const varsDirs: string[] = [];
  const files: string[] = [];
  for (const source of sources) {
    const path = resolve(source);
    if (existsSync(path)) {
      if (statSync(path).isDirectory()) {
        for (const entry of readdirSync(path).sort()) {
          const file = join(path, entry);
          // As Ansible: YAML/JSON files and extensionless ones (`hosts`, YAML or INI); not
          // .ini/.md/.bak/... (its INVENTORY_IGNORE_EXTS), nor group_vars/ and host_vars/.
          if (entry.startsWith(".") || entry.endsWith("~") || (entry.includes(".") && !/\.(ya?ml|json)$/.test(entry)) || !statSync(file).isFile()) continue;
          loadInventoryFile(builder, file);
          files.push(file);
        }
        varsDirs.push(path);
      } else {
        loadInventoryFile(builder, path);
        files.push(path);
        varsDirs.push(dirname(path));
      }
    } else if (source.includes(",")) {
      for (const entry of source.split(",").map((s) => s.trim()).filter(Boolean)) {
        const { name, port } = splitPort(entry);
        builder.host(name, { file: "-i" }, port === undefined ? undefined : { ansible_port: port });
      }
      files.push(source);
    } else {
      throw new UserError(`Inventory source not found: ${source}`, {
        exitCode: 1,
        hint: "Pass -i a YAML inventory file, a folder of them, or a comma list of hosts (`-i pi-1,pi-2,`).",
      });
    }
  }
  const inventoryDirs = [...new Set(varsDirs)];
  const playbookDirs = options.playbookDir && !inventoryDirs.includes(resolve(options.playbookDir)) ? [resolve(options.playbookDir)] : [];
  return finish(builder, files, inventoryDirs, playbookDirs);
}

function loadInventoryFile(builder: InventoryBuilder, file: string): void {
  const raw = readInputFile(file);
  // A vault-encrypted inventory (YAML or INI) is decrypted in memory before its format is told;
  // parseYaml (yaml/load.ts) marks the values of a vaulted YAML file as secrets.
  if (isVaulted(raw) && [".yml", ".yaml", ".json"].includes(extname(file))) return loadYamlInventory(builder, parseYaml(raw, file), file);
  const text = isVaulted(raw) ? decryptVaultText(raw, { file }) : raw;
  const ext = extname(file);
  if (ext === ".ini" || (![".yml", ".yaml", ".json"].includes(ext) && looksLikeIni(text))) {
    parseIniInventory(builder, text, file);
    return;
  }
  loadYamlInventory(builder, parseYaml(text, file), file);
}

export function looksLikeIni(text: string): boolean {
  const first = text.split("\n").map((l) => l.trim()).find((l) => l !== "" && !l.startsWith("#") && !l.startsWith(";"));
  if (first === undefined || first.startsWith("---") || first.startsWith("{")) return false;
  return first.startsWith("[") || !/:(\s|$)/.test(first);
}

/** `name:port` as Ansible reads host entries (an IPv6 address keeps its colons; `[::1]:22` works). */
export function splitPort(entry: string): { name: string; port?: number } {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(entry);
  if (bracketed) return { name: bracketed[1], port: Number(bracketed[2]) };
  const m = /^([^:]+):(\d+)$/.exec(entry);
  return m ? { name: m[1], port: Number(m[2]) } : { name: entry };
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value === null) return "empty";
  return typeof value === "object" ? "a mapping" : `the ${typeof value} ${JSON.stringify(value)}`;
}

/** Ansible's YAML inventory: top-level keys are groups; a group has hosts, vars, children. */
export function loadYamlInventory(builder: InventoryBuilder, data: unknown, file: string): void {
  if (data === null || data === undefined) return;
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new UserError(`An inventory must be a mapping of group names (usually just "all"), not ${describe(data)}`, {
      where: positionOf(data) ?? { file, line: 1, col: 1 },
      hint: "Start with `all:` and put `hosts:`, `vars:` and `children:` under it.",
    });
  }
  const top = data as Record<string, unknown>;
  for (const [name, body] of Object.entries(top)) {
    if (GROUP_KEYS.includes(name)) {
      throw new UserError(`Unexpected top-level key "${name}" in the inventory: top-level keys are group names`, {
        where: positionOfKey(top, name) ?? { file },
        hint: `Start the file with a group (usually \`all:\`) and indent "${name}:" under it.`,
      });
    }
    loadGroup(builder, name, body, positionOfKey(top, name) ?? { file }, file);
    if (name !== "all") builder.addChild("all", name, positionOfKey(top, name));
  }
}

function loadGroup(builder: InventoryBuilder, name: string, body: unknown, where: SourcePosition, file: string): void {
  builder.group(name, where);
  if (body === null || body === undefined) return;
  if (typeof body !== "object" || Array.isArray(body)) {
    throw new UserError(`Group "${name}" must be a mapping with hosts, vars or children, not ${describe(body)}`, {
      where: positionOf(body) ?? where,
      hint: `Under "${name}:", indent \`hosts:\`, then each host name ending with a colon (\`pi-1:\`) on its own line.`,
    });
  }
  const group = body as Record<string, unknown>;
  for (const key of Object.keys(group)) {
    if (!GROUP_KEYS.includes(key)) {
      throw new UserError(`Unknown key "${key}" in group "${name}": a group has only hosts, vars and children`, {
        where: positionOfKey(group, key) ?? where,
        hint: `If "${key}" is a host, put it under \`hosts:\`; if it is a variable, under \`vars:\`; if a group, under \`children:\`.`,
      });
    }
  }
  const hosts = group.hosts;
  if (hosts !== null && hosts !== undefined) {
    if (typeof hosts !== "object" || Array.isArray(hosts)) {
      throw new UserError(`The hosts of group "${name}" must be a mapping of host names (each with its variables or nothing), not ${describe(hosts)}`, {
        where: positionOf(hosts) ?? positionOfKey(group, "hosts") ?? where,
        hint: "Write each host as a key ending with a colon (`pi-1:` instead of `- pi-1`), its variables indented below it.",
      });
    }
    const map = hosts as Record<string, unknown>;
    for (const [pattern, vars] of Object.entries(map)) {
      const hostWhere = positionOfKey(map, pattern) ?? where;
      if (vars !== null && vars !== undefined && (typeof vars !== "object" || Array.isArray(vars))) {
        throw new UserError(`Host "${pattern}" must have a mapping of variables (or nothing), not ${describe(vars)}`, {
          where: positionOf(vars) ?? hostWhere,
          hint: `Write \`${pattern}:\` alone, or with variables indented below it (e.g. \`ansible_host: 10.0.0.2\`).`,
        });
      }
      const { name: hostPattern, port } = splitPort(pattern);
      const hostVars = port === undefined ? (vars as Record<string, unknown> | undefined) : { ansible_port: port, ...(vars as Record<string, unknown> | undefined) };
      for (const host of expandHostRange(hostPattern, hostWhere)) {
        builder.host(host, hostWhere, hostVars);
        builder.addHostToGroup(name, host);
      }
    }
  }
  const vars = group.vars;
  if (vars !== null && vars !== undefined) {
    if (typeof vars !== "object" || Array.isArray(vars)) {
      throw new UserError(`The vars of group "${name}" must be a mapping of names to values, not ${describe(vars)}`, {
        where: positionOf(vars) ?? positionOfKey(group, "vars") ?? where,
        hint: "Indent `name: value` lines under `vars:`.",
      });
    }
    Object.assign(builder.group(name).vars, vars);
  }
  const children = group.children;
  if (children !== null && children !== undefined) {
    if (typeof children !== "object" || Array.isArray(children)) {
      throw new UserError(`The children of group "${name}" must be a mapping of group names, not ${describe(children)}`, {
        where: positionOf(children) ?? positionOfKey(group, "children") ?? where,
        hint: "Write each child group as a key ending with a colon (`servers:` instead of `- servers`).",
      });
    }
    const map = children as Record<string, unknown>;
    for (const [child, childBody] of Object.entries(map)) {
      const childWhere = positionOfKey(map, child) ?? where;
      loadGroup(builder, child, childBody, childWhere, file);
      builder.addChild(name, child, childWhere);
    }
  }
}

function finish(builder: InventoryBuilder, sources: string[], inventoryDirs: string[], playbookDirs: string[]): Inventory {
  const { groups: groupData, hostOrder } = builder;
  for (const host of hostOrder) {
    if (groupData.has(host) && host !== "all" && host !== "ungrouped") {
      throw new UserError(`"${host}" is both a host and a group`, {
        where: builder.hostWhere.get(host) ?? builder.groupWhere.get(host),
        hint: "Give the group another name (e.g. a plural: servers, agents); patterns could not tell them apart.",
      });
    }
  }
  // Ansible: a group without parents is a child of all; hosts in no group are ungrouped.
  for (const g of groupData.values()) if (g.name !== "all" && g.parents.size === 0) builder.addChild("all", g.name);
  const directGroups = new Map<string, string[]>(hostOrder.map((h) => [h, []]));
  for (const g of groupData.values()) for (const h of g.hosts) directGroups.get(h)!.push(g.name);
  for (const host of hostOrder) {
    if (directGroups.get(host)!.every((g) => g === "all" || g === "ungrouped")) builder.addHostToGroup("ungrouped", host);
    else {
      const ungrouped = groupData.get("ungrouped")!;
      ungrouped.hosts = ungrouped.hosts.filter((h) => h !== host);
    }
  }
  detectCycles(groupData);
  const depth = groupDepths(groupData);

  // Hosts of each group: its own, then its children's (breadth first), as Ansible's get_hosts.
  const groups: Record<string, string[]> = {};
  for (const g of groupData.values()) {
    if (g.name === "all") {
      groups.all = [...hostOrder];
      continue;
    }
    const seen = new Set<string>();
    const order: string[] = [];
    const queue = [g.name];
    const visited = new Set(queue);
    while (queue.length) {
      const current = groupData.get(queue.shift()!)!;
      for (const h of current.hosts) if (!seen.has(h)) (seen.add(h), order.push(h));
      for (const c of current.children) if (!visited.has(c)) (visited.add(c), queue.push(c));
    }
    groups[g.name] = order;
  }

  // Every group a host belongs to, with ancestors, sorted as Ansible's sort_groups.
  const hostGroups = new Map<string, string[]>();
  for (const host of hostOrder) {
    const all = new Set<string>();
    const stack = [...directGroups.get(host)!, ...(groups.ungrouped.includes(host) ? ["ungrouped"] : [])];
    while (stack.length) {
      const name = stack.pop()!;
      if (all.has(name)) continue;
      all.add(name);
      stack.push(...groupData.get(name)!.parents);
    }
    all.delete("all");
    hostGroups.set(host, [...all].sort((a, b) => depth.get(a)! - depth.get(b)! || (a < b ? -1 : a > b ? 1 : 0)));
  }

  const inventoryGroupVars = inventoryDirs.map((d) => loadVarsDir(join(d, "group_vars")));
  const playbookGroupVars = playbookDirs.map((d) => loadVarsDir(join(d, "group_vars")));
  const inventoryHostVars = inventoryDirs.map((d) => loadVarsDir(join(d, "host_vars")));
  const playbookHostVars = playbookDirs.map((d) => loadVarsDir(join(d, "host_vars")));
  const fromDirs = (dirs: Map<string, Record<string, unknown>>[], name: string, into: Record<string, unknown>) => {
    for (const d of dirs) {
      const vars = d.get(name);
      if (vars) Object.assign(into, vars);
    }
    return into;
  };

  const implicitLocalhost = (host: string) => LOCALHOST_NAMES.includes(host) && !builder.hostInlineVars.has(host);
  const hostVars = (host: string): Record<string, unknown> => {
    const known = builder.hostInlineVars.has(host);
    if (!known && !implicitLocalhost(host)) return {};
    const sorted = known ? hostGroups.get(host)! : [];
    const out: Record<string, unknown> = {};
    // The order of Ansible's VARIABLE_PRECEDENCE setting (its default).
    Object.assign(out, groupData.get("all")!.vars);
    for (const g of sorted) Object.assign(out, groupData.get(g)!.vars);
    fromDirs(inventoryGroupVars, "all", out);
    fromDirs(playbookGroupVars, "all", out);
    for (const g of sorted) fromDirs(inventoryGroupVars, g, out);
    for (const g of sorted) fromDirs(playbookGroupVars, g, out);
    if (known) Object.assign(out, builder.hostInlineVars.get(host));
    else {
      // Ansible's implicit localhost: not in any group, but runs locally with all's vars.
      out.ansible_connection = "local";
    }
    fromDirs(inventoryHostVars, host, out);
    fromDirs(playbookHostVars, host, out);
    return out;
  };

  return {
    hosts: [...hostOrder],
    groups,
    hostVars,
    groupNames: (host) => [...(hostGroups.get(host) ?? [])].sort(),
    sources,
    tree: Object.fromEntries([...groupData.values()].map((g) => [g.name, { hosts: [...g.hosts], children: [...g.children], vars: fromDirs(inventoryGroupVars, g.name, { ...g.vars }) }])),
  };
}

function detectCycles(groups: Map<string, GroupData>): void {
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") {
      throw new UserError(`Groups form a cycle: ${[...path.slice(path.indexOf(name)), name].join(" -> ")}`, {
        hint: "A group cannot be (indirectly) its own child.",
      });
    }
    state.set(name, "visiting");
    for (const c of groups.get(name)!.children) visit(c, [...path, name]);
    state.set(name, "done");
  };
  for (const name of groups.keys()) visit(name, []);
}

/** Longest distance from all, as Ansible's group depth (all 0, its children 1, ...). */
function groupDepths(groups: Map<string, GroupData>): Map<string, number> {
  const depth = new Map<string, number>();
  const of = (name: string): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    const parents = [...groups.get(name)!.parents];
    const d = parents.length === 0 ? 0 : Math.max(...parents.map(of)) + 1;
    depth.set(name, d);
    return d;
  };
  for (const name of groups.keys()) of(name);
  return depth;
}
