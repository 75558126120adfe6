/**
 * ansible.builtin.raw: sends the line as-is to the target's shell (no chdir, no creates).
 * Like Ansible, it always reports changed and is skipped in check mode.
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { quote } from "../shell/quote.ts";
import { Secret } from "../shell/secret.ts";
import type { CommandArgs, CommandState } from "./support/run-command.ts";
import { applyCommand, planCommand } from "./support/run-command.ts";

const schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "raw",
  description: "Runs a command line on the target without any processing.",
  type: "object",
  additionalProperties: false,
  properties: {
    _raw_params: { type: "string", description: "The command line (free form)." },
    executable: { type: "string", description: "The shell to run it with (default: the login shell's sh -c)." },
  },
  required: ["_raw_params"],
};

function rawState(args: CommandArgs): CommandState {
  const line = args._raw_params;
  if (line === undefined) throw new ModuleFailure("No command given");
  const text = line instanceof Secret ? line.reveal() : line;
  return {
    script: args.executable ? `${quote(args.executable)} -c ${quote(line)}` : text,
    shown: line instanceof Secret ? "***" : text,
  };
}

export const raw: ModuleDefinition<CommandArgs, CommandState> = {
  name: "raw",
  aliases: [],
  schema,
  freeForm: "_raw_params",
  nonIdempotent: true,
  secretArgs: ["_raw_params"],
  plan: (args, ctx) => planCommand({}, ctx, rawState(args)),
  apply: (plan, args, ctx) => applyCommand({ strip_empty_ends: false }, ctx, plan.state ?? rawState(args)),
};
