/**
 * Lists and edits the inventory, as ansible-inventory lists it: `inventory --list`,
 * `--host pi-1`, `--graph`; and `inventory add-host pi-5 -g agents --var ansible_host=...`,
 * `remove-host`, `set-var`, `unset-var`, `move-host`, `rename-host`, `convert` (INI to YAML).
 * See INVENTORY_HELP in lib/inventory-edit/args.ts.
 *
 * Runnable as `npx zx inventory ...` (the `inventory` file at the repo root), `node --import
 * tsx scripts/inventory.ts ...` and `deno run -A scripts/inventory.ts ...`. Exit codes are the
 * runner's (0 ok, 1 error, 4 parse error, 5 bad options).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, relative, resolve } from "node:path";
import { ExitCode, UserError } from "./lib/errors.ts";
import { UsageError } from "./lib/cli/args.ts";
import { INVENTORY_HELP, parseInventoryArgs, type InventoryOptions } from "./lib/inventory-edit/args.ts";
import { runIfMain } from "./lib/cli/run-if-main.ts";
import { reportError } from "./lib/cli/report-error.ts";

interface Output {
  write(text: string): unknown;
}

export interface InventoryIo {
  stdout?: Output;
  stderr?: Output;
  cwd?: string;
  env?: Record<string, string | undefined>;
}

export async function main(argv: string[], io: InventoryIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const cwd = io.cwd ?? process.cwd();
  let verbosity = 0;
  try {
    const options = parseInventoryArgs(argv);
    verbosity = options.verbosity;
    if (options.help) {
      stdout.write(INVENTORY_HELP);
      return ExitCode.ok;
    }
    // ansible.cfg and ANSIBLE_* (the inventory, the vault passwords), as the runner reads them.
    const { loadCommandSettings, inventorySources } = await import("./lib/cli/settings.ts");
    const { settings } = await loadCommandSettings(options, { cwd, env: io.env ?? process.env, stderr });
    const sources = () => inventorySources(options.inventory, cwd, settings);
    return options.command ? await edit(options, sources, { stdout, stderr, cwd }) : await list(options, sources, { stdout, cwd });
  } catch (error) {
    return reportError(error, stderr, { cwd, verbosity });
  }
}

/** The inventory sources (-i, ANSIBLE_INVENTORY, ansible.cfg, inventory/hosts.yml). */
type Sources = () => string[];

async function list(options: InventoryOptions, sources: Sources, io: { stdout: Output; cwd: string }): Promise<number> {
  const { loadInventory } = await import("./lib/inventory/inventory.ts");
  const { graph, hostJson, listJson, listYaml } = await import("./lib/inventory-edit/listing.ts");
  const inventory = loadInventory(sources(), { playbookDir: options.playbookDir ? resolve(io.cwd, options.playbookDir) : undefined });
  const text =
    options.action === "graph"
      ? graph(inventory, options.words[0] ?? "all", options.vars)
      : options.action === "host"
        ? hostJson(inventory, options.host!, options.yaml)
        : options.yaml
          ? listYaml(inventory)
          : listJson(inventory);
  if (options.output) writeFileSync(resolve(io.cwd, options.output), text);
  else io.stdout.write(text);
  return ExitCode.ok;
}

/** The one YAML file an edit works on: -i FILE, or the only inventory file of -i FOLDER. */
function editedFile(sources: Sources): string {
  const given = sources();
  if (given.length !== 1) throw new UsageError("edits work on one inventory: give a single -i FILE");
  const path = given[0];
  if (!existsSync(path)) throw new UsageError(`Inventory not found: ${path}`);
  if (!statSync(path).isDirectory()) return path;
  const files = readdirSync(path).filter((e) => /\.ya?ml$/.test(e)).map((e) => join(path, e));
  if (files.length !== 1) throw new UsageError(`${path} holds ${files.length} YAML inventory files: name the one to edit with -i FILE`);
  return files[0];
}

