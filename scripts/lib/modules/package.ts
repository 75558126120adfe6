/**
 * ansible.builtin.package: the generic package module. Targets are Debian-family, so it is apt
 * with the generic options (name, state); `use` may only say auto or apt.
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { apt, type AptArgs } from "./apt.ts";
import { schemaHeader } from "./support/system.ts";

interface PackageArgs {
  name: string | string[];
  state: "present" | "absent" | "latest" | "installed" | "removed";
  use: string;
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
  return { name: args.name, state: args.state, cache_valid_time: 0, purge: false, autoremove: false, dpkg_options: "force-confdef,force-confold", lock_timeout: 120 };
}
