/**
 * ansible.builtin.shell: runs a command line through /bin/sh (or `executable`), so pipes,
 * redirections and variables work. The line is passed as one quoted argument to `sh -c`.
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { quote } from "../shell/quote.ts";
import { Secret } from "../shell/secret.ts";
import type { CommandArgs, CommandState } from "./support/run-command.ts";
import { COMMAND_COMMON_PROPERTIES, applyCommand, createsOrRemoves, planCommand, withChdir } from "./support/run-command.ts";

const schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "shell",
  description: "Runs a command line through a shell on the target.",
  type: "object",
  additionalProperties: false,
  properties: {
    ...COMMAND_COMMON_PROPERTIES,
    executable: { type: "string", description: "The shell to use (default /bin/sh)." },
  },
  oneOf: [{ required: ["_raw_params"] }, { required: ["cmd"] }],
};

function shellState(args: CommandArgs): CommandState {
  const line = args._raw_params ?? args.cmd;
  if (line === undefined || String(line instanceof Secret ? line.reveal() : line).trim() === "") {
    throw new ModuleFailure("No command given");
  }
  const shellPath = args.executable ?? "/bin/sh";
  return {
    script: withChdir(`${quote(shellPath)} -c ${quote(line)}`, args.chdir),
    shown: line instanceof Secret ? "***" : line,
  };
}

export const shell: ModuleDefinition<CommandArgs, CommandState> = {
  name: "shell",
  aliases: [],
  schema,
  freeForm: "_raw_params",
  nonIdempotent: true,
  planDecides: createsOrRemoves,
  secretArgs: ["_raw_params", "cmd", "stdin"],
  plan: (args, ctx) => planCommand(args, ctx, shellState(args)),
  apply: (plan, args, ctx) => applyCommand(args, ctx, plan.state ?? shellState(args)),
};
