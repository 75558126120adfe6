/**
 * Accumulates groups and hosts from any number of inventory sources (YAML in load.ts, INI in
 * ini.ts); load.ts then computes the Inventory from it.
 */
import { UserError, type SourcePosition } from "../errors.ts";

export interface GroupData {
  name: string;
  /** Hosts listed directly under the group, in order. */
  hosts: string[];
  children: string[];
  parents: Set<string>;
  vars: Record<string, unknown>;
}

/** Accumulates groups and hosts from any number of sources, then computes the Inventory. */
export class InventoryBuilder {
  readonly groups = new Map<string, GroupData>();
  readonly hostOrder: string[] = [];
  readonly hostInlineVars = new Map<string, Record<string, unknown>>();
  readonly hostWhere = new Map<string, SourcePosition | undefined>();
  readonly groupWhere = new Map<string, SourcePosition | undefined>();

  constructor() {
    this.group("all");
    this.group("ungrouped");
  }

  group(name: string, where?: SourcePosition): GroupData {
    let g = this.groups.get(name);
    if (!g) {
      g = { name, hosts: [], children: [], parents: new Set(), vars: {} };
      this.groups.set(name, g);
      this.groupWhere.set(name, where);
    }
    return g;
  }

  host(name: string, where?: SourcePosition, vars?: Record<string, unknown>): void {
    if (!this.hostInlineVars.has(name)) {
      this.hostOrder.push(name);
      this.hostInlineVars.set(name, {});
      this.hostWhere.set(name, where);
    }
    if (vars) Object.assign(this.hostInlineVars.get(name)!, vars);
  }

  addHostToGroup(group: string, host: string): void {
    const g = this.group(group);
    if (!g.hosts.includes(host)) g.hosts.push(host);
  }

  addChild(parent: string, child: string, where?: SourcePosition): void {
    if (parent === child) throw new UserError(`Group "${child}" cannot be its own child`, { where });
    const p = this.group(parent);
    const c = this.group(child, where);
    if (!p.children.includes(child)) p.children.push(child);
    c.parents.add(parent);
  }
}
