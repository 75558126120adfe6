/**
 * The edits: add, remove, move and rename hosts, set and unset variables. Each works on the
 * parsed Documents of the inventory file and of the host_vars/group_vars files it touches
 * (an EditSession), so comments, order and quoting stay; nothing is written here (see
 * commit.ts).
 */
import { readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { isMap, isScalar, Scalar, visit, type Node, type YAMLMap } from "yaml";
import { UserError } from "../errors.ts";
import { checkGroupName, checkHostName, checkVariableName } from "./names.ts";
import { findSites, groupSites, hostSites, isEmptyValue, varsSite, type HostSite, type Sites } from "./sites.ts";
import { varsEntries, varsFiles, type VarsKind } from "./vars-files.ts";
import { childMap, keyName, valueMap, YamlFile } from "./yaml-file.ts";

export type Target = { host: string } | { group: string };

export class EditSession {
  /** Files opened for editing, the inventory first. */
  readonly files = new Map<string, YamlFile>();
  readonly renames: Array<{ from: string; to: string }> = [];
  /** What the user should know about the edit (printed as warnings). */
  readonly notes: string[] = [];
  readonly dir: string;

  constructor(readonly inventory: YamlFile) {
    this.files.set(inventory.file, inventory);
    this.dir = dirname(inventory.file);
  }

  sites(): Sites {
    return findSites(this.inventory);
  }

  varsFile(path: string): YamlFile {
    let file = this.files.get(path);
    if (!file) {
      if (path.endsWith(".json")) throw new UserError("Variables in a JSON file are edited by hand", { where: { file: path }, exitCode: 1 });
      file = new YamlFile(path, readFileSync(path, "utf8"));
      this.files.set(path, file);
    }
    return file;
  }
}

function scalarValue(file: YamlFile, value: unknown): Node {
  return file.doc.createNode(value) as Node;
}

/** Sets key in map; an existing scalar keeps its quoting when the new value is a scalar too. */
function setKey(file: YamlFile, map: YAMLMap, key: string, value: unknown): void {
  const current = map.get(key, true) as Node | undefined;
  const plain = value === null || typeof value !== "object";
  if (isScalar(current) && plain && typeof current.value === typeof value) {
    current.value = value;
    return;
  }
  map.set(key, scalarValue(file, value));
}

function removeHostPair(site: HostSite, sites: Sites): void {
  site.hosts.items.splice(site.hosts.items.indexOf(site.pair), 1);
  if (site.hosts.items.length > 0) return;
  // An emptied `hosts:` goes, and an emptied group is written `group:` as before it had hosts.
  const group = sites.groups.find((g) => isMap(g.pair.value) && (g.pair.value as YAMLMap).get("hosts", true) === (site.hosts as unknown));
  if (!group) return;
  const body = group.pair.value as YAMLMap;
  body.delete("hosts");
  if (body.items.length === 0) group.pair.value = null;
}

/** The `hosts:` mapping of a group to add a host to; the group is made under all.children when missing. */
function hostsOf(session: EditSession, group: string): YAMLMap {
  const file = session.inventory;
  const sites = session.sites();
  if (group === "ungrouped" || group === "all") {
    const all = groupSites(sites, "all")[0];
    const allBody = all ? valueMap(file, all.pair, 'Group "all"') : childMap(file, file.topMap("The inventory"), "all", 'Group "all"');
    return childMap(file, allBody, "hosts", 'The hosts of group "all"');
  }
  const found = groupSites(sites, group);
  if (found.length === 0) {
    checkGroupName(group);
    const top = file.topMap("The inventory");
    const all = groupSites(sites, "all")[0];
    const parent = all ? childMap(file, valueMap(file, all.pair, 'Group "all"'), "children", 'The children of group "all"') : top;
    parent.set(group, file.doc.createNode({ hosts: {} }));
    session.notes.push(`Group "${group}" did not exist: made it${all ? " under all.children" : ""}`);
    return childMap(file, parent.get(group, true) as unknown as YAMLMap, "hosts", `The hosts of group "${group}"`);
  }
  const site = found.find((s) => isMap(s.pair.value) && isMap((s.pair.value as YAMLMap).get("hosts", true))) ?? found[0];
  return childMap(file, valueMap(file, site.pair, `Group "${group}"`), "hosts", `The hosts of group "${group}"`);
}

export function addHost(session: EditSession, host: string, groups: string[], vars: Array<[string, unknown]>): void {
  checkHostName(host);
  const sites = session.sites();
  if (groupSites(sites, host).length > 0) throw new UserError(`"${host}" is already a group name`, { exitCode: 1, hint: "Hosts and groups need different names." });
  const existing = sites.hosts.filter((s) => s.host === host);
  const targets = groups.length > 0 ? groups : existing.length > 0 ? [] : ["ungrouped"];
  const missing = targets.filter((g) => !existing.some((s) => s.group === g || (g === "ungrouped" && s.group === "all")));
  if (existing.length > 0 && missing.length === 0 && vars.length === 0) {
    throw new UserError(`Host "${host}" is already in ${targets.length > 0 ? targets.join(", ") : "the inventory"}`, { exitCode: 1, hint: "Use set-var to change its variables, move-host to move it." });
  }
  for (const g of missing) hostsOf(session, g).add(session.inventory.doc.createPair(host, null));
  for (const [k, v] of vars) setVar(session, { host }, k, v);
}

export function removeHost(session: EditSession, host: string, group?: string): void {
  const file = session.inventory;
  const sites = session.sites();
  const all = hostSites(file, sites, host);
  const removed = group === undefined ? all : all.filter((s) => s.group === group || (group === "ungrouped" && s.group === "all"));
  if (removed.length === 0) throw new UserError(`Host "${host}" is not in group "${group}"`, { exitCode: 1, hint: `It is in: ${all.map((s) => s.group).join(", ")}.` });
  const remaining = all.filter((s) => !removed.includes(s));
  if (remaining.length > 0) {
    // Its variables stay with the host: moved to a place that remains.
    const from = varsSite(removed);
    if (!isEmptyValue(from.pair.value)) {
      const to = varsSite(remaining);
      if (isEmptyValue(to.pair.value)) to.pair.value = from.pair.value;
      else {
        const target = to.pair.value as YAMLMap;
        for (const p of (from.pair.value as YAMLMap).items) if (!target.has(keyName(p))) target.items.push(p);
      }
    }
  }
  for (const site of removed) removeHostPair(site, sites);
  if (remaining.length === 0) {
    for (const entry of varsEntries(session.dir, "host_vars", host)) session.notes.push(`${entry} is still there: remove it if ${host} is gone for good`);
  }
}

export function moveHost(session: EditSession, host: string, from: string, to: string): void {
  if (from === to) throw new UserError(`--from and --to are both "${from}"`, { exitCode: 5, hint: "Name the group it leaves and the one it joins." });
  const file = session.inventory;
  const sites = session.sites();
  const all = hostSites(file, sites, host);
  const source = all.find((s) => s.group === from || (from === "ungrouped" && s.group === "all"));
  if (!source) throw new UserError(`Host "${host}" is not in group "${from}"`, { exitCode: 1, hint: `It is in: ${all.map((s) => s.group).join(", ")}.` });
  if (all.some((s) => s.group === to)) {
    removeHost(session, host, from);
    return;
  }
  const target = hostsOf(session, to);
  // The same pair moves: its variables and the comments written with it come along.
  removeHostPair(source, session.sites());
  target.items.push(source.pair);
}

export function renameHost(session: EditSession, from: string, to: string): void {
  checkHostName(to);
  const file = session.inventory;
  const sites = session.sites();
  const all = hostSites(file, sites, from);
  if (sites.hosts.some((s) => s.host === to)) throw new UserError(`Host "${to}" is already in the inventory`, { exitCode: 1 });
  if (groupSites(sites, to).length > 0) throw new UserError(`"${to}" is already a group name`, { exitCode: 1 });
  for (const site of all) {
    const key = site.pair.key as Scalar;
    key.value = String(key.value).replace(from, to);
  }
  for (const entry of varsEntries(session.dir, "host_vars", from)) {
    const renamed = join(dirname(entry), to + basename(entry).slice(from.length));
    if (varsEntries(session.dir, "host_vars", to).length > 0) throw new UserError(`host_vars for "${to}" already exist`, { where: { file: renamed }, exitCode: 1, hint: "Merge or remove them first; nothing was changed." });
    session.renames.push({ from: entry, to: renamed });
  }
  // Other variables that name the host (ntp_server_host: pi-master) are the user's to decide.
  visit(file.doc, {
    Scalar(_key, node) {
      if (node.value === from) session.notes.push(`${file.file}:${file.where(node.range?.[0]).line}: still says "${from}"; change it if it means this host`);
    },
  });
}

/** Files in dir/kind for `name` that set `key`. */
function definingFiles(session: EditSession, kind: VarsKind, name: string, key: string): YamlFile[] {
  return varsFiles(session.dir, kind, name)
    .map((path) => session.varsFile(path))
    .filter((f) => isMap(f.doc.contents) && (f.doc.contents as YAMLMap).has(key));
}

/** The inventory mappings holding the target's own variables (created when `create`). */
function inventoryVarMaps(session: EditSession, target: Target, create: boolean): YAMLMap[] {
  const file = session.inventory;
  const sites = session.sites();
  if ("host" in target) {
    const all = hostSites(file, sites, target.host);
    const maps = all.map((s) => s.pair.value).filter(isMap) as YAMLMap[];
    if (maps.length > 0 || !create) return maps;
    return [valueMap(file, varsSite(all).pair, `The variables of host "${target.host}"`)];
  }
  const found = groupSites(sites, target.group);
  if (found.length === 0 && target.group !== "all") throw new UserError(`Group "${target.group}" is not in ${file.file}`, { exitCode: 1, hint: "List the groups with --graph." });
  const maps = found.map((g) => g.pair.value).filter(isMap).map((b) => (b as YAMLMap).get("vars", true) as unknown).filter(isMap) as YAMLMap[];
  if (maps.length > 0 || !create) return maps;
  const body = found[0] ? valueMap(file, found[0].pair, `Group "${target.group}"`) : childMap(file, file.topMap("The inventory"), "all", 'Group "all"');
  return [childMap(file, body, "vars", `The vars of group "${target.group}"`)];
}

export function setVar(session: EditSession, target: Target, key: string, value: unknown): void {
  checkVariableName(key);
  const [kind, name] = "host" in target ? (["host_vars", target.host] as const) : (["group_vars", target.group] as const);
  if ("host" in target) hostSites(session.inventory, session.sites(), target.host);
  // A value in host_vars/group_vars wins over the inventory's: change it where it takes effect.
  const files = definingFiles(session, kind, name, key);
  for (const f of files) setKey(f, f.doc.contents as YAMLMap, key, value);
  if (files.length > 0) return;
  const maps = inventoryVarMaps(session, target, false).filter((m) => m.has(key));
  const into = maps.length > 0 ? maps : inventoryVarMaps(session, target, true).slice(0, 1);
  for (const m of into) setKey(session.inventory, m, key, value);
}

export function unsetVar(session: EditSession, target: Target, key: string): void {
  const [kind, name] = "host" in target ? (["host_vars", target.host] as const) : (["group_vars", target.group] as const);
  let found = 0;
  for (const f of definingFiles(session, kind, name, key)) {
    (f.doc.contents as YAMLMap).delete(key);
    found++;
  }
  const sites = session.sites();
  for (const m of inventoryVarMaps(session, target, false)) {
    if (!m.delete(key)) continue;
    found++;
    if (m.items.length > 0) continue;
    // Leave `host:` rather than `host: {}`, and drop an emptied `vars:`.
    for (const s of sites.hosts) if (s.pair.value === m) s.pair.value = null;
    for (const g of sites.groups) {
      const body = g.pair.value;
      if (isMap(body) && (body.get("vars", true) as unknown) === m) {
        body.delete("vars");
        if (body.items.length === 0) g.pair.value = null;
      }
    }
  }
  if (found === 0) throw new UserError(`${"host" in target ? `Host "${target.host}"` : `Group "${target.group}"`} has no variable "${key}" of its own`, { exitCode: 1, hint: "It may come from a group; --host NAME shows the merged variables." });
}

/**
 * `k=v` from the command line. The value is read as a YAML scalar (10 and true are a number
 * and a boolean, '10' a string) or, written as `[...]`/`{...}`, a list or mapping; anything
 * else stays the text typed (`#fff`, `a: b` are strings, not a comment and a mapping).
 */
export function parseAssignment(text: string, file: string): [string, unknown] {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new UserError(`Expected name=value, got "${text}"`, { exitCode: 5 });
  const key = checkVariableName(text.slice(0, eq));
  const raw = text.slice(eq + 1);
  if (raw === "") return [key, ""];
  if (/^[[{"']/.test(raw)) return [key, new YamlFile(file, raw).doc.toJS()];
  let parsed: unknown;
  try {
    parsed = new YamlFile(file, raw).doc.toJS();
  } catch {
    return [key, raw];
  }
  const scalar = parsed === null ? /^(null|Null|NULL|~)$/.test(raw) : typeof parsed !== "object" || parsed instanceof Date;
  return [key, scalar && !(parsed instanceof Date) ? parsed : raw];
}