async function edit(options: InventoryOptions, sources: Sources, io: { stdout: Output; stderr: Output; cwd: string }): Promise<number> {
  const file = editedFile(sources);
  const text = readFileSync(file, "utf8");
  const { looksLikeIni } = await import("./lib/inventory/load.ts");
  const isIni = extname(file) === ".ini" || (![".yml", ".yaml", ".json"].includes(extname(file)) && looksLikeIni(text));
  if (options.command === "convert") return convert(file, isIni, options, io);
  if (isIni) {
    throw new UserError(`${file} is an INI inventory; edits keep YAML's comments and need a YAML file`, {
      exitCode: ExitCode.badOptions,
      hint: `Convert it first: npx zx inv -i ${relative(io.cwd, file) || file} convert (writes a .yml next to it).`,
    });
  }
  if (extname(file) === ".json") throw new UserError(`${file} is a JSON inventory; edits work on YAML`, { exitCode: ExitCode.badOptions });

  const { YamlFile } = await import("./lib/inventory-edit/yaml-file.ts");
  const edits = await import("./lib/inventory-edit/edits.ts");
  const { planOf, loadPlanned, planDiff, commit } = await import("./lib/inventory-edit/commit.ts");
  const { roleWarnings } = await import("./lib/inventory-edit/validate.ts");
  const { loadInventory } = await import("./lib/inventory/inventory.ts");

  const before = loadInventory([file]);
  const session = new edits.EditSession(new YamlFile(file, text));
  const words = options.words;
  const need = (n: number, usage: string) => {
    if (words.length !== n) throw new UsageError(`usage: inv ${options.command} ${usage}`);
  };
  const target = (): { host: string } | { group: string } => {
    if (options.host !== undefined && options.groups.length === 0) return { host: options.host };
    if (options.host === undefined && options.groups.length === 1) return { group: options.groups[0] };
    throw new UsageError(`${options.command} needs one target: --host NAME or -g GROUP`);
  };
  const assignment = (a: string) => edits.parseAssignment(a, "the command line");
  switch (options.command) {
    case "add-host":
      need(1, "NAME [-g GROUP]... [--var k=v]...");
      edits.addHost(session, words[0], options.groups, options.assignments.map(assignment));
      break;
    case "remove-host":
      need(1, "NAME [-g GROUP]");
      if (options.groups.length > 1) throw new UsageError("remove-host takes at most one -g GROUP");
      edits.removeHost(session, words[0], options.groups[0]);
      break;
    case "set-var": {
      const t = target();
      const pairs = [...options.assignments, ...words].map(assignment);
      if (pairs.length === 0) throw new UsageError("usage: inv set-var (--host NAME | -g GROUP) k=v...");
      for (const [k, v] of pairs) edits.setVar(session, t, k, v);
      break;
    }
    case "unset-var": {
      const t = target();
      if (words.length === 0) throw new UsageError("usage: inv unset-var (--host NAME | -g GROUP) NAME...");
      for (const k of words) edits.unsetVar(session, t, k);
      break;
    }
    case "move-host":
      need(1, "NAME --from GROUP --to GROUP");
      if (!options.from || !options.to) throw new UsageError("move-host needs --from GROUP and --to GROUP");
      edits.moveHost(session, words[0], options.from, options.to);
      break;
    case "rename-host":
      need(2, "OLD NEW");
      edits.renameHost(session, words[0], words[1]);
      break;
  }

  const plan = planOf(session);
  const after = loadPlanned(plan);
  const known = new Set(roleWarnings(before));
  const here = (text: string) => text.split(`${io.cwd}/`).join("");
  for (const note of plan.notes) io.stderr.write(`[WARNING]: ${here(note)}\n`);
  for (const w of roleWarnings(after)) if (!known.has(w)) io.stderr.write(`[WARNING]: ${w}\n`);
  if (plan.writes.length === 0 && plan.renames.length === 0) {
    io.stdout.write("No change: the inventory already says so.\n");
    return ExitCode.ok;
  }
  if (options.dryRun) {
    io.stdout.write(planDiff(plan, io.cwd));
    return ExitCode.ok;
  }
  const backups = commit(plan);
  const show = (p: string) => (relative(io.cwd, p).startsWith("..") ? p : relative(io.cwd, p));
  io.stdout.write(`Changed ${plan.writes.map((w) => show(w.path)).join(", ")}${plan.renames.map((r) => `; renamed ${show(r.from)} to ${show(r.to)}`).join("")}${backups.length ? ` (previous version: ${backups.map(show).join(", ")})` : ""}\n`);
  return ExitCode.ok;
}

async function convert(file: string, isIni: boolean, options: InventoryOptions, io: { stdout: Output; cwd: string }): Promise<number> {
  if (!isIni) throw new UserError(`${file} is already YAML; nothing to convert`, { exitCode: ExitCode.badOptions });
  const { iniToYaml, checkSameInventory } = await import("./lib/inventory-edit/convert.ts");
  const { loadInventory } = await import("./lib/inventory/inventory.ts");
  const output = options.output ? resolve(io.cwd, options.output) : file.replace(/(\.ini)?$/, ".yml");
  if (existsSync(output)) throw new UserError(`${output} exists; not overwriting it`, { exitCode: ExitCode.error, hint: "Name another file with --output FILE." });
  const yaml = iniToYaml(file);
  const stage = mkdtempSync(join(tmpdir(), "inventory-convert-"));
  try {
    writeFileSync(join(stage, "hosts.yml"), yaml);
    checkSameInventory(loadInventory([file]), loadInventory([join(stage, "hosts.yml")]), file);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  if (options.dryRun) {
    io.stdout.write(yaml);
    return ExitCode.ok;
  }
  writeFileSync(output, yaml, { flag: "wx" });
  io.stdout.write(`Wrote ${relative(io.cwd, output) || output}; edit that file from now on (use -i ${relative(io.cwd, output) || output}) and remove the INI one.\n`);
  return ExitCode.ok;
}

runIfMain(import.meta, main);
