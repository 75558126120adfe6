/**
 * ansible.builtin.ping: proves the host can be reached, logged in to and run a shell (with
 * the task's become, sudo too); answers `ping: pong` (or `data`). The first thing people run
 * ad hoc (`adhoc all -m ping`). Read-only; one round trip.
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";

interface PingArgs {
  data: string;
}

const schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "ping",
  description: "Checks that the host can be logged in to and runs commands; returns ping: pong.",
  type: "object",
  additionalProperties: false,
  properties: {
    data: { type: "string", default: "pong", description: "What to return in ping; `crash` makes the module fail (to test error handling)." },
  },
};

export const ping: ModuleDefinition<PingArgs> = {
  name: "ping",
  aliases: [],
  schema,
  async plan(args, ctx) {
    if (args.data === "crash") throw new ModuleFailure("boom");
    const r = await ctx.run("echo pong");
    if (r.rc !== 0 || r.stdout.trim() !== "pong") throw new ModuleFailure(`The host did not answer: rc=${r.rc} ${r.stderr.trim()}`.trim(), { rc: r.rc });
    return { changed: false, reason: args.data, result: { ping: args.data } };
  },
};
