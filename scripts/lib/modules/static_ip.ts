/**
 * static_ip (ours): a static IPv4 address, gateway and DNS for the node's network stack
 * (dhcpcd, NetworkManager, systemd-networkd, ifupdown), switched without ever locking the user
 * out. The switch, when the address or its configuration differs:
 *   1. the current configuration file and addresses are saved on the node;
 *   2. a rollback is armed ON THE NODE (a systemd timer, or a detached sleeping shell) that
 *      restores them after `confirm_timeout` seconds;
 *   3. the new file is written and applied by a detached job, so the SSH session that uses
 *      the old address can drop without killing it;
 *   4. the runner reconnects at the new address (ctx.reconnect);
 *   5. it confirms by cancelling the rollback;
 *   6. `ansible_host` becomes the new address for the rest of the run (ApplyResult.hostVars).
 * If the node cannot be reached at the new address, nothing confirms: the node restores its
 * old address by itself and the task fails saying so. A node whose root is on NFS is left
 * alone (the kernel's ip= owns its interface).
 *
 * Example: `static_ip: { address: 10.0.0.5/24, gateway: 10.0.0.1, dns: [10.0.0.1] }`
 */
import { createHash } from "node:crypto";
import type { ApplyResult, FileDiff, ModuleContext, ModuleDefinition, Plan } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { quote, raw, sh } from "../shell/quote.ts";
import { writeFileAtomic } from "./remote-file.ts";
import { RULES, requireValue, schemaPattern } from "./support/values.ts";

/** Network stacks the module can configure. */
export type Stack = "dhcpcd" | "networkmanager" | "networkd" | "ifupdown";

export interface StaticIpArgs {
  /** The address with its prefix, e.g. 10.0.0.5/24. */
  address: string;
  /** Interface to configure; empty: the one holding the address the runner connects to. */
  interface?: string;
  gateway?: string;
  dns?: string[] | string;
  stack?: "auto" | Stack;
  /** Seconds before the node restores the old configuration unless the runner confirms. */
  confirm_timeout?: number;
  /** false withholds the confirmation (tests prove the rollback with it): the task fails. */
  confirm?: boolean;
}

const STATE_DIR = "/var/lib/pi-cluster/static-ip";
/** The service that must run for the stack's file to be applied at boot (ifupdown: none needed now). */
const STACK_UNIT: Record<Stack, string | undefined> = {
  dhcpcd: "dhcpcd",
  networkmanager: "NetworkManager",
  networkd: "systemd-networkd",
  ifupdown: undefined,
};
const ROLLBACK_UNIT = "pi-cluster-ip-rollback";
const APPLY_UNIT = "pi-cluster-ip-apply";
const APPLY_DONE = `${STATE_DIR}/apply.done`;
const IPV4 = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}";

const schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "static_ip",
  description: "Static IPv4 address for the node's network stack, switched with an on-node rollback timer.",
  type: "object",
  additionalProperties: false,
  properties: {
    address: { type: "string", pattern: `^${IPV4}/([1-9]|[12]\\d|3[0-2])$`, description: "Address with prefix, e.g. 10.0.0.5/24." },
    interface: { type: "string", default: "", ...schemaPattern(RULES.interfaceName, { orEmpty: true }), description: "Interface (default: the one holding the address the runner connects to, else the default route's)." },
    gateway: { type: "string", default: "", ...schemaPattern(RULES.ipv4, { orEmpty: true }), description: "Default gateway (empty: none)." },
    dns: { anyOf: [{ type: "string" }, { type: "array", items: { type: "string", ...schemaPattern(RULES.ipAddress) } }], default: [], description: "DNS servers (IP addresses; a string is split on spaces and commas)." },
    stack: { type: "string", enum: ["auto", "dhcpcd", "networkmanager", "networkd", "ifupdown"], default: "auto" },
    confirm_timeout: { type: "integer", minimum: 10, maximum: 3600, default: 120, description: "Seconds before the node rolls back unless confirmed." },
    confirm: { type: "boolean", default: true, description: "false: do not confirm (test hook; the node rolls back and the task fails)." },
  },
  required: ["address"],
};

