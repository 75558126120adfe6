/**
 * Where groups and hosts are written in a YAML inventory Document. A group can be written in
 * several places (top level and as someone's child); a host under several groups, with its
 * variables usually at one of them.
 */
import { isMap, isScalar, type Node, type Pair, type YAMLMap } from "yaml";
import { UserError } from "../errors.ts";
import { splitPort } from "../inventory/load.ts";
import { keyName, type YamlFile } from "./yaml-file.ts";

export interface GroupSite {
  name: string;
  /** The pair `name: body` (body null when the group is written empty). */
  pair: Pair;
}

export interface HostSite {
  host: string;
  group: string;
  /** The group's `hosts:` mapping holding this host. */
  hosts: YAMLMap;
  pair: Pair;
}

export interface Sites {
  groups: GroupSite[];
  hosts: HostSite[];
}

export function findSites(file: YamlFile): Sites {
  const out: Sites = { groups: [], hosts: [] };
  const top = file.doc.contents as Node | null;
  if (!isMap(top)) return out;
  const visit = (pair: Pair) => {
    const name = keyName(pair);
    out.groups.push({ name, pair });
    const body = pair.value as Node | null;
    if (!isMap(body)) return;
    const hosts = body.get("hosts", true) as Node | undefined;
    if (isMap(hosts)) {
      for (const hostPair of hosts.items) out.hosts.push({ host: splitPort(keyName(hostPair)).name, group: name, hosts, pair: hostPair });
    }
    const children = body.get("children", true) as Node | undefined;
    if (isMap(children)) for (const child of children.items) visit(child);
  };
  for (const pair of top.items) visit(pair);
  return out;
}

export function hostSites(file: YamlFile, sites: Sites, host: string): HostSite[] {
  const found = sites.hosts.filter((s) => s.host === host);
  if (found.length === 0) {
    const range = sites.hosts.find((s) => /\[[^\]]*:[^\]]*\]/.test(s.host));
    throw new UserError(`Host "${host}" is not in ${file.file}`, {
      exitCode: 1,
      where: range ? file.whereOf(range.pair) : undefined,
      hint: range ? `Hosts written as a range (${range.host}) are edited by hand.` : "List the hosts with --graph.",
    });
  }
  return found;
}

export function groupSites(sites: Sites, group: string): GroupSite[] {
  return sites.groups.filter((g) => g.name === group);
}

/** The host site that carries the host's variables (the first with a non-empty mapping), else the first. */
export function varsSite(sites: HostSite[]): HostSite {
  return sites.find((s) => isMap(s.pair.value) && (s.pair.value as YAMLMap).items.length > 0) ?? sites[0];
}

export function isEmptyValue(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null) || (isMap(node) && node.items.length === 0);
}
