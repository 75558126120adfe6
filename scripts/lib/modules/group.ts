/** ansible.builtin.group: a local group present (with a gid) or absent; one getent probe. */
import type { ModuleDefinition } from "./types.ts";
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
    const r = await ctx.run(sh`getent group -- ${args.name}`, { become: false });
    if (r.rc !== 0 && r.rc !== 2) requireSuccess(r, `Cannot look up group ${args.name}`);
    const fields = r.rc === 0 ? r.stdout.trim().split(":") : undefined;
    const result = { name: args.name, state: args.state, gid: fields ? Number(fields[2]) : args.gid, system: args.system };
    if (args.state === "absent") {
      if (!fields) return { changed: false, reason: `group ${args.name} is absent`, result };
      return { changed: true, msg: `group ${args.name} removed`, state: { command: sh`groupdel ${raw(args.force ? "-f " : "")}-- ${args.name}` }, result };
    }
    if (!fields) {
      const opts = [args.gid !== undefined ? sh`-g ${args.gid}` : "", args.system ? "-r" : "", args.non_unique ? "-o" : ""].filter(Boolean).join(" ");
      return { changed: true, msg: `group ${args.name} created`, state: { command: `groupadd ${opts ? opts + " " : ""}${sh`-- ${args.name}`}` }, result };
    }
    if (args.gid !== undefined && Number(fields[2]) !== args.gid) {
      return { changed: true, msg: `group ${args.name} gid changed ${fields[2]} -> ${args.gid}`, state: { command: sh`groupmod ${raw(args.non_unique ? "-o " : "")}-g ${args.gid} -- ${args.name}` }, result: { ...result, gid: args.gid } };
    }
    return { changed: false, reason: `group ${args.name} exists${args.gid !== undefined ? ` with gid ${args.gid}` : ""}`, result };
  },
  async apply(plan, args, ctx) {
    requireSuccess(await ctx.run(plan.state!.command), `Cannot change group ${args.name}`);
    return { msg: plan.msg };
  },
};
