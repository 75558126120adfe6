/**
 * The runner's command line, as ansible-playbook: `run playbooks/site.yml -i inventory --tags
 * ntp --check --diff`. Parses flags, loads the inventory and the playbook, hands both to the
 * executor, and turns the outcome into ansible-playbook's exit codes (0 ok, 1 error, 2 a host
 * failed, 4 unreachable or parse error, 5 bad options, 99 interrupted).
 *
 * Runnable as `npx zx run ...` (the `run` file calls main), `node --import tsx scripts/play.ts
 * ...` and `deno run -A scripts/play.ts ...`. Imports stay lean at start-up: the loader,
 * inventory, executor and reports are imported only when the command needs them.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, relative, resolve } from "node:path";
import { ExitCode, UserError } from "./lib/errors.ts";
import { REPO_ROOT } from "./lib/repo-root.ts";
import { HELP, parseCliArgs, UsageError, type CliOptions } from "./lib/cli/args.ts";
import type { RunOptions } from "./lib/run/options.ts";
import { runIfMain } from "./lib/cli/run-if-main.ts";
import { reportError } from "./lib/cli/report-error.ts";
import { maskSecrets } from "./lib/shell/secret.ts";

interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface MainIo {
  stdout?: Output;
  stderr?: Output;
  cwd?: string;
  env?: Record<string, string | undefined>;
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(resolve(REPO_ROOT, "package.json"), "utf8")) as { name: string; version: string };
    return `${pkg.name} ${pkg.version}`;
  } catch {
    return "unknown";
  }
}

function splitTags(values: string[]): string[] {
  return values.flatMap((v) => v.split(",")).map((t) => t.trim()).filter(Boolean);
}

/**
 * Runs the command line; resolves to the exit code (never throws, never exits the process,
 * except on a second Ctrl-C, SIGTERM or SIGHUP during a run).
 */
export async function main(argv: string[], io: MainIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const cwd = io.cwd ?? process.cwd();
  let options: CliOptions | undefined;
  try {
    options = parseCliArgs(argv);
    if (options.help) {
      stdout.write(HELP);
      return ExitCode.ok;
    }
    if (options.version) {
      stdout.write(`${version()}\n`);
      return ExitCode.ok;
    }
    return await run(options, { stdout, stderr, cwd, env: io.env ?? process.env }, argv);
  } catch (error) {
    return reportError(error, stderr, { cwd, verbosity: options?.verbosity });
  }
}

