/**
 * From Ansible's connection variables to a Transport. Precedence, as ansible-playbook driving
 * OpenSSH: inventory variables and CLI overrides, then ssh arguments
 * (ansible_ssh_common_args/extra_args), then ~/.ssh/config, then defaults.
 */
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import { UserError } from "../errors.ts";
import type { Transport } from "./types.ts";
import { LocalTransport } from "./local.ts";
import { SshTransport, type SshTransportOptions } from "./ssh.ts";
import { SshConfig, expandPath, parseJump, wholeNumber } from "./ssh-config.ts";
import { parseSshArgs, type SshArgs } from "./ssh-args.ts";
import { makeHostKeyCheck, type HostKeyPolicy } from "./known-hosts.ts";
import { parseBoolean } from "../boolean.ts";

/** How to reach one host, from its Ansible connection variables. */
export interface ConnectionSettings {
  connection: "ssh" | "local";
  /** ansible_host (else the inventory name); ssh config HostName may still map it. */
  address: string;
  /** ansible_port; undefined = ssh args / ssh config / 22. */
  port?: number;
  /** ansible_user (or -u); undefined = ssh args / ssh config / the local user. */
  user?: string;
  /** ansible_ssh_private_key_file or --private-key: must exist. */
  privateKeyFile?: string;
  /** ansible_password / ansible_ssh_pass: password authentication only when given. */
  password?: string;
  /** known_hosts files consulted (the first records new keys); ssh args / config files come first. */
  knownHostsFiles: string[];
  /** --accept-new-host-keys: record unknown keys (OpenSSH's accept-new). Changed keys are still refused. */
  acceptNewHostKeys: boolean;
  /** false (ansible_ssh_host_key_checking: false or StrictHostKeyChecking=no): accept and record unknown keys with a warning. */
  strictHostKeyChecking: boolean;
  /** ansible_timeout (s) * 1000; default 10 s. */
  connectTimeoutMs: number;
  /** Default per-command limit; 0 = none. */
  commandTimeoutMs: number;
  /** ansible_ssh_args + ansible_ssh_common_args + ansible_ssh_extra_args. */
  sshArgs?: string;
  /** Read ~/.ssh/config (or `-F file` from sshArgs). */
  useSshConfig: boolean;
  /** Added: where warnings go (accepted keys, StrictHostKeyChecking=no). Default: stderr. */
  warn?: (message: string) => void;
  /** Added: ssh-agent socket; default SSH_AUTH_SOCK. */
  agentSocket?: string;
  /** Added: record new keys hashed (HashKnownHosts); default from ssh config, else plain. */
  hashKnownHosts?: boolean;
}

/** The CLI options and ansible.cfg settings that override (flags) or underlie (ansible.cfg) inventory variables. */
export interface ConnectionSettingsOverrides {
  /** -u */
  user?: string;
  /** --private-key */
  privateKeyFile?: string;
  /** --accept-new-host-keys: record unknown host keys (like OpenSSH's accept-new). */
  acceptNewHostKeys?: boolean;
  /** -c local for every play. */
  connection?: "ssh" | "local";
  /** ansible.cfg host_key_checking (a host's ansible_host_key_checking wins). */
  hostKeyChecking?: boolean;
  /** ansible.cfg timeout, seconds (a host's ansible_timeout wins). */
  timeout?: number;
  /** ansible.cfg [ssh_connection] ssh_args / ssh_common_args / ssh_extra_args (the host's ansible_ssh_* variables win). */
  sshArgs?: string;
  sshCommonArgs?: string;
  sshExtraArgs?: string;
}

const DEFAULT_KEY_FILES = ["id_ed25519", "id_ecdsa", "id_rsa"];
/** Keepalive defaults: a host silent for about 45 s (15 s x 3) is unreachable. */
export const DEFAULT_SERVER_ALIVE_INTERVAL_S = 15;
export const DEFAULT_SERVER_ALIVE_COUNT_MAX = 3;

function text(value: unknown): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "object" && value !== null && "reveal" in value && typeof (value as { reveal: unknown }).reveal === "function") {
    return String((value as { reveal(): unknown }).reveal());
  }
  return String(value);
}

