/**
 * ansible-inventory's read-only views of a loaded inventory: `--list` (its JSON layout:
 * groups with their own hosts and children, `_meta.hostvars` with every host's merged
 * variables, keys sorted, 4-space indent), `--list --yaml` (its YAML layout: the group tree
 * with each host's variables at its first appearance), `--graph [GROUP] [--vars]` and
 * `--host NAME`. Secret values are masked (mask.ts); that is the one intended difference.
 * `!vault` values print as ansible-inventory prints them, password or not: in JSON as
 * {"__ansible_vault": "<encrypted text>"}, in YAML as a `!vault |` block. --graph --vars decrypts
 * them as it does (so no password is the same error) and prints them masked.
 */
import { Scalar, stringify } from "yaml";
import type { Inventory } from "../inventory/inventory.ts";
import { UserError } from "../errors.ts";
import { maskVars, type ShowVaulted } from "./mask.ts";

type Tree = NonNullable<Inventory["tree"]>;

function treeOf(inventory: Inventory): Tree {
  const tree = inventory.tree ?? {};
  // Ansible creates `ungrouped` first, as all's first child.
  const all = tree.all ?? { hosts: [], children: [], vars: {} };
  return { ...tree, all: { ...all, children: ["ungrouped", ...all.children.filter((c) => c !== "ungrouped")] } };
}

/** Keys sorted at every level, as Python's json.dumps(sort_keys=True). */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object" && (value as object).constructor === Object) {
    const obj = value as Record<string, unknown>;
    return Object.fromEntries(Object.keys(obj).sort(byCodePoint).map((k) => [k, sortKeys(obj[k])]));
  }
  return value;
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toJson(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 4)}\n`;
}

const vaultJson: ShowVaulted = (v) => ({ __ansible_vault: v.vaultText });
const vaultGraph: ShowVaulted = (v) => (v.reveal(), "***");
const vaultYaml: ShowVaulted = (v) => Object.assign(new Scalar(v.vaultText), { tag: "!vault", type: Scalar.BLOCK_LITERAL });

function hostVars(inventory: Inventory, host: string, showVaulted?: ShowVaulted): Record<string, unknown> {
  return maskVars(inventory.hostVars(host), showVaulted);
}

/** `--list`: the JSON an inventory script prints. */
export function listJson(inventory: Inventory): string {
  const tree = treeOf(inventory);
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  const visit = (name: string) => {
    const g = tree[name] ?? { hosts: [], children: [], vars: {} };
    const entry: Record<string, string[]> = {};
    if (name !== "all" && g.hosts.length > 0) entry.hosts = [...g.hosts];
    if (g.children.length > 0) entry.children = [...g.children];
    if (Object.keys(entry).length > 0) out[name] = entry;
    for (const child of g.children) {
      if (seen.has(child)) continue;
      seen.add(child);
      visit(child);
    }
  };
  visit("all");
  const hostvars: Record<string, unknown> = {};
  for (const host of inventory.hosts) {
    const vars = hostVars(inventory, host, vaultJson);
    if (Object.keys(vars).length > 0) hostvars[host] = vars;
  }
  out._meta = { hostvars };
  return toJson(out);
}

/** `--list --yaml`: the group tree with hosts as keys and their variables at first sight. */
export function listYaml(inventory: Inventory): string {
  const tree = treeOf(inventory);
  const seenHosts = new Set<string>();
  const seenGroups = new Set<string>();
  const visit = (name: string): Record<string, unknown> | undefined => {
    const g = tree[name] ?? { hosts: [], children: [], vars: {} };
    const entry: Record<string, unknown> = {};
    const children: Record<string, unknown> = {};
    for (const child of g.children) {
      if (seenGroups.has(child)) children[child] = {};
      else {
        seenGroups.add(child);
        // An empty group stays, as `name: {}` (ansible-inventory -y does the same).
        children[child] = visit(child) ?? {};
      }
    }
    if (Object.keys(children).length > 0) entry.children = children;
    const hosts: Record<string, unknown> = {};
    if (name !== "all") {
      for (const h of g.hosts) {
        hosts[h] = seenHosts.has(h) ? {} : hostVars(inventory, h, vaultYaml);
        seenHosts.add(h);
      }
    }
    if (Object.keys(hosts).length > 0) entry.hosts = hosts;
    return Object.keys(entry).length > 0 ? entry : undefined;
  };
  const all = visit("all");
  return stringify(sortKeys({ all: all ?? {} }), { aliasDuplicateObjects: false, lineWidth: 0, nullStr: "null" });
}

/** `--host NAME`: that host's merged variables. */
export function hostJson(inventory: Inventory, host: string, yaml = false): string {
  if (!inventory.hosts.includes(host)) {
    throw new UserError(`You must pass a single valid host to --host parameter: "${host}" is not in the inventory`, {
      exitCode: 5,
      hint: "List the hosts with --graph or --list.",
    });
  }
  const vars = hostVars(inventory, host, yaml ? vaultYaml : vaultJson);
  return yaml ? stringify(sortKeys(vars), { aliasDuplicateObjects: false, lineWidth: 0 }) : toJson(vars);
}

/** `--graph [GROUP] [--vars]`: the group tree as ansible-inventory draws it. */
export function graph(inventory: Inventory, group = "all", withVars = false): string {
  const tree = treeOf(inventory);
  if (!tree[group]) {
    throw new UserError(`Pattern must be valid group name when using --graph: "${group}" is not a group`, {
      exitCode: 5,
      hint: `The groups are: ${Object.keys(tree).join(", ")}.`,
    });
  }
  const lines: string[] = [];
  const name = (text: string, depth: number) => (depth > 0 ? `${"  |".repeat(depth)}--${text}` : text);
  const varLines = (vars: Record<string, unknown>, depth: number) => {
    for (const k of Object.keys(vars).sort(byCodePoint)) lines.push(name(`{${k} = ${pythonish(vars[k])}}`, depth));
  };
  const visit = (g: string, depth: number) => {
    lines.push(name(`@${g}:`, depth));
    const node = tree[g] ?? { hosts: [], children: [], vars: {} };
    for (const child of node.children) visit(child, depth + 1);
    for (const host of node.hosts) {
      if (g === "all") continue;
      lines.push(name(host, depth + 1));
      if (withVars) varLines(hostVars(inventory, host, vaultGraph), depth + 2);
    }
    if (withVars) varLines(maskVars(node.vars ?? {}, vaultGraph), depth + 1);
  };
  visit(group, 0);
  return `${lines.join("\n")}\n`;
}

/** Values as Python's str() prints them in --graph --vars (True, None, ['a'], {'k': 1}). */
function pythonish(value: unknown, nested = false): string {
  if (value === true) return "True";
  if (value === false) return "False";
  if (value === null || value === undefined) return "None";
  if (typeof value === "string") return nested ? `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'` : value;
  if (Array.isArray(value)) return `[${value.map((v) => pythonish(v, true)).join(", ")}]`;
  if (typeof value === "object") return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `'${k}': ${pythonish(v, true)}`).join(", ")}}`;
  return String(value);
}
