/**
 * k3s_node_info: what k3s's preflight needs from a node that no fact holds, read in ONE round
 * trip and never changed: whether the clock is synchronized (timedatectl), the iptables
 * version, the filesystem under k3s's data dir (the nearest existing folder: the dir itself
 * may not exist yet) and the installed k3s's version. The k3s roles decide from it.
 */
import type { ModuleDefinition } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { RULES, schemaPattern } from "./support/values.ts";
import { probeValues, requireSuccess, schemaHeader } from "./support/system.ts";

interface K3sNodeInfoArgs {
  data_dir: string;
  bin_dir: string;
}

export interface K3sNodeInfo {
  /** timedatectl's NTPSynchronized ("yes", "no"); "" when timedatectl cannot say. */
  ntp_synchronized: string;
  /** First line of `iptables --version` ("iptables v1.8.9 (nf_tables)"); "" when absent. */
  iptables_version: string;
  /** `stat -f` type of the data dir's nearest existing folder ("ext2/ext3", "nfs", "tmpfs"). */
  data_dir_fstype: string;
  /** First line of `<bin_dir>/k3s --version` ("k3s version v1.31.4+k3s1 (...)"); "" when none. */
  k3s_version: string;
}

/** The probe; both paths go in as quoted values and every program gets them after `--`. */
export function k3sNodeProbe(dataDir: string, binDir: string): string {
  return [
    'echo "ntp_synchronized=$(timedatectl show --property=NTPSynchronized --value 2>/dev/null)"',
    'echo "iptables_version=$(iptables --version 2>/dev/null | head -n1)"',
    sh`d=${dataDir}`,
    'while [ ! -e "$d" ]; do d=$(dirname -- "$d"); done',
    'echo "data_dir_fstype=$(stat -f -c %T -- "$d" 2>/dev/null)"',
    sh`b=${binDir}`,
    'echo "k3s_version=$("$b/k3s" --version 2>/dev/null | head -n1)"',
  ].join("\n");
}

/** Pure: the probe's `key=value` lines -> the node's state ("" for what it did not print). */
export function parseK3sNodeProbe(stdout: string): K3sNodeInfo {
  const v = probeValues(stdout);
  const get = (key: keyof K3sNodeInfo) => (v.get(key) ?? "").trim();
  return { ntp_synchronized: get("ntp_synchronized"), iptables_version: get("iptables_version"), data_dir_fstype: get("data_dir_fstype"), k3s_version: get("k3s_version") };
}

const ABSOLUTE = { type: "string", ...schemaPattern(RULES.absolutePath) };

export const k3sNodeInfo: ModuleDefinition<K3sNodeInfoArgs> = {
  name: "k3s_node_info",
  aliases: [],
  schema: {
    ...schemaHeader("k3s_node_info", "Reads what k3s's preflight checks (clock sync, iptables version, data dir filesystem, installed k3s); changes nothing."),
    properties: {
      data_dir: { ...ABSOLUTE, description: "k3s's data dir (k3s_data_dir); it may not exist yet." },
      bin_dir: { ...ABSOLUTE, description: "Where the k3s binary is (k3s_bin_dir)." },
    },
    required: ["data_dir", "bin_dir"],
  },
  async plan(args, ctx) {
    const r = requireSuccess(await ctx.run(k3sNodeProbe(args.data_dir, args.bin_dir)), `Cannot read what k3s needs from ${ctx.host}`);
    const node = parseK3sNodeProbe(r.stdout);
    return { changed: false, reason: node.k3s_version || "k3s not installed", result: { ...node } };
  },
};
