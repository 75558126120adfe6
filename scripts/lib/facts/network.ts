/**
 * Network facts from iproute2's JSON (`ip -j route show default`, `ip -j addr`):
 * default_ipv4 {address, interface, gateway, macaddress, network, netmask, prefix, broadcast,
 * mtu, type}, all_ipv4_addresses (loopback excluded, as Ansible), interfaces.
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
}

interface IpLink {
  ifname?: string;
  address?: string;
  mtu?: number;
  link_type?: string;
  operstate?: string;
  addr_info?: IpAddrInfo[];
}

const MARK = "@@addr";

export const networkFact: Fact = {
  name: "network",
  command: `ip -j -4 route show default; echo; echo ${MARK}; ip -j addr show`,
  parse(output) {
    const at = output.indexOf(MARK);
    const routes = parseJsonArray<IpRoute>(at < 0 ? output : output.slice(0, at));
    const links = parseJsonArray<IpLink>(at < 0 ? "" : output.slice(at + MARK.length));
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
      };
    }
    return {
      default_ipv4: defaultIpv4,
      all_ipv4_addresses: allIpv4,
      interfaces: links.map((l) => l.ifname).filter((n): n is string => !!n),
    };
  },
};

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
