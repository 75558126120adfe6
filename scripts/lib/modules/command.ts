/**
 * ansible.builtin.command: runs a program with arguments, never through a shell's
 * expansions. The free-form line is split like Python's shlex and every word re-quoted, so
 * `$HOME`, `*`, `|` and `;` reach the program literally, as with Ansible.
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { quote } from "../shell/quote.ts";
import { Secret } from "../shell/secret.ts";
import { splitArgs } from "./support/shlex.ts";
import type { CommandArgs, CommandState } from "./support/run-command.ts";
import { COMMAND_COMMON_PROPERTIES, applyCommand, createsOrRemoves, planCommand, withChdir } from "./support/run-command.ts";

const schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "command",
  description: "Runs a command on the target (no shell: no pipes, redirections or variables).",
  type: "object",
  additionalProperties: false,
  properties: {
    ...COMMAND_COMMON_PROPERTIES,
    argv: { type: "array", items: { type: ["string", "number"] }, minItems: 1, description: "The command as a list of words." },
    executable: { type: "string", description: "Accepted for compatibility; command runs no shell." },
  },
  oneOf: [{ required: ["_raw_params"] }, { required: ["cmd"] }, { required: ["argv"] }],
};

/** The words of the command, as the program will receive them (Secrets kept as Secrets). */
function words(args: CommandArgs): Array<string | Secret> {
  if (args.argv) return args.argv.map((w) => (w instanceof Secret ? w : String(w)));
  const line = args._raw_params ?? args.cmd;
  if (line === undefined) throw new ModuleFailure("No command given");
  if (line instanceof Secret) return splitArgs(line.reveal()).map((w) => new Secret(w));
  return splitArgs(line);
}

function commandState(args: CommandArgs): CommandState {
  const argv = words(args);
  if (argv.length === 0) throw new ModuleFailure("No command given");
  return {
    script: withChdir(argv.map((w) => quote(w)).join(" "), args.chdir),
    shown: argv.map((w) => String(w)),
  };
}

export const command: ModuleDefinition<CommandArgs, CommandState> = {
  name: "command",
  aliases: [],
  schema,
  freeForm: "_raw_params",
  nonIdempotent: true,
  planDecides: createsOrRemoves,
  secretArgs: ["_raw_params", "cmd", "argv", "stdin"],
  plan: (args, ctx) => planCommand(args, ctx, commandState(args)),
  apply: (plan, args, ctx) => applyCommand(args, ctx, plan.state ?? commandState(args)),
};