async function run(options: CliOptions, io: Required<MainIo> & { stdout: Output; stderr: Output }, argv: string[]): Promise<number> {
  const { loadPlaybook } = await import("./lib/playbook/load.ts");
  // ansible.cfg and ANSIBLE_* under the flags; then the vault passwords, before any YAML is read.
  const { askBecomePassword, connectionOverrides, loadCommandSettings, inventorySources } = await import("./lib/cli/settings.ts");
  const { settings } = await loadCommandSettings(options, io);
  const roles = await import("./lib/playbook/role.ts");
  const { defaultCollectionsPath, defaultRolesPath } = await import("./lib/playbook/collections.ts");
  const home = io.env.HOME ?? homedir();
  roles.setRolesPath(settings.rolesPath ?? defaultRolesPath(home));
  roles.setCollectionsPath(settings.collectionsPath ?? defaultCollectionsPath(home));
  const needsInventory = options.listHosts || !(options.syntaxCheck || options.listTasks || options.listTags);
  const sources = needsInventory ? inventorySources(options.inventory, io.cwd, settings) : [];
  const inventoryModule = needsInventory || options.extraVars.length > 0 ? await import("./lib/inventory/inventory.ts") : undefined;
  const extraVars = inventoryModule && options.extraVars.length > 0 ? inventoryModule.parseExtraVars(options.extraVars, { cwd: io.cwd }) : {};
  const tags = { only: splitTags(options.tags), skip: splitTags(options.skipTags) };

  const playbooks = options.playbooks.map((file) => {
    const path = resolve(io.cwd, file);
    if (!existsSync(path)) throw new UserError(`Playbook not found: ${file}`, { exitCode: ExitCode.badOptions, hint: `Looked for ${path}` });
    return loadPlaybook(path, { extraVars });
  });

  const listing = options.listHosts || options.listTasks || options.listTags;
  if (options.syntaxCheck && !listing) {
    for (const pb of playbooks) io.stdout.write(`\nplaybook: ${relative(io.cwd, pb.file) || pb.file}\n`);
    return ExitCode.ok;
  }

  const playbookDir = dirname(playbooks[0].file);
  const inventory = needsInventory && inventoryModule ? inventoryModule.loadInventory(sources, { playbookDir }) : undefined;
  // As ansible-playbook: a --limit that matches nothing is a mistake (a typo), not an empty run.
  if (options.limit && inventory && inventoryModule && inventoryModule.selectHosts(inventory, options.limit, { baseDir: io.cwd }).length === 0) {
    throw new UserError(`Specified inventory, host pattern and/or --limit leaves us with no hosts to target: --limit ${JSON.stringify(options.limit)} matches no host`, {
      exitCode: ExitCode.error,
      hint: `Check the names against --list-hosts; the inventory has ${inventory.hosts.length} host(s).`,
    });
  }

  if (listing) {
    const { listHosts, listTasks, listTags } = await import("./lib/cli/listing.ts");
    // `hosts: "{{ target }}"` is rendered with the extra vars, as the run does.
    const { Templar } = await import("./lib/template/templar.ts");
    const patternOf = (play: { hosts: string; name: string }) =>
      /\{\{|\{%/.test(play.hosts) ? String(new Templar({ ...extraVars }, { where: `play '${play.name}' hosts` }).render(play.hosts)) : play.hosts;
    for (const pb of playbooks) {
      if (options.listHosts && inventory && inventoryModule) {
        const limited = options.limit ? new Set(inventoryModule.selectHosts(inventory, options.limit, { baseDir: io.cwd })) : undefined;
        io.stdout.write(listHosts(pb, (play) => inventoryModule.selectHosts(inventory, patternOf(play), { baseDir: play.baseDir }).filter((h: string) => !limited || limited.has(h)), io.cwd));
      }
      if (options.listTasks) io.stdout.write(listTasks(pb, tags, io.cwd));
      if (options.listTags) io.stdout.write(listTags(pb, io.cwd));
    }
    return ExitCode.ok;
  }
  if (!inventory) throw new UserError("no inventory loaded", { exitCode: ExitCode.badOptions });
  if (playbooks.some((pb) => pb.plays.some((play) => play.varsPrompt))) {
    const { askVarsPrompts } = await import("./lib/cli/vars-prompt.ts");
    const { readLine, readSecretLine } = await import("./lib/cli/prompt.ts");
    const { registerSecret } = await import("./lib/shell/secret.ts");
    await askVarsPrompts(playbooks, extraVars, { isTTY: process.stdin.isTTY === true, readLine, readSecretLine, registerSecret });
  }
  if (options.step && !process.stdin.isTTY) {
    throw new UsageError("--step asks before each task and needs a terminal on stdin", "Run it from a terminal, or use --start-at-task / --tags to choose tasks without asking.");
  }

  const becomePassword = await askBecomePassword(options.askBecomePass, settings);

  const { createReporter } = await import("./lib/report/index.ts");
  const reporter = await createReporter({
    verbosity: options.verbosity,
    diff: options.diff,
    jsonFile: options.json ? resolve(io.cwd, options.json) : undefined,
    mode: options.step ? "plain" : undefined,
    stdout: io.stdout,
    stderr: io.stderr,
    env: io.env,
  });
  const { runPlaybook } = await import("./lib/run/execute.ts");
  const askStep = options.step ? (await import("./lib/cli/prompt.ts")).askStep : undefined;

  // Ctrl-C once: stop starting new work and let running tasks finish. Ctrl-C again, SIGTERM
  // or SIGHUP (the terminal closed): quit now, with the --json report of what finished. A
  // write cut off on a target never replaces its file: the target checks what arrived before
  // the rename (remote-file.ts).
  const abort = new AbortController();
  let interrupts = 0;
  const quitNow = (why: string) => {
    let failure = "";
    try {
      reporter.finishNow();
    } catch (e) {
      failure = `; cannot write the JSON report: ${(e as Error).message}`;
    }
    try {
      io.stderr.write(`\n${why}: quitting now (a file being written on a target is replaced whole or left as it was)${failure}\n`);
    } finally {
      process.exit(ExitCode.interrupted);
    }
  };
  const onInterrupt = () => {
    interrupts++;
    if (interrupts === 1) {
      io.stderr.write("\nInterrupted: letting running tasks finish (Ctrl-C again to quit now)\n");
      abort.abort();
    } else quitNow("Interrupted again");
  };
  const onTerminate = () => quitNow("Terminated");
  const onHangup = () => quitNow("Hung up");
  process.on("SIGINT", onInterrupt);
  process.on("SIGTERM", onTerminate);
  process.on("SIGHUP", onHangup);

  let code: number = ExitCode.ok;
  const retry = await import("./lib/cli/retry.ts");
  const notCompleted = new Set<string>();
  let retryFile: string | undefined;
  try {
    for (const playbook of playbooks) {
      const runOptions: RunOptions = {
        inventory,
        check: options.check,
        diff: options.diff,
        forks: options.forksGiven ? options.forks : settings.forks ?? options.forks,
        limit: options.limit,
        tags,
        extraVars,
        startAtTask: options.startAtTask,
        step: askStep ? (task) => askStep(task.name ?? task.module) : undefined,
        connection: connectionOverrides(options, settings, becomePassword),
        verbosity: options.verbosity,
        sink: reporter.sink,
        signal: abort.signal,
      };
      const summary = await runPlaybook(playbook, runOptions);
      const hosts = retry.hostsToRetry(summary.stats);
      for (const h of hosts) notCompleted.add(h);
      // Ansible's retry file, per playbook, when ansible.cfg asks for it (its default is off).
      if (settings.retryFilesEnabled && hosts.length > 0 && !summary.interrupted) {
        try {
          retryFile = retry.writeRetryFile(playbook.file, hosts, settings.retryFilesSavePath);
        } catch (e) {
          io.stderr.write(`[WARNING]: Could not create retry file for ${relative(io.cwd, playbook.file)}: ${(e as Error).message}\n`);
        }
      }
      const result = summary.interrupted
        ? ExitCode.interrupted
        : summary.unreachable
          ? ExitCode.unreachableOrParse
          : summary.failed
            ? ExitCode.hostFailed
            : ExitCode.ok;
      if (result !== ExitCode.ok) code = result;
      if (summary.interrupted || abort.signal.aborted) {
        code = ExitCode.interrupted;
        break;
      }
    }
  } finally {
    // Still listening while the report is finished: a Ctrl-C then must not end us without it.
    try {
      await reporter.finish();
      if (notCompleted.size > 0 && code !== ExitCode.interrupted) {
        const hosts = [...notCompleted].sort();
        // Only one playbook's retry file names every host to retry.
        io.stdout.write(maskSecrets(retry.retryAdvice(argv, hosts, { cwd: io.cwd, retryFile: playbooks.length === 1 ? retryFile : undefined })));
      }
    } finally {
      process.off("SIGINT", onInterrupt);
      process.off("SIGTERM", onTerminate);
      process.off("SIGHUP", onHangup);
    }
  }
  return code;
}

runIfMain(import.meta, main);