/** What the one probe found. */
export interface NetworkProbe {
  rootFsType: string;
  iface: string;
  /** CIDRs of the interface ("10.0.0.2/24"). */
  addresses: string[];
  defaultGateway: string;
  /** Address the runner's SSH session arrived at (from SSH_CONNECTION or ansible_host). */
  connectAddress: string;
  active: Record<"dhcpcd" | "NetworkManager" | "systemd-networkd" | "networking", boolean>;
  networkdEnabled: boolean;
  hasNmcli: boolean;
  hasIfup: boolean;
  /** Files by key: content, or null when absent. */
  files: Record<FileKey, string | null>;
  /** NetworkManager's connection active on the interface (for the rollback). */
  nmConnection: string;
  hasSystemdRun: boolean;
}

type FileKey = "dhcpcd" | "networkd" | "networkmanager" | "ifupdown" | "interfaces";

/** The configuration file each stack uses for `iface`. */
export function configPath(stack: Stack, iface: string): string {
  switch (stack) {
    case "dhcpcd":
      return "/etc/dhcpcd.conf";
    case "networkd":
      return `/etc/systemd/network/10-pi-cluster-${iface}.network`;
    case "networkmanager":
      return `/etc/NetworkManager/system-connections/pi-cluster-${iface}.nmconnection`;
    case "ifupdown":
      return `/etc/network/interfaces.d/pi-cluster-${iface}`;
  }
}

/** One read-only command gathering everything the plan needs. */
export function probeScript(iface: string, connect: string): string {
  const dump = (key: FileKey, path: string) =>
    `if [ -f "${path}" ]; then printf 'file.${key} '; base64 -w0 < "${path}"; echo; else echo 'file.${key} absent'; fi`;
  return [
    sh`want=${iface}; connect=${connect}`,
    `[ -n "$connect" ] || connect=$(printf '%s' "$SSH_CONNECTION" | awk '{ print $3 }')`,
    `echo "connect=$connect"`,
    `echo "rootfs=$(findmnt -n -o FSTYPE / 2>/dev/null)"`,
    `if [ -z "$want" ] && [ -n "$connect" ]; then want=$(ip -o -4 addr show | awk -v a="$connect" '{ split($4, p, "/"); if (p[1] == a) { print $2; exit } }'); fi`,
    `if [ -z "$want" ]; then want=$(ip -4 route show default | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }'); fi`,
    `echo "iface=$want"`,
    `[ -n "$want" ] && ip -o -4 addr show dev "$want" 2>/dev/null | awk '{ print "addr=" $4 }'`,
    `ip -4 route show default 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "via") { print "gateway=" $(i + 1); exit } }'`,
    `for u in dhcpcd NetworkManager systemd-networkd networking; do if systemctl is-active --quiet "$u" 2>/dev/null; then echo "active=$u"; fi; done`,
    `if systemctl is-enabled --quiet systemd-networkd 2>/dev/null; then echo networkd_enabled=1; fi`,
    `command -v nmcli >/dev/null 2>&1 && echo has_nmcli=1`,
    `command -v ifup >/dev/null 2>&1 && echo has_ifup=1`,
    `[ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1 && echo has_systemd_run=1`,
    `if command -v nmcli >/dev/null 2>&1 && [ -n "$want" ]; then echo "nm_connection=$(nmcli -g GENERAL.CONNECTION device show "$want" 2>/dev/null)"; fi`,
    dump("dhcpcd", "/etc/dhcpcd.conf"),
    dump("networkd", `/etc/systemd/network/10-pi-cluster-$want.network`),
    dump("networkmanager", `/etc/NetworkManager/system-connections/pi-cluster-$want.nmconnection`),
    dump("ifupdown", `/etc/network/interfaces.d/pi-cluster-$want`),
    dump("interfaces", "/etc/network/interfaces"),
  ].join("\n");
}

