/**
 * community.general.modprobe: a kernel module loaded (or not) now, and optionally at boot
 * (persistent: present writes /etc/modules-load.d/NAME.conf and, with params,
 * /etc/modprobe.d/NAME.conf; absent removes them; disabled leaves them alone).
 *
 * A module built into the kernel counts as loaded: /sys/module/NAME, /proc/modules,
 * modules.builtin, or the feature's own trace (/proc/filesystems for filesystems, the bridge
 * sysctls for br_netfilter). Where nothing can be loaded (a container; the lab kernel has no
 * loadable modules) `state: present` fails with that explanation unless the module is already
 * there. Roles that only need the module at boot on real Pis use `persistent: present` with
 * `state: present` guarded, or write the modules-load.d file: persistence is written
 * regardless of whether loading is possible.
 */
import type { ModuleDefinition, Probe } from "./types.ts";
import { readProbe } from "./probe.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { writeFileAtomic, parseFileProbe, fileProbeScript, type FileState } from "./remote-file.ts";
import { requireSuccess, schemaHeader, probeValues } from "./support/system.ts";
import { contentDiff } from "./support/file-diff.ts";
import { RULES, requireValues, schemaPattern } from "./support/values.ts";
import type { FileDiff } from "./types.ts";

interface ModprobeArgs {
  name: string;
  state: "present" | "absent";
  params: string;
  persistent: "present" | "absent" | "disabled";
}

interface FileChange {
  path: string;
  content?: string;
}

interface ModprobeState {
  load?: string;
  files: FileChange[];
}

/** Extra evidence that a built-in module is there, for modules without /sys/module entries. */
const TRACES: Record<string, string> = {
  overlay: "grep -qw overlay /proc/filesystems",
  br_netfilter: "[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]",
  nf_conntrack: "[ -e /proc/sys/net/netfilter/nf_conntrack_max ]",
  ext4: "grep -qw ext4 /proc/filesystems",
  xfs: "grep -qw xfs /proc/filesystems",
};

/**
 * A kernel module: loaded as a module, built in, or not; whether this kernel has a module
 * tree at all; the module's two config files.
 */
export const MODULE_PROBE: Probe<{ module: string; loadFile: string; optionsFile: string }, { loaded: "module" | "builtin" | "no"; modulesTree: boolean; loadFile: FileState; optionsFile: FileState }> = {
  name: "kernel-module",
  command({ module, loadFile, optionsFile }) {
    const name = module.replaceAll("-", "_");
    return [
      sh`n=${name}`,
      `if grep -q "^$n " /proc/modules 2>/dev/null; then echo loaded=module`,
      `elif [ -d "/sys/module/$n" ] || grep -q "/$n\\.ko" "/lib/modules/$(uname -r)/modules.builtin" 2>/dev/null${TRACES[name] ? ` || ${TRACES[name]}` : ""}; then echo loaded=builtin`,
      `else echo loaded=no; fi`,
      `if [ -d "/lib/modules/$(uname -r)" ]; then echo tree=yes; fi`,
      fileProbeScript(loadFile, { content: true }, "l"),
      fileProbeScript(optionsFile, { content: true }, "o"),
    ].join("\n");
  },
  parse(r, { module }) {
    requireSuccess(r, `Cannot inspect module ${module}`);
    const v = probeValues(r.stdout);
    const loaded = v.get("loaded");
    return {
      loaded: loaded === "module" || loaded === "builtin" ? loaded : "no",
      modulesTree: v.get("tree") === "yes",
      loadFile: parseFileProbe(r.stdout, "l"),
      optionsFile: parseFileProbe(r.stdout, "o"),
    };
  },
};

