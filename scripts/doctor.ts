/**
 * The cluster's health check, after any reboot and on demand: `npx zx doctor` (or
 * `deno run -A scripts/doctor.ts`, or `node --import tsx scripts/doctor.ts`).
 *
 *   memory-cgroup  hostname-unique  time-sync  static-address  ssd-mount  iscsid
 *   node-ready  longhorn-schedulable   (the last two when the inventory has a k3s server)
 *
 * One line per host per check, exit 2 when any fails, `--json` for scripts, `-i` and `--limit`
 * as the runner's. It reads the same inventory and role defaults the playbooks use, connects
 * with the runner's SSH transport and runs read-only commands only: one per host, plus
 * `k3s kubectl get ... -o json` on the first server.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { userInfo } from "node:os";
import { parse } from "yaml";
import { ExitCode, UserError } from "./lib/errors.ts";
import { REPO_ROOT } from "./lib/repo-root.ts";
import { maskSecrets } from "./lib/shell/secret.ts";
import { loadInventory, selectHosts, type Inventory } from "./lib/inventory/inventory.ts";
import { Templar } from "./lib/template/templar.ts";
import { connectionSettingsFromVars, createTransport } from "./lib/transport/connect.ts";
import type { Transport } from "./lib/transport/types.ts";
import { CHECKS, type CheckName, hostnamesUnique, iscsid, longhornSchedulable, memoryCgroup, nodesReady, ssdMount, staticAddress, timeSync, type Verdict } from "./lib/doctor/checks.ts";
import { parseProbe, probeCommand, type HostProbe } from "./lib/doctor/probe.ts";
import { runIfMain } from "./lib/cli/run-if-main.ts";
import { reportError } from "./lib/cli/report-error.ts";
import { UsageError, parseFlags, type Flag } from "./lib/cli/flags.ts";

interface Output {
  write(text: string): unknown;
}

export interface DoctorIo {
  stdout?: Output;
  stderr?: Output;
  cwd?: string;
  env?: Record<string, string | undefined>;
}

interface Options {
  inventory: string[];
  limit?: string;
  json: boolean;
  help: boolean;
}

const HELP = `usage: doctor [-i INVENTORY] [-l|--limit PATTERN] [--json]

Checks every node of the inventory (group "cluster", else all hosts): ${CHECKS.join(", ")}.
Read-only. One line per host per check; exit 0 when all pass, 2 when any fails.
  -i, --inventory   inventory file or folder (repeatable; default: ANSIBLE_INVENTORY,
                    ansible.cfg's inventory, else inventory/hosts.yml)
  -l, --limit       only these hosts (an Ansible pattern)
  --json            print the verdicts as JSON
`;

const ROLE_DEFAULTS = ["base-os", "ntp", "static-ip", "ssd-storage", "longhorn"];
const COMMAND_TIMEOUT_MS = 30_000;

const FLAGS: Flag<Options>[] = [
  { long: "inventory", short: "i", value: true, apply: (o, v) => o.inventory.push(v) },
  { long: "limit", short: "l", value: true, apply: (o, v) => (o.limit = v) },
  { long: "json", apply: (o) => (o.json = true) },
  { long: "help", short: "h", apply: (o) => (o.help = true) },
];

function parseArgs(argv: string[]): Options {
  const options: Options = { inventory: [], json: false, help: false };
  const hint = "doctor --help lists the options";
  const operands = parseFlags(argv, FLAGS, options, { unknownLong: (name) => new UsageError(`unknown option ${JSON.stringify(`--${name}`)}`, hint) });
  if (operands.length > 0) throw new UsageError(`unknown option ${JSON.stringify(operands[0])}`, hint);
  return options;
}

/** The role defaults, so an unset variable means what it means to the roles. */
function roleDefaults(): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const role of ROLE_DEFAULTS) {
    const file = join(REPO_ROOT, "roles", role, "defaults", "main.yml");
    if (existsSync(file)) Object.assign(vars, parse(readFileSync(file, "utf8")) ?? {});
  }
  return vars;
}

/** One host's variables, rendered on demand; a value that cannot be rendered is undefined. */
class HostVars {
  readonly #templar: Templar;
  constructor(inventory: Inventory, readonly host: string, defaults: Record<string, unknown>) {
    this.#templar = new Templar({ ...defaults, ...inventory.hostVars(host), inventory_hostname: host, groups: inventory.groups, group_names: inventory.groupNames(host) });
  }
  get(name: string): unknown {
    try {
      return this.#templar.renderString(`{{ ${name} }}`);
    } catch {
      return undefined;
    }
  }
  text(name: string): string {
    const v = this.get(name);
    return v === undefined || v === null ? "" : String(v);
  }
  /** The connection variables only (ansible_*), rendered. */
  connection(inventory: Inventory): Record<string, unknown> {
    const raw = inventory.hostVars(this.host);
    return Object.fromEntries(Object.keys(raw).filter((k) => k.startsWith("ansible_")).map((k) => [k, this.get(k)]));
  }
}

