/**
 * firstboot: the step before everything else. Prepares a freshly flashed Raspberry Pi OS card
 * (or .img file) for a headless first boot from an inventory host's variables, writing the
 * FAT boot partition with mtools, without mounting it. `firstboot --help` has the details.
 *
 * Order: check the target (device safety, partition table, Pi boot files) -> settings from the
 * inventory -> secrets (terminal or environment; hashed here, never written or printed as
 * such) -> show the plan -> ask (or --yes) -> write the files, cmdline.txt last, each read back.
 *
 * Runnable as `npx zx firstboot ...` (the root `firstboot` file calls main), `node --import
 * tsx scripts/firstboot.ts ...` and `deno run -A scripts/firstboot.ts ...`.
 */
import { closeSync, fsyncSync, openSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ExitCode, UserError } from "./lib/errors.ts";
import { REPO_ROOT } from "./lib/repo-root.ts";
import { UsageError } from "./lib/cli/args.ts";
import { runIfMain } from "./lib/cli/run-if-main.ts";
import { reportError } from "./lib/cli/report-error.ts";
import { maskSecrets, registerSecret } from "./lib/shell/secret.ts";
import { HELP, parseFirstbootArgs, type FirstbootOptions } from "./lib/firstboot/args.ts";
import { inspectTarget } from "./lib/firstboot/target.ts";
import { findBootPartition } from "./lib/firstboot/boot-partition.ts";
import { FatVolume } from "./lib/firstboot/fat.ts";
import { checkBootFiles, type Layout } from "./lib/firstboot/boot-files.ts";
import { hostSettings, type HostSettings } from "./lib/firstboot/host-settings.ts";
import { findHash, passwordHash } from "./lib/firstboot/password.ts";
import { pskProblem, wifiPsk } from "./lib/firstboot/wifi-psk.ts";
import { planFiles } from "./lib/firstboot/plan.ts";
import { describePlan } from "./lib/firstboot/describe.ts";
import type { FirstbootSettings } from "./lib/firstboot/settings.ts";

interface Output {
  write(text: string): unknown;
}

export interface FirstbootIo {
  stdout?: Output;
  stderr?: Output;
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Whether a person can answer on stdin (default: process.stdin.isTTY). */
  interactive?: boolean;
}

/** Runs the command line; resolves to the exit code, never throws. */
export async function main(argv: string[], io: FirstbootIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  // Everything printed passes the mask: the password and the Wi-Fi passphrase are registered.
  const out = (text: string) => stdout.write(maskSecrets(text));
  const err = (text: string) => stderr.write(maskSecrets(text));
  try {
    const options = parseFirstbootArgs(argv);
    if (options.help) {
      out(HELP);
      return ExitCode.ok;
    }
    if (options.version) {
      const pkg = JSON.parse(readFileSync(resolve(REPO_ROOT, "package.json"), "utf8")) as { name: string; version: string };
      out(`${pkg.name} ${pkg.version}\n`);
      return ExitCode.ok;
    }
    return await run(options, {
      out,
      err,
      cwd: io.cwd ?? process.cwd(),
      env: io.env ?? process.env,
      interactive: io.interactive ?? Boolean(process.stdin.isTTY),
    });
  } catch (error) {
    return reportError(error, { write: err });
  }
}

interface Session {
  out(text: string): void;
  err(text: string): void;
  cwd: string;
  env: Record<string, string | undefined>;
  interactive: boolean;
}