export const modprobe: ModuleDefinition<ModprobeArgs, ModprobeState> = {
  name: "modprobe",
  aliases: ["community.general.modprobe"],
  schema: {
    ...schemaHeader("modprobe", "Loads or unloads kernel modules, now and at boot."),
    properties: {
      name: { type: "string", ...schemaPattern(RULES.kernelModule), description: "Module name." },
      state: { type: "string", enum: ["present", "absent"], default: "present" },
      params: { type: "string", default: "", description: "Module parameters (\"a=1 b=2\")." },
      persistent: { type: "string", enum: ["present", "absent", "disabled"], default: "disabled", description: "Load at boot (modules-load.d) with params (modprobe.d)." },
    },
    required: ["name"],
  },
  async plan(args, ctx) {
    // Each word is a modprobe argument and a word of the modprobe.d "options" line.
    const params = requireValues("modprobe", "params", args.params.split(/\s+/).filter(Boolean), RULES.kernelModuleParam);
    const loadFile = `/etc/modules-load.d/${args.name}.conf`;
    const optionsFile = `/etc/modprobe.d/${args.name}.conf`;
    const { loaded, modulesTree, loadFile: lf, optionsFile: of } = await readProbe(ctx, MODULE_PROBE, { module: args.name, loadFile, optionsFile }, { become: false });
    const result: Record<string, unknown> = { name: args.name, state: args.state, params: args.params, loaded };
    let load: string | undefined;
    const done: string[] = [];
    if (args.state === "present" && loaded === "no") {
      if (!modulesTree) {
        throw new ModuleFailure(
          `Cannot load kernel module ${args.name}: this kernel has no loadable modules here (no /lib/modules/$(uname -r): a container or a kernel without modules) and ${args.name} is not built in. ` +
            `For boot-time loading on real hosts use persistent: present, which writes ${loadFile} regardless.`,
          result,
        );
      }
      load = sh`modprobe -- ${[args.name, ...params]}`;
      done.push("loaded");
    } else if (args.state === "absent" && loaded !== "no") {
      if (loaded === "builtin") throw new ModuleFailure(`Cannot unload ${args.name}: it is built into the kernel`, result);
      load = sh`modprobe -r -- ${args.name}`;
      done.push("unloaded");
    }
    const files: FileChange[] = [];
    const diff: FileDiff[] = [];
    const text = (s: typeof lf) => (typeof s.content === "string" ? s.content : "");
    if (args.persistent === "present") {
      const wantLoad = `${args.name}\n`;
      if (!lf.exists || text(lf) !== wantLoad) { files.push({ path: loadFile, content: wantLoad }); diff.push(contentDiff(lf.exists ? text(lf) : undefined, wantLoad, loadFile)); done.push(`${loadFile} written`); }
      const wantOptions = args.params ? `options ${args.name} ${args.params}\n` : undefined;
      if (wantOptions && text(of) !== wantOptions) { files.push({ path: optionsFile, content: wantOptions }); diff.push(contentDiff(of.exists ? text(of) : undefined, wantOptions, optionsFile)); done.push(`${optionsFile} written`); }
      if (!wantOptions && of.exists && text(of).includes(`options ${args.name} `)) { files.push({ path: optionsFile }); diff.push(contentDiff(text(of), "", optionsFile)); done.push(`${optionsFile} removed`); }
    } else if (args.persistent === "absent") {
      for (const f of [[loadFile, lf], [optionsFile, of]] as const) {
        if (f[1].exists) { files.push({ path: f[0] }); diff.push(contentDiff(text(f[1]), "", f[0])); done.push(`${f[0]} removed`); }
      }
    }
    if (!load && files.length === 0) {
      const why = args.state === "present" ? (loaded === "builtin" ? "built into the kernel" : "loaded") : "not loaded";
      return { changed: false, reason: `${args.name} is ${why}${args.persistent === "present" ? " and loaded at boot" : args.persistent === "absent" ? " and not loaded at boot" : ""}`, result };
    }
    return { changed: true, msg: `${args.name}: ${done.join(", ")}`, state: { load, files }, diff, result };
  },
  async apply(plan, args, ctx) {
    const s = plan.state!;
    for (const f of s.files) {
      if (f.content === undefined) requireSuccess(await ctx.run(sh`rm -f -- ${f.path}`), `Cannot remove ${f.path}`);
      else await writeFileAtomic(ctx, f.path, f.content, { mode: "0644", makeParents: true });
    }
    if (s.load) requireSuccess(await ctx.run(s.load), `Cannot ${args.state === "absent" ? "unload" : "load"} kernel module ${args.name}`);
    return { msg: plan.msg };
  },
};

