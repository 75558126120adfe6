/**
 * Turns `up` options into node specs. Two ways to say what to boot:
 *   --nodes N --arch amd64|arm64|mixed [--pi] [--ssd SIZE]      (same options for every node)
 *   --node NAME[:ARCH][:pi][:ssd[=SIZE]]  (repeatable, per-node options; overrides --nodes)
 */
import { UserError, ExitCode } from "../errors.ts";
import type { NodeArch, NodeSpec } from "./config.ts";

/** Default size of a node's SSD when `ssd` is given without a size. */
export const DEFAULT_SSD_SIZE = "1G";

const NAME = /^[a-z][a-z0-9-]{0,14}$/;
const SIZE = /^[1-9][0-9]*[KMGT]?$/;

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
    else throw bad(`--node ${value}: unknown flag "${flag}"`, "flags are amd64, arm64, pi, ssd or ssd=SIZE, e.g. --node pi1:arm64:pi:ssd=2G");
  }
  return node;
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