/** Reads a host's Ansible connection variables (and -u, --private-key, -c overrides). */
export function connectionSettingsFromVars(
  host: string,
  vars: Record<string, unknown>,
  overrides: ConnectionSettingsOverrides = {},
): ConnectionSettings {
  // As Ansible: the ansible_connection variable beats the command line's -c.
  const connection = (text(vars.ansible_connection) ?? overrides.connection ?? "ssh") as string;
  if (connection !== "ssh" && connection !== "local" && connection !== "smart" && connection !== "paramiko") {
    throw new UserError(`host ${host}: ansible_connection ${JSON.stringify(connection)} is not supported`, { hint: "use ssh or local" });
  }
  const portText = text(vars.ansible_port ?? vars.ansible_ssh_port);
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw new UserError(`host ${host}: ansible_port ${JSON.stringify(portText)} is not a port number`);
  }
  const timeoutText = text(vars.ansible_ssh_timeout ?? vars.ansible_timeout);
  const timeoutS = timeoutText === undefined ? overrides.timeout ?? 10 : Number(timeoutText);
  if (!(timeoutS > 0)) throw new UserError(`host ${host}: ${vars.ansible_ssh_timeout !== undefined ? "ansible_ssh_timeout" : "ansible_timeout"} ${JSON.stringify(timeoutText)} is not a number of seconds`);
  // ansible_ssh_args replaces Ansible's default ssh_args (-C -o ControlMaster...): its options count too.
  const sshArgs = [
    text(vars.ansible_ssh_args) ?? overrides.sshArgs,
    text(vars.ansible_ssh_common_args) ?? overrides.sshCommonArgs,
    text(vars.ansible_ssh_extra_args) ?? overrides.sshExtraArgs,
  ].filter(Boolean).join(" ");
  if (text(vars.ansible_paramiko_proxy_command)) throw proxyCommandRefused(host, "ansible_paramiko_proxy_command", text(vars.ansible_paramiko_proxy_command)!);
  // As Ansible: a variable (inventory, play) beats the command line's -u / --private-key.
  const keyFile = text(vars.ansible_ssh_private_key_file ?? vars.ansible_private_key_file) ?? overrides.privateKeyFile;
  return {
    connection: connection === "local" ? "local" : "ssh",
    address: text(vars.ansible_host ?? vars.ansible_ssh_host) ?? host,
    port,
    user: text(vars.ansible_user ?? vars.ansible_ssh_user) ?? overrides.user,
    privateKeyFile: keyFile ? expandPath(keyFile) : undefined,
    password: text(vars.ansible_password ?? vars.ansible_ssh_pass ?? vars.ansible_ssh_password),
    knownHostsFiles: [join(homedir(), ".ssh", "known_hosts")],
    acceptNewHostKeys: overrides.acceptNewHostKeys ?? false,
    strictHostKeyChecking: parseBoolean(vars.ansible_ssh_host_key_checking ?? vars.ansible_host_key_checking) ?? overrides.hostKeyChecking ?? true,
    connectTimeoutMs: timeoutS * 1000,
    commandTimeoutMs: 0,
    sshArgs: sshArgs || undefined,
    useSshConfig: true,
  };
}

function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "root";
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** Makes the Transport for one host (not yet connected). */
export function createTransport(host: string, settings: ConnectionSettings): Transport {
  if (settings.connection === "local") {
    return new LocalTransport(host, { commandTimeoutMs: settings.commandTimeoutMs || undefined });
  }
  return new SshTransport(resolveSshOptions(host, settings));
}

/**
 * What the SSH transport will do for a host: address, port, user, keys, known_hosts policy,
 * jump chain, after ssh args and ssh config (`config` replaces ~/.ssh/config, for tests).
 */
export function resolveSshOptions(host: string, settings: ConnectionSettings, config?: SshConfig): SshTransportOptions {
  let args: SshArgs;
  try {
    args = parseSshArgs(settings.sshArgs);
  } catch (e) {
    throw new UserError(`host ${host}: ${(e as Error).message}`, { hint: "check ansible_ssh_common_args / ansible_ssh_extra_args" });
  }
  config ??= settings.useSshConfig ? SshConfig.load(args.configFile ? expandPath(args.configFile) : undefined) : SshConfig.parse("");
  const warn = settings.warn ?? ((m: string) => process.stderr.write(m + "\n"));
  return sshOptions(host, settings.address, settings, args, config, warn, 0);
}