async function run(options: FirstbootOptions, s: Session): Promise<number> {
  const targetPath = resolve(s.cwd, options.target!);
  const target = inspectTarget(targetPath);
  const part = findBootPartition(targetPath);
  const fat = new FatVolume(targetPath, part.offset);
  const names = fat.list();
  const read = (name: string) => fat.read(name, names)?.toString("utf8");
  const check = checkBootFiles(names, read("cmdline.txt"));
  const where = part.number === undefined ? `the FAT file system (${part.fat})` : `partition ${part.number} (${part.fat})`;
  if (check.missing.length > 0) {
    throw new UserError(`Refusing ${JSON.stringify(options.target)}: ${where} is not a Raspberry Pi boot partition: no ${check.missing.join(", no ")}`, {
      exitCode: ExitCode.error,
      hint: "Flash Raspberry Pi OS to the card first (the Imager or dd), then run firstboot on it.",
    });
  }
  const layout: Layout = options.layout === "auto" ? check.layout : options.layout;
  const layoutReason = options.layout === "auto" ? check.layoutReason : `${options.layout}: chosen with --layout`;

  // ansible.cfg and ANSIBLE_* (the inventory, the vault passwords), as the runner reads them.
  const { loadCommandSettings, inventorySources, NO_VAULT_FLAGS } = await import("./lib/cli/settings.ts");
  const { settings: ansibleSettings } = await loadCommandSettings(NO_VAULT_FLAGS, { cwd: s.cwd, env: s.env, stderr: { write: s.err } });
  const { loadInventory } = await import("./lib/inventory/inventory.ts");
  const inventory = loadInventory(inventorySources(options.inventory, s.cwd, ansibleSettings));
  const host = hostSettings(inventory, options.host!, options, s.cwd);

  const current = new Map<string, string | undefined>();
  const currentFile = (name: string) => {
    if (!current.has(name)) current.set(name, read(name));
    return current.get(name);
  };
  // What the card already holds is as secret as what we are about to write (shown in --diff).
  const onCard = ["firstrun.sh", "user-data", "network-config"].map((name) => currentFile(name) ?? "");
  for (const text of onCard) for (const secret of text.match(/\$6\$[^\s'"]+|\b[0-9a-f]{64}\b/g) ?? []) registerSecret(secret);
  const settings = await withSecrets(host, s, onCard.map(findHash));
  const files = planFiles(layout, settings, currentFile);

  s.out(describePlan({ host: options.host!, target: options.target!, kind: target.kind, where, offset: part.offset, layoutReason }, settings, files));
  const changed = files.filter((f) => f.before !== f.content);
  if (options.diff) {
    const { unifiedDiff } = await import("./lib/report/diff.ts");
    for (const f of changed) s.out(unifiedDiff(f.before ?? "", f.content, { beforeHeader: `a/${f.name}`, afterHeader: `b/${f.name}` }));
  }
  if (changed.length === 0) {
    s.out("Nothing to write: the card is already prepared this way.\n");
    return ExitCode.ok;
  }
  if (options.check) {
    s.out("Check mode (--check): nothing written.\n");
    return ExitCode.ok;
  }
  if (!options.yes) {
    if (!s.interactive) {
      throw new UsageError("Not written: there is no terminal to ask on", "Read the plan above and add --yes to write it without asking (or --check to only look).");
    }
    const { readLine } = await import("./lib/cli/prompt.ts");
    const answer = (await readLine(`Write ${changed.length} file(s) to ${options.target}? [y/N] `)).trim().toLowerCase();
    if (answer !== "y" && answer !== "yes") {
      s.out("Nothing written.\n");
      return ExitCode.ok;
    }
  }

  for (const f of changed) {
    fat.write(f.name, Buffer.from(f.content, "utf8"));
    const back = fat.read(f.name, [...names, f.name])?.toString("utf8");
    if (back !== f.content) throw new UserError(`Writing ${f.name} on ${options.target} did not hold: it reads back differently`, { exitCode: ExitCode.error, hint: "The card may be failing or write-protected; try another card." });
  }
  // Flush the device's cache before the user pulls the card.
  const fd = openSync(targetPath, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  s.out(`Wrote ${changed.map((f) => f.name).join(", ")}. ${target.kind === "device" ? "The card can be removed; " : ""}At the first boot ${settings.hostname} ${layout === "firstrun" ? "runs firstrun.sh and reboots once" : "runs cloud-init"}; then: npx zx run playbooks/site.yml --limit ${options.host}\n`);
  return ExitCode.ok;
}

/** Adds the password hash and the Wi-Fi key; the clear texts are registered as secrets at once. */
async function withSecrets(host: HostSettings, s: Session, existingHashes: Array<string | undefined>): Promise<FirstbootSettings> {
  const ask = async (prompt: string, variable: string, confirm: boolean): Promise<string> => {
    const fromEnv = s.env[variable];
    if (fromEnv !== undefined && fromEnv !== "") {
      registerSecret(fromEnv);
      return fromEnv;
    }
    if (!s.interactive) throw new UsageError(`${prompt} is needed and there is no terminal to ask on`, `Run it from a terminal, or set ${variable} in the environment.`);
    const { readSecretLine } = await import("./lib/cli/prompt.ts");
    const first = await readSecretLine(`${prompt}: `);
    registerSecret(first);
    if (confirm && (await readSecretLine(`${prompt} (again): `)) !== first) throw new UsageError(`${prompt}: the two entries differ`, "Run it again.");
    return first;
  };
  const password = await ask(`Password for ${host.user} on ${host.hostname}`, "FIRSTBOOT_PASSWORD", true);
  if (password.length === 0 || /[\n\r]/.test(password)) throw new UsageError("The password must be one non-empty line");
  const { wifi, ...rest } = host;
  const settings: FirstbootSettings = { ...rest, passwordHash: passwordHash(password, existingHashes) };
  // The hash can be attacked offline and the derived Wi-Fi key joins the network: neither is printed.
  registerSecret(settings.passwordHash);
  if (wifi) {
    const passphrase = await ask(`Wi-Fi passphrase for ${JSON.stringify(wifi.ssid)}`, "FIRSTBOOT_WIFI_PSK", true);
    const problem = pskProblem(passphrase);
    if (problem) throw new UsageError(`${problem[0].toUpperCase()}${problem.slice(1)}`);
    settings.wifi = { ...wifi, psk: wifiPsk(wifi.ssid, passphrase) };
    registerSecret(settings.wifi.psk);
  }
  return settings;
}

runIfMain(import.meta, main);