/** Parses the probe's output. */
export function parseProbe(stdout: string): NetworkProbe {
  const probe: NetworkProbe = {
    rootFsType: "",
    iface: "",
    addresses: [],
    defaultGateway: "",
    connectAddress: "",
    active: { dhcpcd: false, NetworkManager: false, "systemd-networkd": false, networking: false },
    networkdEnabled: false,
    hasNmcli: false,
    hasIfup: false,
    files: { dhcpcd: null, networkd: null, networkmanager: null, ifupdown: null, interfaces: null },
    nmConnection: "",
    hasSystemdRun: false,
  };
  for (const line of stdout.split("\n")) {
    if (line.startsWith("file.")) {
      const space = line.indexOf(" ");
      const key = line.slice(5, space) as FileKey;
      const value = line.slice(space + 1).trim();
      probe.files[key] = value === "absent" ? null : Buffer.from(value, "base64").toString("utf8");
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1).trim();
    if (key === "connect") probe.connectAddress = value;
    else if (key === "rootfs") probe.rootFsType = value;
    else if (key === "iface") probe.iface = value;
    else if (key === "addr") probe.addresses.push(value);
    else if (key === "gateway") probe.defaultGateway = value;
    else if (key === "active" && value in probe.active) probe.active[value as keyof NetworkProbe["active"]] = true;
    else if (key === "networkd_enabled") probe.networkdEnabled = true;
    else if (key === "has_nmcli") probe.hasNmcli = true;
    else if (key === "has_ifup") probe.hasIfup = true;
    else if (key === "has_systemd_run") probe.hasSystemdRun = true;
    else if (key === "nm_connection") probe.nmConnection = value === "--" ? "" : value;
  }
  return probe;
}

/** The stack to configure: the one asked for, or the one that manages the node now. */
export function detectStack(probe: NetworkProbe, wanted: StaticIpArgs["stack"]): Stack {
  if (wanted && wanted !== "auto") return wanted;
  if (probe.active.NetworkManager && probe.hasNmcli) return "networkmanager";
  if (probe.active.dhcpcd && probe.files.dhcpcd !== null) return "dhcpcd";
  if (probe.active["systemd-networkd"]) return "networkd";
  if (probe.hasIfup && probe.files.interfaces !== null && (probe.active.networking || /^\s*iface\s/m.test(probe.files.interfaces))) return "ifupdown";
  throw new ModuleFailure(
    "No network stack manages this node (checked NetworkManager, dhcpcd, systemd-networkd and ifupdown): " +
      "set static_ip_stack (stack:) to networkd (shipped with systemd), networkmanager, dhcpcd or ifupdown.",
  );
}

function dnsList(dns: StaticIpArgs["dns"]): string[] {
  if (dns === undefined) return [];
  const list = typeof dns === "string" ? dns.split(/[\s,]+/) : dns;
  return list.map((d) => d.trim()).filter((d) => d !== "");
}

