/**
 * kernel_info: what the running kernel offers, read in ONE round trip and never changed: the
 * filesystems it has now (/proc/filesystems) and, for each module named, whether it is loaded
 * (/sys/module, which also lists built-in modules that have parameters) and whether modinfo
 * finds it (loadable or built in). Ansible has no such fact; roles decide from it (the NFS
 * server needs nfsd, Longhorn iscsi_tcp and NFSv4), deciding is not this module's business.
 */
import type { ModuleDefinition } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { RULES, schemaPattern } from "./support/values.ts";
import { requireSuccess, schemaHeader } from "./support/system.ts";

interface KernelInfoArgs {
  modules: string[];
}

export interface KernelModuleState {
  loaded: boolean;
  available: boolean;
}

export interface KernelInfo {
  /** Filesystem types the kernel has now, e.g. ["ext4", "nfs4", "nfsd"] ("nodev" dropped). */
  filesystems: string[];
  modules: Record<string, KernelModuleState>;
}

/** The probe: `@@filesystems`, then one `module NAME LOADED AVAILABLE` line per module. */
export function kernelProbe(modules: string[]): string {
  return [
    "echo @@filesystems",
    "cat /proc/filesystems 2>/dev/null",
    "echo @@modules",
    // /sys/module names use "_" where modprobe accepts "-" too.
    ...modules.map(
      (m) => sh`m=${m}; ` + 'l=no; a=no; [ -d "/sys/module/$(printf %s "$m" | tr - _)" ] && l=yes; modinfo -- "$m" >/dev/null 2>&1 && a=yes; echo "module $m $l $a"',
    ),
  ].join("\n");
}

/** Pure: the probe's output -> what the kernel offers. A module without a line is neither. */
export function parseKernelProbe(modules: string[], stdout: string): KernelInfo {
  const filesystems: string[] = [];
  const found = new Map<string, KernelModuleState>();
  let section = "";
  for (const line of stdout.split("\n")) {
    if (line.startsWith("@@")) {
      section = line.slice(2).trim();
      continue;
    }
    const fields = line.trim().split(/\s+/).filter(Boolean);
    if (section === "filesystems" && fields.length) filesystems.push(fields[fields.length - 1]);
    if (section === "modules" && fields[0] === "module" && fields.length === 4) {
      found.set(fields[1], { loaded: fields[2] === "yes", available: fields[3] === "yes" });
    }
  }
  return { filesystems, modules: Object.fromEntries(modules.map((m) => [m, found.get(m) ?? { loaded: false, available: false }])) };
}

export const kernelInfo: ModuleDefinition<KernelInfoArgs> = {
  name: "kernel_info",
  aliases: [],
  schema: {
    ...schemaHeader("kernel_info", "Reads the running kernel's filesystems and whether the named modules are loaded or available; changes nothing."),
    properties: {
      modules: {
        type: "array",
        // Validated as modprobe names: no blank, so each prints back as one word of its line.
        items: { type: "string", ...schemaPattern(RULES.kernelModule) },
        default: [],
        description: "Kernel modules to look up (as modprobe names them, e.g. nfsd, iscsi_tcp).",
      },
    },
  },
  async plan(args, ctx) {
    const r = requireSuccess(await ctx.run(kernelProbe(args.modules)), "Cannot read the kernel's filesystems and modules");
    const info = parseKernelProbe(args.modules, r.stdout);
    const summary = args.modules.map((m) => `${m} ${info.modules[m].loaded ? "loaded" : info.modules[m].available ? "available" : "missing"}`);
    return { changed: false, reason: [`${info.filesystems.length} filesystems`, ...summary].join(", "), result: { ...info } };
  },
};
