/**
 * The inventory as the run sees it: the loaded one plus hosts and groups added at run time
 * (add_host, group_by). The loaded Inventory is never modified; later plays' `hosts:` and the
 * `groups` magic variable see the additions.
 */
import type { Inventory } from "../inventory/inventory.ts";

export interface RunInventory extends Inventory {
  /** Adds (or updates) a host with variables and groups. Returns true when it is new. */
  addHost(name: string, groups: string[], vars: Record<string, unknown>): boolean;
  /** Puts a host into a group (created when missing), optionally under parent groups. */
  addToGroup(host: string, group: string, parents?: string[]): boolean;
}

/** Wraps an inventory so run-time additions stay local to this run. */
export function overlayInventory(base: Inventory): RunInventory {
  const hosts = [...base.hosts];
  const groups: Record<string, string[]> = {};
  for (const [g, hs] of Object.entries(base.groups)) groups[g] = [...hs];
  const added = new Map<string, Record<string, unknown>>();
  const extraGroups = new Map<string, Set<string>>();
  const join = (host: string, group: string): boolean => {
    const list = (groups[group] ??= []);
    if (list.includes(host)) return false;
    list.push(host);
    if (!extraGroups.has(host)) extraGroups.set(host, new Set());
    extraGroups.get(host)!.add(group);
    return true;
  };
  return {
    hosts,
    groups,
    sources: base.sources,
    hostVars(host) {
      const own = added.get(host);
      if (own && !base.hosts.includes(host)) return { ...own };
      return own ? { ...base.hostVars(host), ...own } : base.hostVars(host);
    },
    groupNames(host) {
      const names = new Set(base.hosts.includes(host) ? base.groupNames(host) : []);
      for (const g of extraGroups.get(host) ?? []) if (g !== "all") names.add(g);
      return [...names].sort();
    },
    addHost(name, hostGroups, vars) {
      const isNew = !hosts.includes(name);
      if (isNew) {
        hosts.push(name);
        join(name, "all");
        if (hostGroups.length === 0) join(name, "ungrouped");
      }
      added.set(name, { ...(added.get(name) ?? {}), ...vars });
      for (const g of hostGroups) join(name, g);
      return isNew;
    },
    addToGroup(host, group, parents = []) {
      let changed = join(host, group);
      for (const p of parents) changed = join(host, p) || changed;
      return changed;
    },
  };
}
