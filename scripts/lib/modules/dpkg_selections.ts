/**
 * ansible.builtin.dpkg_selections: a package's dpkg selection (install, hold, deinstall,
 * purge), typically `hold` to keep apt from upgrading it. One read (`dpkg --get-selections`),
 * one write (`dpkg --set-selections`, the line on stdin), as Ansible's module does; a package
 * dpkg does not know counts as "not present".
 */
import type { ModuleDefinition, Probe } from "./types.ts";
import { readProbe } from "./probe.ts";
import { sh } from "../shell/quote.ts";
import { requireSuccess, schemaHeader } from "./support/system.ts";
import { RULES, schemaPattern } from "./support/values.ts";

interface DpkgSelectionsArgs {
  name: string;
  selection: "install" | "hold" | "deinstall" | "purge";
}

/** A package's dpkg selection (install, hold, deinstall, purge), or "not present". */
export const SELECTION_PROBE: Probe<{ name: string }, string> = {
  name: "dpkg-selection",
  command: ({ name }) => sh`dpkg --get-selections -- ${name}`,
  parse(r, { name }) {
    return requireSuccess(r, `Cannot read the dpkg selection of ${name}`).stdout.trim().split(/\s+/)[1] ?? "not present";
  },
};

export const dpkgSelections: ModuleDefinition<DpkgSelectionsArgs> = {
  name: "dpkg_selections",
  aliases: [],
  schema: {
    ...schemaHeader("dpkg_selections", "Sets a package's dpkg selection (hold, install, deinstall, purge)."),
    properties: {
      name: { type: "string", ...schemaPattern(RULES.debianPackage) },
      selection: { type: "string", enum: ["install", "hold", "deinstall", "purge"] },
    },
    required: ["name", "selection"],
  },
  async plan(args, ctx) {
    const current = await readProbe(ctx, SELECTION_PROBE, { name: args.name }, { become: false });
    const result = { before: current, after: args.selection };
    if (current === args.selection) return { changed: false, reason: `${args.name} is ${current}`, result };
    return {
      changed: true,
      msg: `${args.name}: ${current} -> ${args.selection}`,
      result,
      diff: [{ before: `${args.name} ${current}\n`, after: `${args.name} ${args.selection}\n`, before_header: "dpkg selections", after_header: "dpkg selections" }],
    };
  },
  async apply(plan, args, ctx) {
    requireSuccess(await ctx.run("dpkg --set-selections", { stdin: `${args.name} ${args.selection}\n` }), `Cannot set the dpkg selection of ${args.name}`);
    return { msg: plan.msg };
  },
};