/** The Kubernetes node name of a host: its hostname as base-os sets it. */
const nodeName = (v: HostVars) => v.text("base_os_hostname") || v.host;

/** The time servers a host should use: the ntp role's choice for it. */
function expectedTimeServers(inventory: Inventory, v: HostVars, defaults: Record<string, unknown>): string[] {
  const servers = ([] as unknown[]).concat(v.get("ntp_servers") ?? []).map(String);
  const master = v.text("ntp_server_host");
  if (v.get("ntp_serve_clients") === true && master && master !== v.host && inventory.hosts.includes(master)) {
    const m = new HostVars(inventory, master, defaults);
    const address = (m.text("static_ip_address") || m.text("ansible_host") || master).split("/")[0];
    return [address, ...servers];
  }
  return servers;
}

function asRoot(vars: Record<string, unknown>): boolean {
  const user = vars.ansible_user ?? vars.ansible_ssh_user;
  if (user !== undefined) return String(user) === "root";
  try {
    return userInfo().username === "root";
  } catch {
    return false;
  }
}

interface Reached {
  transport?: Transport;
  error?: string;
  root: boolean;
}

async function connect(inventory: Inventory, v: HostVars): Promise<Reached> {
  const vars = v.connection(inventory);
  try {
    const transport = createTransport(v.host, connectionSettingsFromVars(v.host, vars));
    await transport.connect();
    return { transport, root: asRoot(vars) };
  } catch (e) {
    return { error: (e as Error).message, root: false };
  }
}

async function kubectl(reached: Reached, what: string): Promise<string> {
  const r = await reached.transport!.exec(`k3s kubectl get ${what} -o json`, { timeoutMs: COMMAND_TIMEOUT_MS, ...(reached.root ? {} : { become: {} }) });
  if (r.rc !== 0) throw new Error((r.stderr || r.stdout).trim().split("\n").slice(-1)[0] || `exit ${r.rc}`);
  return r.stdout;
}

/** Runs every check; the verdicts in host order, then check order. */
export async function diagnose(inventory: Inventory, hosts: string[]): Promise<Verdict[]> {
  const defaults = roleDefaults();
  const vars = new Map(hosts.map((h) => [h, new HostVars(inventory, h, defaults)]));
  const inGroup = (group: string, h: string) => (inventory.groups[group] ?? []).includes(h);
  const verdicts: Verdict[] = [];
  const reached = new Map<string, Reached>();
  const probes = new Map<string, HostProbe>();

  await Promise.all(
    hosts.map(async (host) => {
      const v = vars.get(host)!;
      const r = await connect(inventory, v);
      reached.set(host, r);
      if (!r.transport) return;
      const mount = v.text("ssd_storage_mount") || "/var/lib/longhorn";
      try {
        const out = await r.transport.exec(probeCommand(mount), { timeoutMs: COMMAND_TIMEOUT_MS });
        if (out.rc !== 0) throw new Error(`the checks' command ended with ${out.rc}: ${out.stderr.trim().split("\n").slice(-1)[0] ?? ""}`);
        probes.set(host, parseProbe(out.stdout));
      } catch (e) {
        r.error = (e as Error).message;
      }
    }),
  );

  const unreachable = (host: string) => `not checked: ${reached.get(host)?.error ?? "no answer"}`;
  for (const host of hosts) {
    const v = vars.get(host)!;
    const p = probes.get(host);
    if (!p) {
      for (const check of ["memory-cgroup", "hostname-unique", "time-sync", "static-address", "ssd-mount", "iscsid"] as const) verdicts.push({ host, check, status: "fail", detail: unreachable(host) });
      continue;
    }
    verdicts.push(memoryCgroup(host, p.controllers, p.procCgroups));
    verdicts.push(timeSync(host, p.timesync, expectedTimeServers(inventory, v, defaults)));
    verdicts.push(staticAddress(host, p.ipAddr, v.text("static_ip_address")));
    verdicts.push(ssdMount(host, v.text("ssd_storage_mount") || "/var/lib/longhorn", v.text("ssd_storage_device"), p.fstab, p.live));
    verdicts.push(iscsid(host, inGroup("ssd", host), p.iscsid));
  }
  verdicts.push(...hostnamesUnique(new Map(hosts.filter((h) => probes.has(h)).map((h) => [h, probes.get(h)!.hostname]))));

  // The cluster's view, from the first server (when the inventory has one).
  const server = (inventory.groups.servers ?? [])[0];
  if (server) {
    const members = hosts.filter((h) => inGroup("servers", h) || inGroup("agents", h));
    const storage = hosts.filter((h) => inGroup("ssd", h));
    const names = (list: string[]) => new Map(list.map((h) => [h, nodeName(vars.get(h) ?? new HostVars(inventory, h, defaults))]));
    let r = reached.get(server);
    if (!r) {
      r = await connect(inventory, new HostVars(inventory, server, defaults));
      reached.set(server, r);
    }
    const fromServer = async (what: string) => {
      if (!r!.transport) throw new Error(`the server ${server} is unreachable: ${r!.error}`);
      return kubectl(r!, what);
    };
    const failAll = (list: string[], check: CheckName, e: unknown) => list.map((h) => ({ host: h, check, status: "fail" as const, detail: (e as Error).message }));
    if (members.length > 0) {
      try {
        verdicts.push(...nodesReady(names(members), await fromServer("nodes")));
      } catch (e) {
        verdicts.push(...failAll(members, "node-ready", e));
      }
    }
    if (storage.length > 0) {
      const namespace = vars.get(server)?.text("longhorn_namespace") || "longhorn-system";
      try {
        verdicts.push(...longhornSchedulable(names(storage), await fromServer(`nodes.longhorn.io -n ${namespace.replace(/[^a-z0-9-]/g, "")}`)));
      } catch (e) {
        verdicts.push(...failAll(storage, "longhorn-schedulable", e));
      }
    }
  }
  await Promise.all([...reached.values()].map((r) => r.transport?.close().catch(() => undefined)));
  const order = (v: Verdict) => hosts.indexOf(v.host) * 100 + CHECKS.indexOf(v.check);
  return verdicts.sort((a, b) => order(a) - order(b));
}

