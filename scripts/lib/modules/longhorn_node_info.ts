/**
 * longhorn_node_info: what Longhorn's preflight (`longhornctl check preflight`) needs from a
 * node, read in ONE round trip and never changed: iscsid's and multipathd's state (systemctl
 * is-active), the NFSv4 mount helper, multipathd's blacklist of SCSI disks, whether the data
 * path is a writable folder, and the kernel's filesystems and modules (kernel_info's probe,
 * for iscsi_tcp and nfsv4). The longhorn role decides from it.
 */
import type { ModuleDefinition } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { RULES, schemaPattern } from "./support/values.ts";
import { probeValues, requireSuccess, schemaHeader } from "./support/system.ts";
import { kernelProbe, parseKernelProbe, type KernelInfo } from "./kernel_info.ts";

interface LonghornNodeInfoArgs {
  data_path: string;
}

export interface LonghornNodeInfo {
  /** `systemctl is-active iscsid`: active, inactive, failed, ...; "" without systemd. */
  iscsid: string;
  multipathd: string;
  /** mount.nfs4 is on the PATH or in /sbin (package nfs-common). */
  nfs4_helper: boolean;
  /** /etc/multipath.conf has Longhorn's `devnode "^sd[a-z0-9]+"` blacklist. */
  multipath_blacklist: boolean;
  data_path_writable: boolean;
  kernel: KernelInfo;
}

const KERNEL_MODULES = ["iscsi_tcp", "nfsv4"];

/** The probe; the data path goes in as a quoted value. */
export function longhornNodeProbe(dataPath: string): string {
  return [
    'echo "iscsid=$(systemctl is-active iscsid 2>/dev/null)"',
    'echo "multipathd=$(systemctl is-active multipathd 2>/dev/null)"',
    "if command -v mount.nfs4 >/dev/null 2>&1 || [ -x /sbin/mount.nfs4 ]; then echo nfs4_helper=yes; else echo nfs4_helper=no; fi",
    "if grep -q 'devnode \"^sd\\[a-z0-9\\]+\"' /etc/multipath.conf 2>/dev/null; then echo multipath_blacklist=yes; else echo multipath_blacklist=no; fi",
    sh`d=${dataPath}`,
    'if [ -d "$d" ] && [ -w "$d" ]; then echo data_path_writable=yes; else echo data_path_writable=no; fi',
    kernelProbe(KERNEL_MODULES),
  ].join("\n");
}

/** Pure: the probe's output -> the node's state. */
export function parseLonghornNodeProbe(stdout: string): LonghornNodeInfo {
  const v = probeValues(stdout);
  const text = (key: string) => (v.get(key) ?? "").trim();
  return {
    iscsid: text("iscsid"),
    multipathd: text("multipathd"),
    nfs4_helper: text("nfs4_helper") === "yes",
    multipath_blacklist: text("multipath_blacklist") === "yes",
    data_path_writable: text("data_path_writable") === "yes",
    kernel: parseKernelProbe(KERNEL_MODULES, stdout),
  };
}

export const longhornNodeInfo: ModuleDefinition<LonghornNodeInfoArgs> = {
  name: "longhorn_node_info",
  aliases: [],
  schema: {
    ...schemaHeader("longhorn_node_info", "Reads what Longhorn's preflight checks (iscsid, multipathd, NFSv4, the data path, the kernel's iscsi_tcp/nfsv4); changes nothing."),
    properties: {
      data_path: { type: "string", ...schemaPattern(RULES.absolutePath), description: "Longhorn's data path (longhorn_data_path)." },
    },
    required: ["data_path"],
  },
  async plan(args, ctx) {
    const r = requireSuccess(await ctx.run(longhornNodeProbe(args.data_path)), `Cannot read what Longhorn needs from ${ctx.host}`);
    const node = parseLonghornNodeProbe(r.stdout);
    return { changed: false, reason: `iscsid ${node.iscsid || "unknown"}, data path ${node.data_path_writable ? "writable" : "unusable"}`, result: { ...node } };
  },
};
