/**
 * community.general.ufw: the Uncomplicated Firewall's state, default policies, logging and
 * rules, as Ansible's module runs them (state, then default, then rule, then logging).
 *
 * Idempotent from ONE read: `ufw status verbose` (active or not), /etc/default/ufw and
 * /etc/ufw/ufw.conf (the policies and log level `ufw default`/`ufw logging` write, also while
 * ufw is inactive), the rules' `### tuple` lines, and for a rule `ufw --dry-run <rule>`, which
 * says "Skipping adding existing rule" (or "Could not delete non-existent rule") when nothing
 * would change, else prints the rules it would write (compared with the current ones, as
 * Ansible does). `reloaded` and `reset` always report changed, as in Ansible.
 *
 * Never locks the runner out: a task after which ufw would be active with incoming traffic
 * denied (or rejected) while no allow/limit rule lets the SSH port in (ansible_port, else 22;
 * an app profile whose name holds "ssh" counts) fails before changing anything, unless the
 * host variable `ufw_allow_lockout` is true (in check mode: a warning, since an earlier task's
 * rule was not really added). Add the SSH rule first (as roles do), or set it.
 *
 * Values never become options: every word of the command is quoted and checked (addresses,
 * ports, interface and app names, a one-line comment, none starting with "-"); ufw has no
 * "--" of its own.
 */