/** A stable UUID for our NetworkManager connection (keyfiles need one; it must not change). */
export function connectionUuid(iface: string): string {
  const h = createHash("sha1").update(`pi-cluster-static-ip:${iface}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const DHCPCD_BEGIN = (iface: string) => `# BEGIN pi-cluster static-ip ${iface}`;
const DHCPCD_END = (iface: string) => `# END pi-cluster static-ip ${iface}`;

/** The wanted content of the stack's configuration file, given its current content. */
export function desiredContent(stack: Stack, iface: string, args: StaticIpArgs, current: string | null): string {
  const dns = dnsList(args.dns);
  const gateway = args.gateway ?? "";
  const header = "# Managed by pi-cluster-runner (static-ip role): edits are overwritten.\n";
  switch (stack) {
    case "dhcpcd": {
      const block = [
        DHCPCD_BEGIN(iface),
        `interface ${iface}`,
        `static ip_address=${args.address}`,
        ...(gateway ? [`static routers=${gateway}`] : []),
        ...(dns.length ? [`static domain_name_servers=${dns.join(" ")}`] : []),
        DHCPCD_END(iface),
      ].join("\n");
      const text = current ?? "";
      const begin = text.indexOf(DHCPCD_BEGIN(iface));
      const end = text.indexOf(DHCPCD_END(iface));
      if (begin >= 0 && end > begin) {
        return text.slice(0, begin) + block + text.slice(end + DHCPCD_END(iface).length);
      }
      // A dhcpcd `interface` section runs until the next one: our block goes last.
      const base = text === "" || text.endsWith("\n") ? text : `${text}\n`;
      return `${base}${base === "" ? "" : "\n"}${block}\n`;
    }
    case "networkd":
      return (
        header +
        `[Match]\nName=${iface}\n\n[Network]\nAddress=${args.address}\n` +
        (gateway ? `Gateway=${gateway}\n` : "") +
        dns.map((d) => `DNS=${d}\n`).join("") +
        // Keep addresses others put on the link (e.g. the old one until the switch removes it).
        "KeepConfiguration=static\n"
      );
    case "networkmanager":
      return (
        header +
        `[connection]\nid=pi-cluster-${iface}\nuuid=${connectionUuid(iface)}\ntype=ethernet\ninterface-name=${iface}\n` +
        "autoconnect=true\nautoconnect-priority=100\n\n" +
        `[ipv4]\nmethod=manual\naddress1=${args.address}${gateway ? `,${gateway}` : ""}\n` +
        (dns.length ? `dns=${dns.join(";")};\nignore-auto-dns=true\n` : "") +
        "\n[ipv6]\nmethod=auto\n"
      );
    case "ifupdown":
      return (
        header +
        `auto ${iface}\niface ${iface} inet static\n    address ${args.address}\n` +
        (gateway ? `    gateway ${gateway}\n` : "") +
        (dns.length ? `    dns-nameservers ${dns.join(" ")}\n` : "")
      );
  }
}

/** What the plan hands to apply. */
export interface StaticIpState {
  stack: Stack;
  iface: string;
  path: string;
  before: string | null;
  after: string;
  oldAddresses: string[];
  oldGateway: string;
  connectAddress: string;
  newIp: string;
  networkdWasEnabled: boolean;
  networkdWasActive: boolean;
  nmConnection: string;
  hasSystemdRun: boolean;
}

async function plan(args: StaticIpArgs, ctx: ModuleContext): Promise<Plan<StaticIpState>> {
  // Every value below reaches a script, a file name or a line of a configuration file.
  if (args.interface) requireValue("static_ip", "interface", args.interface, RULES.interfaceName);
  if (args.gateway) requireValue("static_ip", "gateway", args.gateway, RULES.ipv4);
  for (const d of dnsList(args.dns)) requireValue("static_ip", "dns", d, RULES.ipAddress);
  const connectVar = String(ctx.vars.ansible_host ?? "");
  const connect = new RegExp(`^${IPV4}$`).test(connectVar) ? connectVar : "";
  const r = await ctx.run(probeScript(args.interface ?? "", connect));
  if (r.rc !== 0) throw new ModuleFailure(`Cannot inspect the network of ${ctx.host}: ${r.stderr.trim() || `rc ${r.rc}`}`);
  const probe = parseProbe(r.stdout);
  if (probe.rootFsType === "nfs" || probe.rootFsType === "nfs4") {
    return { changed: false, skipped: `the root filesystem is on NFS (${probe.rootFsType}): the kernel's ip= owns the interface, left untouched` };
  }
  if (!probe.iface) {
    throw new ModuleFailure(`Cannot tell which interface to configure on ${ctx.host} (no address matches the connection, no default route): set static_ip_interface (interface:).`);
  }
  requireValue("static_ip", "interface", probe.iface, RULES.interfaceName);
  const stack = detectStack(probe, args.stack);
  if (stack === "ifupdown" && probe.files.interfaces !== null && new RegExp(`^\\s*iface\\s+${probe.iface}\\s`, "m").test(probe.files.interfaces)) {
    throw new ModuleFailure(
      `/etc/network/interfaces on ${ctx.host} already defines ${probe.iface}: remove that stanza (this module writes /etc/network/interfaces.d/pi-cluster-${probe.iface}) and run again.`,
    );
  }
  const path = configPath(stack, probe.iface);
  const fileKey: FileKey = stack;
  const before = probe.files[fileKey];
  const after = desiredContent(stack, probe.iface, args, before);
  const newIp = args.address.split("/")[0];
  const active = probe.addresses.includes(args.address);
  const fileOk = before === after;
  const stackOk = stack !== "networkd" || (probe.networkdEnabled && probe.active["systemd-networkd"]);
  const state: StaticIpState = {
    stack,
    iface: probe.iface,
    path,
    before,
    after,
    oldAddresses: probe.addresses,
    oldGateway: probe.defaultGateway,
    connectAddress: probe.connectAddress,
    newIp,
    networkdWasEnabled: probe.networkdEnabled,
    networkdWasActive: probe.active["systemd-networkd"],
    nmConnection: probe.nmConnection,
    hasSystemdRun: probe.hasSystemdRun,
  };
  const result = { interface: probe.iface, stack, address: args.address, path };
  if (active && fileOk && stackOk) {
    return { changed: false, reason: `${args.address} is configured (${stack}, ${path}) and active on ${probe.iface}`, result };
  }
  const diff: FileDiff[] = fileOk
    ? []
    : [{ before: before ?? "", after, before_header: before === null ? `${path} (absent)` : path, after_header: path }];
  const old = probe.addresses.length ? probe.addresses.join(", ") : "no address";
  const what = active ? `persist ${args.address} on ${probe.iface}` : `switch ${probe.iface} from ${old} to ${args.address}`;
  return {
    changed: true,
    msg: `${what} (${stack}), with a rollback after ${args.confirm_timeout ?? 120} s unless confirmed`,
    diff,
    state,
    result,
  };
}

/** Commands that make the stack take the configuration file (run by the detached job). */
function activateCommands(s: StaticIpState): string[] {
  switch (s.stack) {
    case "networkd":
      return [
        "systemctl enable systemd-networkd >/dev/null 2>&1 || :",
        "systemctl start systemd-networkd || :",
        "networkctl reload || :",
        sh`networkctl reconfigure ${s.iface} || :`,
      ];
    case "networkmanager":
      return ["nmcli connection reload || :", sh`nmcli connection up id ${`pi-cluster-${s.iface}`} || :`];
    case "dhcpcd":
      return ["systemctl restart dhcpcd || :"];
    case "ifupdown":
      // ifupdown reads the file at boot; the running link is set with ip below.
      return [];
  }
}

/** Commands that give back the old configuration to the stack (run by the rollback). */
function restoreCommands(s: StaticIpState): string[] {
  switch (s.stack) {
    case "networkd":
      return s.networkdWasActive
        ? ["networkctl reload || :", sh`networkctl reconfigure ${s.iface} || :`]
        : [`systemctl stop systemd-networkd.socket systemd-networkd || :`, ...(s.networkdWasEnabled ? [] : ["systemctl disable systemd-networkd >/dev/null 2>&1 || :"])];
    case "networkmanager":
      return [
        "nmcli connection reload || :",
        s.nmConnection ? sh`nmcli connection up id ${s.nmConnection} || :` : sh`nmcli device reapply ${s.iface} || :`,
      ];
    case "dhcpcd":
      return ["systemctl restart dhcpcd || :"];
    case "ifupdown":
      return [];
  }
}

/** The rollback script: puts back the saved file, the stack's state and the old addresses. */
export function rollbackScript(s: StaticIpState, newAddress: string): string {
  const backup = `${STATE_DIR}/backup`;
  const lines = [
    "#!/bin/sh",
    "# Written by the static_ip module: restores the network configuration saved before a switch",
    "# that was never confirmed. Runs from a timer on the node itself.",
    sh`exec >>${`${STATE_DIR}/rollback.log`} 2>&1`,
    `echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) no confirmation: restoring the previous configuration"`,
    s.before === null ? sh`rm -f ${s.path}` : sh`cp -p ${backup} ${s.path}`,
    ...restoreCommands(s),
    ...s.oldAddresses.map((a) => sh`ip addr replace ${a} dev ${s.iface} || :`),
  ];
  if (!s.oldAddresses.includes(newAddress)) {
    lines.push(sh`sysctl -q -w ${`net.ipv4.conf.${s.iface}.promote_secondaries=1`} 2>/dev/null || :`);
    lines.push(sh`ip addr del ${newAddress} dev ${s.iface} 2>/dev/null || :`);
    // Deleting a primary address may take secondaries with it: put the old ones back again.
    lines.push(...s.oldAddresses.map((a) => sh`ip addr replace ${a} dev ${s.iface} || :`));
  }
  if (s.oldGateway) lines.push(sh`ip route replace default via ${s.oldGateway} dev ${s.iface} || :`);
  lines.push(`echo "restored: $(ip -o -4 addr show dev ${quote(s.iface)} | awk '{ print $4 }' | tr '\\n' ' ')"`);
  return lines.join("\n") + "\n";
}

/** The detached switch: the stack takes the new file, the new address is up, the old ones go. */
export function applyScript(s: StaticIpState, args: StaticIpArgs): string {
  const stale = s.oldAddresses.filter((a) => a !== args.address);
  const lines = [
    "#!/bin/sh",
    "# Written by the static_ip module: switches the address, detached from the SSH session.",
    sh`exec >>${`${STATE_DIR}/apply.log`} 2>&1`,
    // Let the runner's command return before the link changes under it.
    "sleep 1",
    `echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) applying ${args.address} on ${s.iface} (${s.stack})"`,
    ...activateCommands(s),
  ];
  // The stack applies its file asynchronously (networkctl reconfigure and nmcli return before
  // it is done) and may put an old address back after we delete it: converge instead of
  // acting once. Each round puts ours up and removes the stale ones; the switch is done after
  // three quiet rounds in a row (1.5 s without anything to fix), or after 15 s at most (the
  // runner then sees what is left and refuses to confirm if ours is missing).
  lines.push(
    sh`sysctl -q -w ${`net.ipv4.conf.${s.iface}.promote_secondaries=1`} 2>/dev/null || :`,
    "quiet=0; round=0",
    "while [ $quiet -lt 3 ] && [ $round -lt 30 ]; do",
    sh`  now=$(ip -o -4 addr show dev ${s.iface})`,
    `  fixed=0`,
    sh`  case "$now" in *${` ${args.address} `}*) ;; *) ip addr replace ${args.address} dev ${s.iface}; fixed=1 ;; esac`,
    // A deleted primary can take same-subnet secondaries along: the next round puts ours back.
    ...stale.map((a) => sh`  case "$now" in *${` ${a} `}*) ip addr del ${a} dev ${s.iface} || :; fixed=1 ;; esac`),
    `  if [ $fixed -eq 0 ]; then quiet=$((quiet + 1)); else quiet=0; fi`,
    "  round=$((round + 1)); sleep 0.5",
    "done",
  );
  if (args.gateway) lines.push(sh`ip route replace default via ${args.gateway} dev ${s.iface} || :`);
  lines.push(`echo "done: $(ip -o -4 addr show dev ${quote(s.iface)} | awk '{ print $4 }' | tr '\\n' ' ')"`);
  // The runner waits for this before it checks and confirms (same address: no disconnect).
  lines.push(sh`: > ${APPLY_DONE}`);
  return lines.join("\n") + "\n";
}

/** Runs `script` detached from the SSH session, as a transient unit or a new session. */
function detached(s: StaticIpState, unit: string, file: string, delaySeconds?: number): string {
  if (s.hasSystemdRun) {
    const timer = delaySeconds === undefined ? "" : sh` --on-active=${`${delaySeconds}s`} --timer-property=AccuracySec=1s`;
    return [
      sh`systemctl stop ${`${unit}.timer`} ${`${unit}.service`} >/dev/null 2>&1 || :`,
      sh`systemctl reset-failed ${`${unit}.timer`} ${`${unit}.service`} >/dev/null 2>&1 || :`,
      sh`systemd-run --quiet --collect --unit=${unit}` + timer + sh` /bin/sh ${file}`,
    ].join("\n");
  }
  const sleep = delaySeconds === undefined ? "" : `sleep ${Math.floor(delaySeconds)}; `;
  return sh`setsid sh -c ${`${sleep}exec /bin/sh ${file}`} </dev/null >/dev/null 2>&1 & echo $! > ${`${STATE_DIR}/${unit}.pid`}`;
}

/** Cancels the armed rollback; prints "cancelled" when it was still pending. */
function cancelRollback(s: StaticIpState): string {
  if (s.hasSystemdRun) {
    return sh`if systemctl is-active --quiet ${`${ROLLBACK_UNIT}.timer`}; then systemctl stop ${`${ROLLBACK_UNIT}.timer`} && echo cancelled; fi`;
  }
  const pid = `${STATE_DIR}/${ROLLBACK_UNIT}.pid`;
  return sh`if [ -f ${pid} ] && kill "$(cat ${pid})" 2>/dev/null; then echo cancelled; fi; rm -f ${pid}`;
}

async function apply(planned: Plan<StaticIpState>, args: StaticIpArgs, ctx: ModuleContext): Promise<ApplyResult> {
  const s = planned.state!;
  const timeout = args.confirm_timeout ?? 120;
  const oldText = s.oldAddresses.join(", ") || "its old address";

  // 1 + 2: save the current file and arm the rollback before anything changes.
  const prepare = [
    "set -e",
    sh`mkdir -p ${STATE_DIR}`,
    sh`rm -f ${`${STATE_DIR}/backup`} ${APPLY_DONE}`,
    s.before === null ? ":" : sh`cp -p ${s.path} ${`${STATE_DIR}/backup`}`,
    sh`cat > ${`${STATE_DIR}/rollback.sh`} <<'PI_CLUSTER_EOF'\n${raw(hereDocument(rollbackScript(s, args.address)))}PI_CLUSTER_EOF`,
    sh`cat > ${`${STATE_DIR}/apply.sh`} <<'PI_CLUSTER_EOF'\n${raw(hereDocument(applyScript(s, args)))}PI_CLUSTER_EOF`,
    detached(s, ROLLBACK_UNIT, `${STATE_DIR}/rollback.sh`, timeout),
  ].join("\n");
  const armed = await ctx.run(prepare);
  if (armed.rc !== 0) throw new ModuleFailure(`Could not arm the rollback on ${ctx.host}; nothing was changed: ${armed.stderr.trim() || `rc ${armed.rc}`}`);

  // 3: the new file, then the switch in a detached job.
  try {
    await writeFileAtomic(ctx, s.path, s.after, { mode: s.stack === "networkmanager" ? "0600" : "0644", makeParents: true });
  } catch (error) {
    await ctx.run(cancelRollback(s));
    throw error;
  }
  // A name of its own per switch: a previous switch's unit may still be loaded (systemd-run
  // refuses a name in use), and the rollback armed above must never be the one replaced.
  const started = await ctx.run(detached(s, `${APPLY_UNIT}-${Date.now().toString(36)}`, `${STATE_DIR}/apply.sh`));
  if (started.rc !== 0) {
    throw new ModuleFailure(`Could not start the switch on ${ctx.host}: ${started.stderr.trim() || `rc ${started.rc}`}; the node restores ${oldText} within ${timeout} s`);
  }

  // 4: reconnect at the new address, leaving time to confirm before the timer fires.
  const reconnectSeconds = Math.max(5, timeout - Math.max(10, Math.floor(timeout / 4)));
  try {
    await ctx.reconnect({ address: s.newIp, timeoutMs: reconnectSeconds * 1000 });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new ModuleFailure(
      `Could not reach ${ctx.host} at ${s.newIp} after the switch; the node restores ${oldText} within ${timeout} s (${why})`,
      { rollback_in: timeout },
    );
  }
  const unit = STACK_UNIT[s.stack];
  const waitSeconds = Math.max(5, Math.floor(timeout / 3));
  const check = await ctx.run(
    sh`i=0; while [ ! -e ${APPLY_DONE} ] && [ $i -lt ${waitSeconds * 5} ]; do sleep 0.2; i=$((i + 1)); done; [ -e ${APPLY_DONE} ] || echo "@@apply-pending"
` +
      sh`ip -o -4 addr show dev ${s.iface}` +
      (unit ? sh`; systemctl is-active --quiet ${unit} || echo "@@unit-inactive"` : ""),
  );
  if (check.stdout.includes("@@apply-pending")) {
    throw new ModuleFailure(`the switch on ${ctx.host} did not finish within ${waitSeconds} s (see ${STATE_DIR}/apply.log); the node restores ${oldText} within ${timeout} s`);
  }
  if (!check.stdout.includes(` ${args.address} `)) {
    throw new ModuleFailure(
      `${ctx.host} answers at ${s.newIp} but ${args.address} is not on ${s.iface} (${check.stdout.trim() || "no address"}); the node restores ${oldText} within ${timeout} s`,
    );
  }
  if (check.stdout.includes("@@unit-inactive")) {
    // The address is up for now, but nothing would keep it after a reboot: do not confirm.
    throw new ModuleFailure(
      `${unit} is not running on ${ctx.host} after the switch (see journalctl -u ${unit}), so ${args.address} would not survive a reboot; the node restores ${oldText} within ${timeout} s`,
    );
  }

  // 5: confirm (or, as a test hook, let the node roll back).
  if (args.confirm === false) {
    throw new ModuleFailure(
      `confirmation withheld (static_ip_confirm: false): ${ctx.host} restores ${oldText} within ${timeout} s`,
      { rollback_in: timeout },
    );
  }
  const confirmed = await ctx.run(cancelRollback(s));
  if (confirmed.rc !== 0 || !confirmed.stdout.includes("cancelled")) {
    throw new ModuleFailure(
      `Could not confirm the new address on ${ctx.host} in time (the rollback may already run): ${confirmed.stderr.trim() || "timer not pending"}`,
    );
  }

  // 6: the rest of the run talks to the new address.
  return {
    msg: `${s.iface} now ${args.address} (${s.stack}), confirmed`,
    result: { interface: s.iface, stack: s.stack, address: args.address, previous: s.oldAddresses },
    hostVars: { ansible_host: s.newIp },
  };
}

/**
 * A script body for a quoted here-document: our scripts never contain the terminator line,
 * but a value could in theory; refuse rather than write a broken file.
 */
function hereDocument(text: string): string {
  if (/^PI_CLUSTER_EOF$/m.test(text)) throw new ModuleFailure("internal: script contains its here-document terminator");
  return text;
}

export const staticIp: ModuleDefinition<StaticIpArgs, StaticIpState> = {
  name: "static_ip",
  aliases: [],
  schema,
  plan,
  apply,
};