/** The report: one line per host per check, aligned. */
export function formatVerdicts(verdicts: Verdict[]): string {
  const hostWidth = Math.max(4, ...verdicts.map((v) => v.host.length));
  const checkWidth = Math.max(...CHECKS.map((c) => c.length));
  const lines = verdicts.map((v) => `${v.status.toUpperCase().padEnd(4)}  ${v.host.padEnd(hostWidth)}  ${v.check.padEnd(checkWidth)}  ${v.detail}`);
  const failed = verdicts.filter((v) => v.status === "fail").length;
  lines.push(failed === 0 ? `all ${verdicts.filter((v) => v.status === "ok").length} checks passed` : `${failed} check(s) failed`);
  return lines.join("\n") + "\n";
}

export async function main(argv: string[], io: DoctorIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const cwd = io.cwd ?? process.cwd();
  try {
    const options = parseArgs(argv);
    if (options.help) {
      stdout.write(HELP);
      return ExitCode.ok;
    }
    // ansible.cfg and ANSIBLE_* (the inventory, the vault passwords), as the runner reads them.
    const { loadCommandSettings, inventorySources, NO_VAULT_FLAGS } = await import("./lib/cli/settings.ts");
    const { settings } = await loadCommandSettings(NO_VAULT_FLAGS, { cwd, env: io.env ?? process.env, stderr });
    const sources = inventorySources(options.inventory, cwd, settings);
    const inventory = loadInventory(sources);
    let hosts = (inventory.groups.cluster ?? []).length > 0 ? inventory.groups.cluster : inventory.hosts.filter((h) => h !== "localhost");
    if (hosts.length === 0) throw new UserError(`no hosts to check in ${sources.join(", ")}`, { exitCode: ExitCode.error, hint: 'Put the nodes in the inventory (group "cluster"), see inventory/hosts.example.yml.' });
    if (options.limit) {
      const limited = new Set(selectHosts(inventory, options.limit, { baseDir: cwd }));
      hosts = hosts.filter((h) => limited.has(h));
      if (hosts.length === 0) throw new UserError(`--limit ${JSON.stringify(options.limit)} matches no host to check`, { exitCode: ExitCode.error, hint: `The inventory has ${inventory.hosts.length} host(s).` });
    }
    const verdicts = await diagnose(inventory, hosts);
    const failed = verdicts.some((v) => v.status === "fail");
    stdout.write(maskSecrets(options.json ? JSON.stringify({ ok: !failed, verdicts }, null, 2) + "\n" : formatVerdicts(verdicts)));
    return failed ? ExitCode.hostFailed : ExitCode.ok;
  } catch (error) {
    return reportError(error, stderr);
  }
}

/** True when this file is the program (node/tsx or deno), not an import of `doctor`/tests. */
runIfMain(import.meta, main);
