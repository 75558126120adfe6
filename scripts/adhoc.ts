/**
 * Ad-hoc commands, as `ansible PATTERN -m MODULE -a ARGS`: one task of any of our modules on
 * the hosts a pattern names. The task becomes a one-task play in memory and runs through the
 * playbook executor (same transport, become, check/diff, masking, exit codes); only the output
 * is ansible's ad-hoc layout (lib/adhoc/output.ts).
 *
 * Runnable as `npx zx adhoc ...` (the `adhoc` file at the repo root), `node --import tsx
 * scripts/adhoc.ts ...` and `deno run -A scripts/adhoc.ts ...`.
 */
import { join } from "node:path";
import { ExitCode, UserError } from "./lib/errors.ts";
import { ADHOC_HELP, parseAdhocArgs, type AdhocOptions } from "./lib/adhoc/args.ts";
import { runIfMain } from "./lib/cli/run-if-main.ts";
import { reportError } from "./lib/cli/report-error.ts";

interface Output {
  write(text: string): unknown;
}

export interface AdhocIo {
  stdout?: Output;
  stderr?: Output;
  cwd?: string;
  env?: Record<string, string | undefined>;
}

export async function main(argv: string[], io: AdhocIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const cwd = io.cwd ?? process.cwd();
  let verbosity = 0;
  try {
    const options = parseAdhocArgs(argv);
    verbosity = options.verbosity;
    if (options.help) {
      stdout.write(ADHOC_HELP);
      return ExitCode.ok;
    }
    return await run(options, { stdout, stderr, cwd, env: io.env ?? process.env });
  } catch (error) {
    return reportError(error, stderr, { cwd, verbosity });
  }
}

async function run(options: AdhocOptions, io: { stdout: Output; stderr: Output; cwd: string; env: Record<string, string | undefined> }): Promise<number> {
  // ansible.cfg and ANSIBLE_* under the flags; the vault passwords before any YAML is read.
  const { askBecomePassword, connectionOverrides, loadCommandSettings, inventorySources } = await import("./lib/cli/settings.ts");
  const { settings } = await loadCommandSettings(options, io);
  const { loadInventory, parseExtraVars, selectHosts } = await import("./lib/inventory/inventory.ts");
  const { playbookFromData } = await import("./lib/playbook/load.ts");
  const { runPlaybook } = await import("./lib/run/execute.ts");
  const { formatResult } = await import("./lib/adhoc/output.ts");
  const { formatDiffs } = await import("./lib/report/diff.ts");
  const { maskSecrets } = await import("./lib/shell/secret.ts");

  const inventory = loadInventory(inventorySources(options.inventory, io.cwd, settings));
  const extraVars = options.extraVars.length > 0 ? parseExtraVars(options.extraVars, { cwd: io.cwd }) : {};
  const pattern = options.pattern!;
  const limited = options.limit ? selectHosts(inventory, options.limit, { baseDir: io.cwd }) : undefined;
  if (limited && limited.length === 0) {
    throw new UserError(`Specified inventory, host pattern and/or --limit leaves us with no hosts to target: --limit ${JSON.stringify(options.limit)} matches no host`, { exitCode: ExitCode.error });
  }
  const targets = selectHosts(inventory, pattern, { baseDir: io.cwd }).filter((h) => !limited || limited.includes(h));
  if (targets.length === 0) {
    io.stderr.write("[WARNING]: No hosts matched, nothing to do\n");
    return ExitCode.ok;
  }

  // The task as a playbook would write it: `module: "free form"` or `module: {}`.
  const task: Record<string, unknown> = { name: `${options.module}${options.args ? ` ${options.args}` : ""}`, [options.module]: options.args ?? {} };
  const play: Record<string, unknown> = { name: "Ansible Ad-Hoc", hosts: pattern, gather_facts: false, tasks: [task] };
  if (options.becomeUser) play.become_user = options.becomeUser;
  const playbook = playbookFromData([play], join(io.cwd, "<ad-hoc command>"), { extraVars });

  const becomePassword = await askBecomePassword(options.askBecomePass, settings);

  const abort = new AbortController();
  const onInterrupt = () => {
    if (abort.signal.aborted) process.exit(ExitCode.interrupted);
    io.stderr.write("\nInterrupted: letting running hosts finish (Ctrl-C again to quit now)\n");
    abort.abort();
  };
  process.on("SIGINT", onInterrupt);
  try {
    const summary = await runPlaybook(playbook, {
      inventory,
      check: options.check,
      diff: options.diff,
      forks: options.forksGiven ? options.forks : settings.forks ?? options.forks,
      limit: options.limit,
      tags: { only: [], skip: [] },
      extraVars,
      connection: connectionOverrides(options, settings, becomePassword),
      verbosity: options.verbosity,
      signal: abort.signal,
      sink: (event) => {
        if (event.type === "host-task-result") {
          if (options.diff && event.result.diff?.length) io.stdout.write(formatDiffs(event.result.diff));
          io.stdout.write(formatResult(event.host, event.task.module, event.result, options.oneLine));
        } else if (event.type === "warning") {
          io.stderr.write(`[WARNING]: ${maskSecrets(`${event.host ? `${event.host}: ` : ""}${event.message}`)}\n`);
        }
      },
    });
    if (summary.interrupted || abort.signal.aborted) return ExitCode.interrupted;
    if (summary.unreachable) return ExitCode.unreachableOrParse;
    if (summary.failed) return ExitCode.hostFailed;
    return ExitCode.ok;
  } finally {
    process.off("SIGINT", onInterrupt);
  }
}

runIfMain(import.meta, main);
