/**
 * ansible.builtin.package: the generic package module. Ansible hands every argument but `use` to
 * the backend module; our targets are Debian-family, so the backend is apt: apt's own options
 * (update_cache, install_recommends, ...) are accepted and passed on, and an option only another
 * manager takes (yum's `enablerepo`) fails when the task runs, as apt fails it under Ansible.
 * A task naming such an option for yum hosts loads, and is skipped here by its `when:`.
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { apt, type AptArgs } from "./apt.ts";
import { schemaHeader } from "./support/system.ts";

interface PackageArgs extends Partial<Omit<AptArgs, "name" | "pkg" | "package" | "deb" | "state">> {
  name: string | string[];
  state: "present" | "absent" | "latest" | "installed" | "removed";
  use: string;
}

/** package's own options; the others are apt's (the package's name is package's `name`). */
const OWN = ["name", "state", "use"];
const NOT_PASSED = new Set([...OWN, "pkg", "package", "deb"]);

/** apt's options without their defaults: apt fills those in toApt, only when not given. */
function aptOptions(): Record<string, unknown> {
  const props = (apt.schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  return Object.fromEntries(
    Object.entries(props)
      .filter(([k]) => !NOT_PASSED.has(k))
      .map(([k, { default: _d, ...rest }]) => [k, { ...rest, description: `Passed to apt: ${String(rest.description ?? k)}` }]),
  );
}

export const packageModule: ModuleDefinition<PackageArgs> = {
  name: "package",
  aliases: [],
  schema: {
    ...schemaHeader("package", "Generic package manager (apt on Debian-family targets)."),
    properties: {
      name: { type: ["string", "array"], items: { type: "string" }, description: "Package name(s)." },
      state: { type: "string", enum: ["present", "absent", "latest", "installed", "removed"], default: "present" },
      use: { type: "string", default: "auto", description: "auto or apt (the only manager supported)." },
      ...aptOptions(),
    },
    required: ["name"],
  },
  async plan(args, ctx) {
    if (!["auto", "apt"].includes(args.use)) throw new ModuleFailure(`package: use=${args.use} is not supported (only apt targets)`);
    return apt.plan(toApt(args), ctx);
  },
  async apply(plan, args, ctx) {
    return apt.apply!(plan, toApt(args), ctx);
  },
};

function toApt(args: PackageArgs): AptArgs {
  const passed = Object.fromEntries(Object.entries(args).filter(([k, v]) => !OWN.includes(k) && v !== undefined));
  return { cache_valid_time: 0, purge: false, autoremove: false, dpkg_options: "force-confdef,force-confold", lock_timeout: 120, ...passed, name: args.name, state: args.state };
}
