/**
 * Network facts from iproute2's JSON (`ip -j route show default`, `ip -j addr`):
 * default_ipv4 {address, interface, gateway, macaddress, network, netmask, prefix, broadcast,
 * mtu, type, alias}, default_ipv6 {address, interface, gateway, prefix, scope, macaddress, mtu, type},
 * all_ipv4_addresses / all_ipv6_addresses (loopback excluded, as Ansible), interfaces, and one
 * fact per interface (eth0: {device, active, macaddress, mtu, type, promisc, ipv4,
 * ipv4_secondaries, ipv6}; "-" in a name becomes "_", as Ansible's fact names).
 */
import type { Fact } from "./types.ts";

interface IpRoute {
  dst?: string;
  gateway?: string;
  dev?: string;
  prefsrc?: string;
  metric?: number;
}

interface IpAddrInfo {
  family?: string;
  local?: string;
  prefixlen?: number;
  broadcast?: string;
  scope?: string;
  /** IPv4 only: the address's label, `eth0` or an alias such as `eth0:1`. */
  label?: string;
}

interface IpLink {
  ifname?: string;
  address?: string;
  mtu?: number;
  link_type?: string;
  operstate?: string;
  flags?: string[];
  addr_info?: IpAddrInfo[];
}

const MARK = "@@addr";
const MARK6 = "@@route6";

export const networkFact: Fact = {
  name: "network",
  command: `ip -j -4 route show default; echo; echo ${MARK}; ip -j addr show; echo; echo ${MARK6}; ip -j -6 route show default`,
  parse(output) {
    const at = output.indexOf(MARK);
    const at6 = output.indexOf(MARK6);
    const routes = parseJsonArray<IpRoute>(at < 0 ? output : output.slice(0, at));
    const links = parseJsonArray<IpLink>(at < 0 ? "" : output.slice(at + MARK.length, at6 < 0 ? undefined : at6));
    const routes6 = parseJsonArray<IpRoute>(at6 < 0 ? "" : output.slice(at6 + MARK6.length));
    // The route with the lowest metric wins, as the kernel chooses.
    const route = [...routes].sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0))[0];
    const allIpv4 = links.flatMap((l) =>
      (l.addr_info ?? []).filter((a) => a.family === "inet" && a.local && !a.local.startsWith("127.")).map((a) => a.local as string),
    );
    let defaultIpv4: Record<string, unknown> = {};
    if (route?.dev) {
      const link = links.find((l) => l.ifname === route.dev);
      const inet = (link?.addr_info ?? []).filter((a) => a.family === "inet");
      const addr = inet.find((a) => a.local === route.prefsrc) ?? inet[0];
      defaultIpv4 = {
        interface: route.dev,
        gateway: route.gateway ?? null,
        address: addr?.local ?? route.prefsrc ?? null,
        prefix: addr?.prefixlen !== undefined ? String(addr.prefixlen) : null,
        netmask: addr?.prefixlen !== undefined ? netmask(addr.prefixlen) : null,
        network: addr?.local && addr.prefixlen !== undefined ? network(addr.local, addr.prefixlen) : null,
        broadcast: addr?.broadcast ?? null,
        macaddress: link?.address ?? null,
        mtu: link?.mtu ?? null,
        type: link?.link_type ?? null,
        // Ansible's alias is the label of the default address (the last word of its `inet` line).
        alias: addr?.label ?? route.dev,
      };
    }
    const perInterface: Record<string, unknown> = {};
    for (const l of links) if (l.ifname) perInterface[l.ifname.replace(/-/g, "_")] = interfaceFact(l);
    return {
      ...perInterface,
      default_ipv4: defaultIpv4,
      default_ipv6: defaultIpv6(routes6, links),
      all_ipv4_addresses: allIpv4,
      all_ipv6_addresses: links.flatMap((l) => (l.addr_info ?? []).filter((a) => a.family === "inet6" && a.local && a.local !== "::1").map((a) => a.local as string)),
      interfaces: links.map((l) => l.ifname).filter((n): n is string => !!n),
    };
  },
};

/** Ansible's per-interface fact. */
function interfaceFact(l: IpLink): Record<string, unknown> {
  const ipv4 = (l.addr_info ?? []).filter((a) => a.family === "inet" && a.local).map((a) => ({
    address: a.local,
    broadcast: a.broadcast ?? "",
    netmask: netmask(a.prefixlen ?? 32),
    network: network(a.local as string, a.prefixlen ?? 32),
    prefix: String(a.prefixlen ?? 32),
  }));
  const out: Record<string, unknown> = {
    device: l.ifname,
    active: l.operstate === "UP" || (l.flags ?? []).includes("UP"),
    mtu: l.mtu ?? null,
    type: l.link_type === "ether" ? "ether" : l.link_type ?? "unknown",
    promisc: (l.flags ?? []).includes("PROMISC"),
  };
  if (l.link_type !== "loopback" && l.address) out.macaddress = l.address;
  if (ipv4.length) out.ipv4 = ipv4[0];
  if (ipv4.length > 1) out.ipv4_secondaries = ipv4.slice(1);
  const ipv6 = (l.addr_info ?? []).filter((a) => a.family === "inet6" && a.local).map((a) => ({ address: a.local, prefix: String(a.prefixlen ?? 128), scope: a.scope ?? "" }));
  if (ipv6.length) out.ipv6 = ipv6;
  return out;
}

/** default_ipv6: the lowest-metric IPv6 default route's interface and its first global address. */
function defaultIpv6(routes: IpRoute[], links: IpLink[]): Record<string, unknown> {
  const route = [...routes].sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0))[0];
  if (!route?.dev) return {};
  const link = links.find((l) => l.ifname === route.dev);
  const inet6 = (link?.addr_info ?? []).filter((a) => a.family === "inet6");
  const addr = inet6.find((a) => a.local === route.prefsrc) ?? inet6.find((a) => a.scope === "global") ?? inet6[0];
  return {
    interface: route.dev,
    gateway: route.gateway ?? null,
    address: addr?.local ?? route.prefsrc ?? null,
    prefix: addr?.prefixlen !== undefined ? String(addr.prefixlen) : null,
    scope: addr?.scope ?? null,
    macaddress: link?.address ?? null,
    mtu: link?.mtu ?? null,
    type: link?.link_type ?? null,
  };
}

function parseJsonArray<T>(text: string): T[] {
  const trimmed = text.trim();
  if (!trimmed.startsWith("[")) return [];
  try {
    const value = JSON.parse(trimmed) as unknown;
    return Array.isArray(value) ? (value as T[]) : [];
  } catch {
    return [];
  }
}

function toInt(ip: string): number {
  return ip.split(".").reduce((n, part) => (n * 256 + Number(part)) >>> 0, 0);
}

function toIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}

/** 24 -> 255.255.255.0 */
export function netmask(prefix: number): string {
  return toIp(prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);
}

/** 10.1.2.3/24 -> 10.1.2.0 */
export function network(address: string, prefix: number): string {
  return toIp((toInt(address) & toInt(netmask(prefix))) >>> 0);
}