/** Resolves one hop (the target or a jump host) to SshTransport options. */
function sshOptions(
  host: string,
  address: string,
  settings: ConnectionSettings,
  args: SshArgs,
  config: SshConfig,
  warn: (m: string) => void,
  depth: number,
  jumpSpec?: { user?: string; port?: number },
): SshTransportOptions {
  if (depth > 5) throw new UserError(`host ${host}: ProxyJump chain too long (loop?)`);
  const isTarget = depth === 0;
  const cfg = config.resolve(address);
  const option = (key: string) => (isTarget ? args.options.get(key) : undefined);
  const finalAddress = option("hostname") ?? cfg.hostname ?? address;
  const port = (isTarget ? settings.port ?? args.port : jumpSpec?.port) ?? cfg.port ?? 22;
  const user = (isTarget ? settings.user ?? args.user : jumpSpec?.user) ?? cfg.user ?? localUser();
  const explicitKeys = [settings.privateKeyFile, ...args.identityFiles.map(expandPath)].filter((f): f is string => !!f);
  const requiredKeyFiles = isTarget ? explicitKeys : [];
  // Jump hosts also try the target's explicit key (a cluster usually shares one key), unlike
  // OpenSSH's -J which does not pass -i on: fewer surprises for the common Pi setup.
  const keyFiles = unique([...(isTarget ? [] : explicitKeys), ...(cfg.identityFile ?? []), ...DEFAULT_KEY_FILES.map((f) => join(homedir(), ".ssh", f))]);
  const strictOption = (option("stricthostkeychecking") ?? cfg.strictHostKeyChecking)?.toLowerCase();
  let strict: HostKeyPolicy["strict"] = "yes";
  if (!settings.strictHostKeyChecking || strictOption === "no" || strictOption === "off") strict = "no";
  else if (settings.acceptNewHostKeys || strictOption === "accept-new") strict = "accept-new";
  const explicitFiles = [...args.knownHostsFiles.map(expandPath), ...(cfg.userKnownHostsFile ?? [])];
  // `UserKnownHostsFile=/dev/null` (with StrictHostKeyChecking=no, the "throwaway lab" idiom)
  // means: trust no recorded key. Otherwise the explicit files come first, then the defaults
  // (the first file records new keys), then the system-wide ones when reading ssh config.
  const globalFiles = settings.useSshConfig ? ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"] : [];
  const files = explicitFiles.includes("/dev/null") ? explicitFiles : unique([...explicitFiles, ...settings.knownHostsFiles, ...globalFiles]);
  const hashOption = option("hashknownhosts");
  const hashNew = settings.hashKnownHosts ?? (hashOption ? hashOption.toLowerCase() === "yes" : cfg.hashKnownHosts) ?? false;
  const timeoutOption = Number(option("connecttimeout"));
  const connectTimeoutMs = settings.connectTimeoutMs || (timeoutOption > 0 ? timeoutOption * 1000 : cfg.connectTimeout ? cfg.connectTimeout * 1000 : 10_000);
  // A host that stops answering with its connection open (hung, link down) is given up after
  // about ServerAliveInterval x ServerAliveCountMax; OpenSSH's names, from the ssh arguments
  // first, then ssh config, then our defaults (OpenSSH's own interval default, 0, never gives up).
  const aliveInterval = sshNumber(host, option("serveraliveinterval"), "ServerAliveInterval") ?? cfg.serverAliveInterval ?? DEFAULT_SERVER_ALIVE_INTERVAL_S;
  const aliveCountMax = sshNumber(host, option("serveralivecountmax"), "ServerAliveCountMax") ?? cfg.serverAliveCountMax ?? DEFAULT_SERVER_ALIVE_COUNT_MAX;

  // OpenSSH would reach the host through a local command; ignoring it would connect directly,
  // somewhere the user did not ask for. An explicit ProxyJump (or ProxyCommand none) in the
  // ssh arguments comes first, as in ssh.
  const argsCommand = option("proxycommand");
  if (argsCommand && argsCommand.toLowerCase() !== "none") throw proxyCommandRefused(host, "-o ProxyCommand in the ssh arguments", argsCommand);
  if (isTarget && args.stdioForward !== undefined) throw proxyCommandRefused(host, "-W in the ssh arguments", `-W ${args.stdioForward}`);
  if (cfg.proxyCommand && !argsCommand && !(isTarget && args.jump)) throw proxyCommandRefused(host, `ProxyCommand in ssh config for ${address}`, cfg.proxyCommand);

  const options: SshTransportOptions = {
    host,
    address: finalAddress,
    port,
    user,
    keyFiles,
    requiredKeyFiles,
    agent: settings.agentSocket ?? process.env.SSH_AUTH_SOCK,
    password: isTarget ? settings.password : undefined,
    checkHostKey: makeHostKeyCheck(host, { files, strict, hashNew, warn }),
    connectTimeoutMs,
    commandTimeoutMs: settings.commandTimeoutMs || undefined,
    keepaliveIntervalMs: aliveInterval * 1000,
    keepaliveCountMax: aliveCountMax,
  };
  const jump = (isTarget ? args.jump : undefined) ?? cfg.proxyJump;
  if (jump && jump.toLowerCase() !== "none") {
    // "a,b": reach b through a, then the target through b.
    const hops = jump.split(",").map((h) => parseJump(h));
    let previous: SshTransportOptions | undefined;
    for (const [i, hop] of hops.entries()) {
      const hopOptions = sshOptions(hop.host, hop.host, settings, args, config, warn, depth + 1 + i, hop);
      // A hop's own ProxyJump from ssh config is replaced by the explicit chain.
      if (previous) hopOptions.jump = previous;
      previous = hopOptions;
    }
    options.jump = previous;
  }
  return options;
}

/** A whole-number ssh option from the ssh arguments; a value that is not one is a mistake to name. */
function sshNumber(host: string, value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = wholeNumber(value);
  if (n === undefined) {
    throw new UserError(`host ${host}: ${name} ${JSON.stringify(value)} in the ssh arguments is not a whole number of seconds or times`, { hint: `Write it as -o ${name}=15 in ansible_ssh_common_args (or ssh_args in ansible.cfg).` });
  }
  return n;
}

function proxyCommandRefused(host: string, source: string, value: string): UserError {
  return new UserError(`host ${host}: ${source} (${JSON.stringify(value)}) is not supported: the runner does not run local commands to reach a host, and will not connect directly instead`, {
    hint: "For a jump host use ProxyJump (ansible_ssh_common_args: -J user@jumphost[:port], or ProxyJump in ~/.ssh/config); `ProxyCommand none` turns a config entry off for these hosts.",
  });
}
