/**
 * The basics of ansible.utils.ipaddr: validate, and take address, network, netmask, prefix,
 * broadcast, host, network/prefix from "a.b.c.d/nn" (IPv4; IPv6 is validated and passed through).
 */
import { isIP } from "node:net";
import { TemplateError } from "./errors.ts";

function v4ToInt(a: string): number {
  return a.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}
function intToV4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

function one(value: unknown, query: unknown, version?: 4 | 6): unknown {
  if (typeof value !== "string" && typeof value !== "number") return false;
  const text = String(value).trim();
  const [address, prefixText, extra] = text.split("/");
  if (extra !== undefined) return false;
  const kind = isIP(address);
  if (kind === 0 || (version && kind !== version)) return false;
  const max = kind === 4 ? 32 : 128;
  let prefix = max;
  if (prefixText !== undefined) {
    if (kind === 4 && /^\d+\.\d+\.\d+\.\d+$/.test(prefixText)) {
      const mask = v4ToInt(prefixText);
      prefix = mask.toString(2).replace(/0+$/, "").length;
    } else if (/^\d+$/.test(prefixText) && Number(prefixText) <= max) prefix = Number(prefixText);
    else return false;
  }
  const q = query === undefined || query === null || query === "" ? "" : String(query);
  if (q === "") return text;
  if (kind === 6) {
    if (q === "address") return address;
    if (q === "prefix") return prefix;
    if (q === "host") return `${address}/${prefix}`;
    throw new TemplateError(`ipaddr: query "${q}" is only supported for IPv4 here`);
  }
  const ip = v4ToInt(address);
  const size = 2 ** (32 - prefix);
  const network = Math.floor(ip / size) * size;
  switch (q) {
    case "address":
      return address;
    case "prefix":
      return prefix;
    case "netmask":
      return intToV4(2 ** 32 - size);
    case "hostmask":
      return intToV4(size - 1);
    case "network":
      return intToV4(network);
    case "broadcast":
      return intToV4(network + size - 1);
    case "host":
      return `${address}/${prefix}`;
    case "net":
      return prefixText !== undefined && ip === network ? `${address}/${prefix}` : false;
    case "network/prefix":
    case "subnet":
    case "cidr":
      return `${intToV4(network)}/${prefix}`;
    case "size":
      return size;
    case "private":
      return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(address) ? text : false;
    case "public":
      return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|127\.)/.test(address) ? false : text;
  }
  throw new TemplateError(`ipaddr: unsupported query "${q}"`, {
    hint: "Supported: address, network, netmask, hostmask, prefix, broadcast, host, net, network/prefix, size, private, public.",
  });
}

/** `value | ipaddr(query)`: a list keeps only the valid ones (as Ansible). */
export function ipaddrFilter(value: unknown, query?: unknown, version?: 4 | 6): unknown {
  if (Array.isArray(value)) return value.map((v) => one(v, query, version)).filter((v) => v !== false);
  return one(value, query, version);
}