import type { ModuleContext, ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { parseBoolean } from "../boolean.ts";
import { requireSuccess, schemaHeader, probeSection, probeValues } from "./support/system.ts";
import { RULES, schemaPattern, type ValueRule } from "./support/values.ts";

type Policy = "allow" | "deny" | "reject";
type LogLevel = "full" | "high" | "low" | "medium" | "off" | "on";

interface UfwArgs {
  state?: "enabled" | "disabled" | "reloaded" | "reset";
  default?: Policy;
  logging?: LogLevel;
  direction?: "in" | "incoming" | "out" | "outgoing" | "routed";
  delete: boolean;
  route: boolean;
  insert?: number;
  insert_relative_to: "zero" | "first-ipv4" | "last-ipv4" | "first-ipv6" | "last-ipv6";
  rule?: "allow" | "deny" | "limit" | "reject";
  interface?: string;
  interface_in?: string;
  interface_out?: string;
  log: boolean;
  from_ip: string;
  from_port?: string;
  to_ip: string;
  to_port?: string;
  proto?: string;
  name?: string;
  comment?: string;
}

interface UfwState {
  commands: string[];
}

const UFW_VALUES = {
  address: { what: "an address", allowed: '"any", or an IPv4/IPv6 address with an optional /prefix', pattern: "^(any|[0-9A-Fa-f:.]+(/[0-9]{1,3})?)$" },
  port: { what: "a port", allowed: 'a port number or service name, a list "80,443" or a range "6000:6007"', pattern: "^[A-Za-z0-9][A-Za-z0-9:,_-]*$" },
  app: { what: "an application profile name", allowed: 'letters, digits, spaces, ".", "_" and "-", starting with a letter or digit', pattern: "^[A-Za-z0-9][A-Za-z0-9 ._-]*$" },
  comment: { what: "a rule comment", allowed: 'one line, not starting with "-"', pattern: "^(?!-)[^\\n\\r]*$" },
} satisfies Record<string, ValueRule>;

const POLICY_WORD: Record<string, Policy> = { ACCEPT: "allow", DROP: "deny", REJECT: "reject" };
const RULE_FILES = ["/lib/ufw/user.rules", "/lib/ufw/user6.rules", "/etc/ufw/user.rules", "/etc/ufw/user6.rules", "/var/lib/ufw/user.rules", "/var/lib/ufw/user6.rules"];

const schema = {
  ...schemaHeader("ufw", "Manages the ufw firewall: state, default policies, logging and rules."),
  properties: {
    state: { type: "string", enum: ["enabled", "disabled", "reloaded", "reset"], description: "enabled (refused when it would lock SSH out), disabled, reloaded, reset." },
    default: { type: "string", enum: ["allow", "deny", "reject"], aliases: ["policy"], description: "Default policy for direction (incoming when unset)." },
    logging: { type: "string", enum: ["full", "high", "low", "medium", "off", "on"] },
    direction: { type: "string", enum: ["in", "incoming", "out", "outgoing", "routed"], description: "incoming/outgoing/routed for default; in/out for a rule." },
    delete: { type: "boolean", default: false, description: "Delete the rule instead of adding it." },
    route: { type: "boolean", default: false, description: "A routed (forwarding) rule." },
    insert: { type: "integer", description: "Insert the rule at this position." },
    insert_relative_to: { type: "string", enum: ["zero", "first-ipv4", "last-ipv4", "first-ipv6", "last-ipv6"], default: "zero" },
    rule: { type: "string", enum: ["allow", "deny", "limit", "reject"] },
    interface: { type: "string", aliases: ["if"], ...schemaPattern(RULES.interfaceName) },
    interface_in: { type: "string", aliases: ["if_in"], ...schemaPattern(RULES.interfaceName) },
    interface_out: { type: "string", aliases: ["if_out"], ...schemaPattern(RULES.interfaceName) },
    log: { type: "boolean", default: false, description: "Log new connections matching the rule." },
    from_ip: { type: "string", default: "any", aliases: ["from", "src"], ...schemaPattern(UFW_VALUES.address) },
    from_port: { type: "string", ...schemaPattern(UFW_VALUES.port) },
    to_ip: { type: "string", default: "any", aliases: ["dest", "to"], ...schemaPattern(UFW_VALUES.address) },
    to_port: { type: ["string", "integer"], aliases: ["port"], ...schemaPattern(UFW_VALUES.port) },
    proto: { type: "string", enum: ["ah", "any", "esp", "ipv6", "tcp", "udp", "gre", "igmp"], aliases: ["protocol"] },
    name: { type: "string", aliases: ["app"], ...schemaPattern(UFW_VALUES.app), description: "An application profile (ufw app list)." },
    comment: { type: "string", ...schemaPattern(UFW_VALUES.comment) },
  },
  anyOf: [{ required: ["state"] }, { required: ["default"] }, { required: ["rule"] }, { required: ["logging"] }],
  allOf: [
    { not: { required: ["name", "proto"] } },
    { not: { required: ["name", "logging"] } },
    { not: { required: ["proto", "logging"] } },
    { not: { required: ["direction", "interface_in"] } },
    { not: { required: ["direction", "interface_out"] } },
    { if: { required: ["interface"] }, then: { required: ["direction"] } },
  ],
};

/** The words after `ufw` for the task's rule (Ansible's long form), each a separate argument. */
export function ruleWords(args: UfwArgs, insertAt: number | undefined): string[] {
  const w: string[] = [];
  if (args.route) w.push("route");
  if (args.delete) w.push("delete");
  else if (insertAt !== undefined) w.push("insert", String(insertAt));
  w.push(args.rule!);
  if (args.direction) w.push(args.direction);
  if (args.interface) w.push("on", args.interface);
  if (args.interface_in) w.push("in", "on", args.interface_in);
  if (args.interface_out) w.push("out", "on", args.interface_out);
  if (args.log) w.push("log");
  w.push("from", args.from_ip);
  if (args.from_port) w.push("port", args.from_port);
  w.push("to", args.to_ip);
  if (args.to_port !== undefined) w.push("port", String(args.to_port));
  if (args.proto) w.push("proto", args.proto);
  if (args.name) w.push("app", args.name);
  if (args.comment !== undefined) w.push("comment", args.comment);
  return w;
}

/** `### tuple` lines (the rules ufw keeps), in file order. */
function tuples(text: string): string[] {
  return text.split("\n").filter((l) => l.startsWith("### tuple"));
}

const IPV4 = /((25[0-5]|(2[0-4]|1?[0-9])?[0-9])\.){3}(25[0-5]|(2[0-4]|1?[0-9])?[0-9])/;
const IPV6 = /[0-9a-fA-F]{0,4}:[0-9a-fA-F]{0,4}:/;

/**
 * Would the rule change anything, from its dry run? All "Skipping ..." (add, insert) or
 * "Could not delete non-existent rule" lines: no. Else the rules it would write are compared
 * with the current ones, only the address family of the rule's addresses when it names one
 * (the dry run prints only that family's file), as Ansible compares them.
 */
export function ruleChanges(dryRun: string, currentTuples: string[], args: UfwArgs): boolean {
  const lines = dryRun.split("\n").filter((l) => l.trim() !== "");
  if (lines.length > 0 && lines.every((l) => l.includes("Skipping") || l.includes("non-existent rule"))) return false;
  const family = [args.from_ip, args.to_ip].some((ip) => IPV4.test(ip) && !ip.includes(":")) ? IPV4 : [args.from_ip, args.to_ip].some((ip) => ip.includes(":")) ? IPV6 : undefined;
  const pick = (list: string[]) => (family ? list.filter((l) => family.test(l.replace(/^### tuple ###/, ""))) : list);
  return pick(tuples(dryRun)).join("\n") !== pick(currentTuples).join("\n");
}

/** Does a ufw port spec ("22", "22,80", "1000:2000", "any") include `port`? */
function portCovers(spec: string, port: number): boolean {
  if (spec === "any") return true;
  return spec.split(",").some((p) => {
    const [a, b] = p.split(":").map(Number);
    return b === undefined ? a === port : a <= port && port <= b;
  });
}

/** An allow/limit rule letting TCP `port` in: "### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in". */
export function tupleAllowsPort(tuple: string, port: number): boolean {
  const t = tuple.replace(/^### tuple ###\s*/, "").split(/\s+/);
  const [action, proto, dport] = t;
  const direction = t.filter((x) => !x.startsWith("comment=")).at(-1) ?? "";
  return /^(allow|limit)(_|$)/.test(action ?? "") && (proto === "tcp" || proto === "any") && portCovers(dport ?? "", port) && direction.startsWith("in");
}

function sshPort(ctx: ModuleContext): number {
  const p = Number(ctx.vars.ansible_port ?? ctx.vars.ansible_ssh_port ?? 22);
  return Number.isInteger(p) && p > 0 ? p : 22;
}

/** Fails when, after this task, ufw would be active and deny SSH in. */
function refuseLockout(args: UfwArgs, ctx: ModuleContext, active: boolean, incoming: Policy | undefined, current: string[]): void {
  const willBeActive = args.state === "enabled" || args.state === "reloaded" ? true : args.state === "disabled" || args.state === "reset" ? false : active;
  const policyTask = args.default !== undefined && (args.direction === undefined || args.direction === "incoming");
  const policy = policyTask ? args.default : args.state === "reset" ? "deny" : incoming;
  if (!willBeActive || policy === "allow" || policy === undefined) return;
  if (parseBoolean(ctx.vars.ufw_allow_lockout) === true) return;
  const port = sshPort(ctx);
  let rules = current;
  // Deleting an allow for the SSH port takes its tuples away.
  if (args.rule && args.delete && args.to_port !== undefined) rules = rules.filter((t) => !(tupleAllowsPort(t, port) && t.split(/\s+/)[5] === String(args.to_port)));
  const ownRule =
    args.rule !== undefined && !args.delete && !args.route && (args.rule === "allow" || args.rule === "limit") && args.direction !== "out" &&
    ((args.to_port !== undefined && (args.proto ?? "any").match(/^(tcp|any)$/) !== null && portCovers(String(args.to_port), port)) || /ssh/i.test(args.name ?? ""));
  if (ownRule || rules.some((t) => tupleAllowsPort(t, port))) return;
  const why = `ufw: refusing to leave the firewall active with incoming policy "${policy}" and no allow or limit rule for the SSH port ${port}: this host would lock everyone out, this runner included. ` +
    `Add a rule first (community.general.ufw: rule=limit port=${port} proto=tcp), or set the host variable ufw_allow_lockout: true if that is really wanted.`;
  // In check mode an earlier task's rule was not added: say it, without failing the dry run.
  if (ctx.check) ctx.warn(`${why} (check mode: an earlier task of this run may add that rule)`);
  else throw new ModuleFailure(why);
}

export const ufw: ModuleDefinition<UfwArgs, UfwState> = {
  name: "ufw",
  aliases: ["community.general.ufw"],
  schema,
  async plan(args, ctx) {
    if (args.default !== undefined && args.direction !== undefined && !["incoming", "outgoing", "routed"].includes(args.direction)) {
      throw new ModuleFailure('ufw: for default, direction must be one of "outgoing", "incoming" and "routed", or direction must not be specified');
    }
    if (args.rule !== undefined && args.direction !== undefined && !["in", "out"].includes(args.direction)) {
      throw new ModuleFailure('ufw: for rules, direction must be one of "in" and "out", or direction must not be specified');
    }
    if (args.rule !== undefined && !args.route && args.interface_in && args.interface_out) throw new ModuleFailure("ufw: only route rules can combine interface_in and interface_out");

    const relative = args.rule !== undefined && args.insert !== undefined && !args.delete && args.insert_relative_to !== "zero";
    const read = (dry: string[] | undefined) =>
      [
        "export LANG=C LC_ALL=C",
        "command -v ufw >/dev/null 2>&1 || { echo @@noufw; exit 0; }",
        "echo @@status",
        "ufw status verbose || exit 1",
        "echo @@conf",
        "grep -hE '^(DEFAULT_(INPUT|OUTPUT|FORWARD)_POLICY|LOGLEVEL)=' /etc/default/ufw /etc/ufw/ufw.conf 2>/dev/null",
        "echo @@rules",
        // grep says 2 when one of the places does not exist (they differ between releases).
        sh`grep -h '^### tuple' ${RULE_FILES} 2>/dev/null || true`,
        relative ? "echo @@numbered; ufw status numbered" : "",
        dry ? sh`echo @@dry; ufw --dry-run ${dry} 2>&1; echo "@@dryrc=$?"` : "",
      ].filter(Boolean).join("\n");
    const words = args.rule !== undefined && !relative ? ruleWords(args, args.delete ? undefined : args.insert) : undefined;
    let out = requireSuccess(await ctx.run(read(words)), "Cannot read ufw's state").stdout;
    if (out.includes("@@noufw")) throw new ModuleFailure("ufw: ufw is not installed on this host: install it first (apt: name=ufw)");
    const status = probeSection(out, "status");
    const conf = probeValues(probeSection(out, "conf").replaceAll('"', ""));
    const current = tuples(probeSection(out, "rules"));
    const active = /^Status: active/m.test(status);

    const commands: string[] = [];
    const done: string[] = [];
    if (args.state) {
      const verb = { enabled: "enable", disabled: "disable", reloaded: "reload", reset: "reset" }[args.state];
      const needed = args.state === "reloaded" || args.state === "reset" || (args.state === "enabled") !== active;
      if (needed) {
        commands.push(`ufw -f ${verb}`);
        done.push(`ufw ${verb === "reset" ? "reset" : `${verb}d`}`);
      }
    }
    const policyOf = (key: string) => POLICY_WORD[conf.get(key) ?? ""];
    const incoming = policyOf("DEFAULT_INPUT_POLICY");
    if (args.default) {
      const direction = args.direction ?? "incoming";
      const key = { incoming: "DEFAULT_INPUT_POLICY", outgoing: "DEFAULT_OUTPUT_POLICY", routed: "DEFAULT_FORWARD_POLICY" }[direction as "incoming"];
      if (policyOf(key) !== args.default) {
        commands.push(sh`ufw default ${args.default} ${direction}`);
        done.push(`default ${direction} policy ${policyOf(key) ?? "(unset)"} -> ${args.default}`);
      }
    }
    let rule: string | undefined;
    if (args.rule !== undefined) {
      let insertAt = args.delete ? undefined : args.insert;
      if (relative) {
        insertAt = insertPosition(args.insert!, args.insert_relative_to, probeSection(out, "numbered"));
        const dry = ruleWords(args, insertAt);
        out = requireSuccess(await ctx.run(sh`export LANG=C LC_ALL=C; echo @@dry; ufw --dry-run ${dry} 2>&1; echo "@@dryrc=$?"`), "Cannot dry-run the ufw rule").stdout;
      }
      const dryText = probeSection(out, "dry").replace(/^@@dryrc=.*$/m, "");
      const dryRc = Number(/^@@dryrc=(\d+)/m.exec(out)?.[1] ?? "0");
      const shown = ruleWords(args, insertAt).join(" ");
      if (dryRc !== 0) throw new ModuleFailure(`ufw: rule "${shown}" was refused by ufw: ${dryText.trim()}`, { rc: dryRc });
      if (ruleChanges(dryText, current, args)) {
        rule = sh`ufw ${ruleWords(args, insertAt)}`;
        commands.push(rule);
        done.push(`rule ${args.delete ? "deleted" : "added"}: ${shown}`);
      }
    }
    if (args.logging) {
      const level = conf.get("LOGLEVEL") ?? "off";
      const changes = args.logging === "off" ? level !== "off" : args.logging === "on" ? level === "off" : level !== args.logging;
      if (changes) {
        commands.push(sh`ufw logging ${args.logging}`);
        done.push(`logging ${level} -> ${args.logging}`);
      }
    }
    const result = { commands };
    if (commands.length === 0) return { changed: false, reason: "ufw already as asked", result };
    refuseLockout(args, ctx, active, incoming, current);
    return {
      changed: true,
      msg: done.join("; "),
      state: { commands },
      result,
      diff: [{ before: `${status.trim()}\n`, after: `${done.join("\n")}\n`, before_header: "ufw status", after_header: "ufw commands" }],
    };
  },
  async apply(plan, _args, ctx) {
    const commands = plan.state!.commands;
    const r = requireSuccess(await ctx.run(`export LANG=C LC_ALL=C\n${commands.join(" &&\n")} && ufw status verbose`), "ufw failed");
    return { msg: plan.msg, result: { commands, msg: r.stdout.trim() } };
  },
};

/** An insert position relative to the first/last IPv4/IPv6 rule, from `ufw status numbered` (Ansible's arithmetic). */
export function insertPosition(insert: number, relativeTo: UfwArgs["insert_relative_to"], numbered: string): number | undefined {
  const lines = numbered.split("\n").flatMap((l) => {
    const m = /^\[ *([0-9]+)\] /.exec(l);
    return m ? [{ no: Number(m[1]), v6: l.includes("(v6)") }] : [];
  });
  const last = lines.length ? Math.max(...lines.map((l) => l.no)) : 0;
  const v4 = lines.filter((l) => !l.v6).map((l) => l.no);
  const hasV6 = lines.some((l) => l.v6);
  const base =
    relativeTo === "first-ipv4" ? 1 :
    relativeTo === "last-ipv4" ? (v4.length ? Math.max(...v4) : 1) :
    relativeTo === "first-ipv6" ? (v4.length ? Math.max(...v4) + 1 : 1) :
    relativeTo === "last-ipv6" ? (hasV6 ? last : last + 1) : 0;
  const at = insert + base;
  // ufw refuses a position past the last rule: append instead.
  return at > last ? undefined : at;
}
