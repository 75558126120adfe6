/**
 * discover: which machines asked the netboot master for a network boot, from dnsmasq's log
 * (the role's dnsmasq runs with log-dhcp): MAC, Raspberry Pi or PXE (vendor class and MAC
 * prefix), Pi boot folders read over TFTP (serial or MAC), each marked with its inventory host
 * or NOT IN THE INVENTORY, and the YAML to paste for the unknown ones.
 *
 *   ssh pi-master journalctl -u dnsmasq -o short | npx zx discover -i inventory/hosts.yml
 *   npx zx discover --log dnsmasq.log -i inventory/hosts.yml
 *   deno run -A scripts/discover.ts --log dnsmasq.log
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ExitCode, UserError } from "./lib/errors.ts";
import { UsageError, parseFlags, type Flag } from "./lib/cli/flags.ts";
import { loadInventory } from "./lib/inventory/inventory.ts";
import { parseDnsmasqLog } from "./lib/netboot/dnsmasq-log.ts";
import { buildReport, formatReport, type RegisteredClient } from "./lib/netboot/discover-report.ts";
import { runIfMain } from "./lib/cli/run-if-main.ts";
import { reportError } from "./lib/cli/report-error.ts";

export const DISCOVER_HELP = `Usage: discover [--log FILE] [-i INVENTORY]... [--yaml]

Lists the machines that asked the netboot master to boot them, from dnsmasq's log
(log-dhcp), and which of them the inventory does not know yet.

Options:
  --log FILE        dnsmasq's log (syslog, journalctl -u dnsmasq, or its log-facility
                    file); "-" or none: read standard input
  -i, --inventory   inventory file or folder (repeatable; default: ANSIBLE_INVENTORY,
                    ansible.cfg's inventory, else inventory/hosts.yml when it exists);
                    hosts are matched by netboot_mac and netboot_serial
  --yaml            print only the YAML to paste under netboot_clients
  -h, --help        this text
`;

interface Output {
  write(text: string): unknown;
}

export interface DiscoverIo {
  stdout?: Output;
  stderr?: Output;
  readStdin?: () => Promise<string>;
  cwd?: string;
  env?: Record<string, string | undefined>;
}

interface Options {
  log: string;
  inventories: string[];
  yamlOnly: boolean;
  help: boolean;
}

const FLAGS: Flag<Options>[] = [
  { long: "log", value: true, apply: (o, v) => (o.log = v) },
  { long: "inventory", short: "i", value: true, apply: (o, v) => o.inventories.push(v) },
  { long: "yaml", apply: (o) => (o.yamlOnly = true) },
  { long: "help", short: "h", apply: (o) => (o.help = true) },
];

function parseArgs(argv: string[]): Options {
  const o: Options = { log: "-", inventories: [], yamlOnly: false, help: false };
  const operands = parseFlags(argv, FLAGS, o, { unknownLong: (name) => new UsageError(`Unknown option "--${name}"`) });
  if (operands.length > 0) throw new UsageError(`Unknown option "${operands[0]}"`);
  return o;
}

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString("utf8");
}

/** Hosts of the inventory with a netboot_mac or netboot_serial. */
function registeredClients(sources: string[]): RegisteredClient[] {
  if (sources.length === 0) return [];
  const inventory = loadInventory(sources);
  return inventory.hosts.map((host) => {
    const vars = inventory.hostVars(host);
    const text = (v: unknown) => (typeof v === "string" || typeof v === "number" ? String(v).toLowerCase() : undefined);
    return { host, mac: text(vars.netboot_mac), serial: text(vars.netboot_serial) };
  });
}

/** Runs the command line; resolves to the exit code (never throws). */
export async function main(argv: string[], dio: DiscoverIo = {}): Promise<number> {
  const stdout = dio.stdout ?? process.stdout;
  const stderr = dio.stderr ?? process.stderr;
  const cwd = dio.cwd ?? process.cwd();
  try {
    const o = parseArgs(argv);
    if (o.help) {
      stdout.write(DISCOVER_HELP);
      return ExitCode.ok;
    }
    let text: string;
    if (o.log === "-") text = await (dio.readStdin ?? readProcessStdin)();
    else {
      const file = resolve(cwd, o.log);
      if (!existsSync(file)) throw new UserError(`The log file "${o.log}" does not exist`, { exitCode: ExitCode.error, hint: "give dnsmasq's log with --log FILE, or pipe it in (journalctl -u dnsmasq -o short)" });
      text = readFileSync(file, "utf8");
    }
    // ansible.cfg and ANSIBLE_* as the runner reads them; no inventory at all is fine here.
    const { loadCommandSettings, inventorySources, NO_VAULT_FLAGS } = await import("./lib/cli/settings.ts");
    const { settings } = await loadCommandSettings(NO_VAULT_FLAGS, { cwd, env: dio.env ?? process.env, stderr });
    const anyInventory = o.inventories.length > 0 || (settings.inventory?.length ?? 0) > 0 || existsSync(resolve(cwd, "inventory", "hosts.yml"));
    const inventories = anyInventory ? inventorySources(o.inventories, cwd, settings) : [];
    for (const i of inventories) {
      if (!i.includes(",") && !existsSync(resolve(cwd, i))) throw new UserError(`The inventory "${i}" does not exist`, { exitCode: ExitCode.error });
    }
    const report = buildReport(parseDnsmasqLog(text), registeredClients(inventories));
    stdout.write(o.yamlOnly ? report.yaml : formatReport(report));
    return ExitCode.ok;
  } catch (error) {
    return reportError(error, stderr);
  }
}

runIfMain(import.meta, main);
