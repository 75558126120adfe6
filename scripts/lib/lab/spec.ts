/**
 * Turns `up` options into node specs. Two ways to say what to boot:
 *   --nodes N --arch amd64|arm64|mixed [--pi] [--ssd SIZE]      (same options for every node)
 *   --node NAME[:ARCH][:pi][:ssd[=SIZE]][:vm]  (repeatable, per-node options; overrides --nodes)
 * and diskless PXE clients: --netboot-client NAME[:mac=MAC] (repeatable).
 */
import { UserError, ExitCode } from "../errors.ts";
import type { NetbootClientSpec, NodeArch, NodeSpec } from "./config.ts";

/** Default size of a node's SSD when `ssd` is given without a size. */
export const DEFAULT_SSD_SIZE = "1G";

const NAME = /^[a-z][a-z0-9-]{0,14}$/;
const SIZE = /^[1-9][0-9]*[KMGT]?$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function bad(message: string, hint: string): UserError {
  return new UserError(message, { hint, exitCode: ExitCode.badOptions });
}

/** Checks a size such as 512M or 2G (what `truncate -s` accepts). */
export function checkSize(size: string, what: string): string {
  if (!SIZE.test(size)) throw bad(`${what}: "${size}" is not a size`, "use a number with K, M, G or T, e.g. 1G");
  return size;
}

/** Parses one `--node NAME[:ARCH][:pi][:ssd[=SIZE]]` value. */
export function parseNodeOption(value: string): NodeSpec {
  const [name, ...flags] = value.split(":");
  if (!NAME.test(name)) {
    throw bad(`--node ${value}: "${name}" is not a valid node name`, "use 1-15 lower-case letters, digits or dashes, starting with a letter");
  }
  const node: NodeSpec = { name, arch: "amd64", pi: false };
  for (const flag of flags) {
    if (flag === "amd64" || flag === "arm64") node.arch = flag;
    else if (flag === "pi") node.pi = true;
    else if (flag === "ssd") node.ssd = DEFAULT_SSD_SIZE;
    else if (flag.startsWith("ssd=")) node.ssd = checkSize(flag.slice(4), `--node ${value}`);
    else if (flag === "vm") node.vm = true;
    else throw bad(`--node ${value}: unknown flag "${flag}"`, "flags are amd64, arm64, pi, ssd, ssd=SIZE or vm, e.g. --node pi1:arm64:pi:ssd=2G");
  }
  // A VM has a real disk (none is passed through) and no Pi identity (no bind mounts).
  if (node.vm && (node.pi || node.ssd)) throw bad(`--node ${value}: a vm node cannot have pi or ssd`, "use a container node for those, e.g. --node pi1:arm64:pi");
  return node;
}

/** Parses one `--netboot-client NAME[:mac=MAC]` value. */
export function parseNetbootClientOption(value: string): NetbootClientSpec {
  const [name, ...flags] = value.split(/:(?=mac=)/);
  if (!NAME.test(name)) {
    throw bad(`--netboot-client ${value}: "${name}" is not a valid name`, "use 1-15 lower-case letters, digits or dashes, starting with a letter");
  }
  const client: NetbootClientSpec = { name };
  for (const flag of flags) {
    const mac = flag.slice(4).toLowerCase();
    if (!MAC.test(mac)) throw bad(`--netboot-client ${value}: "${flag.slice(4)}" is not a MAC address`, "write it as six hex pairs, e.g. mac=52:54:00:12:34:56");
    client.mac = mac;
  }
  return client;
}

/** The netboot client list; names and MACs must be distinct. */
export function netbootClientSpecs(values: string[] | undefined, nodes: NodeSpec[]): NetbootClientSpec[] {
  const clients = (values ?? []).map(parseNetbootClientOption);
  const names = new Set(nodes.map((n) => n.name));
  const macs = new Set<string>();
  for (const c of clients) {
    if (names.has(c.name)) throw bad(`--netboot-client ${c.name}: name given twice`, "give each node and client a distinct name");
    names.add(c.name);
    if (c.mac && macs.has(c.mac)) throw bad(`--netboot-client ${c.name}: MAC ${c.mac} given twice`, "give each client its own MAC");
    if (c.mac) macs.add(c.mac);
  }
  if (clients.length > 20) throw bad(`${clients.length} netboot clients: at most 20`, "boot fewer clients");
  return clients;
}

/** Options of `up` that describe nodes. */
export interface NodeOptions {
  nodes?: number;
  arch?: string;
  pi?: boolean;
  ssd?: string;
  node?: string[];
}

/** Builds the node list from `up` options; node names are node1..N unless given. */
export function nodeSpecs(options: NodeOptions): NodeSpec[] {
  let specs: NodeSpec[];
  if (options.node && options.node.length > 0) {
    specs = options.node.map(parseNodeOption);
  } else {
    const count = options.nodes ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > 40) throw bad(`--nodes ${count}: must be 1 to 40`, "e.g. --nodes 3");
    const arch = options.arch ?? "amd64";
    if (!["amd64", "arm64", "mixed"].includes(arch)) throw bad(`--arch ${arch}: unknown architecture`, "use amd64, arm64 or mixed");
    specs = Array.from({ length: count }, (_, i) => ({
      name: `node${i + 1}`,
      // mixed: node1 amd64, node2 arm64, node3 amd64, ...
      arch: (arch === "mixed" ? (i % 2 === 0 ? "amd64" : "arm64") : arch) as NodeArch,
      pi: false,
    }));
  }
  for (const spec of specs) {
    if (options.pi) spec.pi = true;
    if (options.ssd !== undefined) spec.ssd = checkSize(options.ssd, "--ssd");
  }
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.name)) throw bad(`--node ${spec.name}: given twice`, "give each node a distinct name");
    seen.add(spec.name);
  }
  if (specs.length > 40) throw bad(`${specs.length} nodes: at most 40`, "boot fewer nodes");
  return specs;
}
