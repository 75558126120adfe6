/** ansible.builtin.group: a local group present (with a gid) or absent; one getent probe. */
import type { ModuleDefinition, Probe } from "./types.ts";
import { readProbe } from "./probe.ts";
import { sh, raw } from "../shell/quote.ts";
import { requireSuccess, schemaHeader } from "./support/system.ts";
import { RULES, schemaPattern } from "./support/values.ts";

interface GroupArgs {
  name: string;
  gid?: number;
  system: boolean;
  state: "present" | "absent";
  force?: boolean;
  local?: boolean;
  non_unique?: boolean;
}

/** Whether the group exists (getent: rc 2 is "no such key") and its gid. */
export const GROUP_PROBE: Probe<{ name: string }, { exists: boolean; gid?: number }> = {
  name: "group",
  command: ({ name }) => sh`getent group -- ${name}`,
  parse(r, { name }) {
    if (r.rc === 2) return { exists: false };
    requireSuccess(r, `Cannot look up group ${name}`);
    return { exists: true, gid: Number(r.stdout.trim().split(":")[2]) };
  },
};

export const group: ModuleDefinition<GroupArgs, { command: string }> = {
  name: "group",
  aliases: [],
  schema: {
    ...schemaHeader("group", "Adds or removes local groups."),
    properties: {
      name: { type: "string", ...schemaPattern(RULES.accountName), description: "Group name." },
      gid: { type: "integer", minimum: 0, description: "Group id." },
      system: { type: "boolean", default: false, description: "A system group (gid from the system range)." },
      state: { type: "string", enum: ["present", "absent"], default: "present" },
      force: { type: "boolean", description: "With state absent: remove even when it is a user's primary group." },
      local: { type: "boolean", description: "Accepted for compatibility (groups are always local)." },
      non_unique: { type: "boolean", description: "Allow a gid that another group has." },
    },
    required: ["name"],
  },
  async plan(args, ctx) {
    const found = await readProbe(ctx, GROUP_PROBE, { name: args.name }, { become: false });
    const result = { name: args.name, state: args.state, gid: found.exists ? found.gid : args.gid, system: args.system };
    if (args.state === "absent") {
      if (!found.exists) return { changed: false, reason: `group ${args.name} is absent`, result };
      return { changed: true, msg: `group ${args.name} removed`, state: { command: sh`groupdel ${raw(args.force ? "-f " : "")}-- ${args.name}` }, result };
    }
    if (!found.exists) {
      const opts = [args.gid !== undefined ? sh`-g ${args.gid}` : "", args.system ? "-r" : "", args.non_unique ? "-o" : ""].filter(Boolean).join(" ");
      return { changed: true, msg: `group ${args.name} created`, state: { command: `groupadd ${opts ? opts + " " : ""}${sh`-- ${args.name}`}` }, result };
    }
    if (args.gid !== undefined && found.gid !== args.gid) {
      return { changed: true, msg: `group ${args.name} gid changed ${found.gid} -> ${args.gid}`, state: { command: sh`groupmod ${raw(args.non_unique ? "-o " : "")}-g ${args.gid} -- ${args.name}` }, result: { ...result, gid: args.gid } };
    }
    return { changed: false, reason: `group ${args.name} exists${args.gid !== undefined ? ` with gid ${args.gid}` : ""}`, result };
  },
  async apply(plan, args, ctx) {
    requireSuccess(await ctx.run(plan.state!.command), `Cannot change group ${args.name}`);
    return { msg: plan.msg };
  },
};
