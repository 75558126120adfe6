/**
 * ansible.builtin.iptables: one rule present or absent in a chain (appended, or inserted at
 * rule_num), a built-in chain's policy, a flush, and user chains with chain_management. The
 * rule's words are built in Ansible's order (construct_rule), so `iptables -C` finds a rule
 * Ansible added and the other way round. Idempotent with `iptables -C` (and `-L` for chains and
 * policies): one read, one change. Like Ansible's, it changes the running tables only: saving
 * them for boot (iptables-persistent, netfilter-persistent save) is the role's business.
 *
 * Values never become options: each is one quoted argument after its own flag (getopt takes
 * it as that flag's value), checked against iptables' words; "!x" negates as in Ansible.
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { requireSuccess, schemaHeader, probeValues, probeSection } from "./support/system.ts";
import { RULES, requireValue, schemaPattern, type ValueRule } from "./support/values.ts";

interface IptablesArgs {
  table: string;
  state: "present" | "absent";
  action: "append" | "insert";
  ip_version: "ipv4" | "ipv6";
  chain?: string;
  rule_num?: string;
  protocol?: string;
  wait?: string;
  source?: string;
  destination?: string;
  to_source?: string;
  to_destination?: string;
  match: string[];
  jump?: string;
  goto?: string;
  log_prefix?: string;
  log_level?: string;
  in_interface?: string;
  out_interface?: string;
  source_port?: string;
  destination_port?: string;
  destination_ports: string[];
  to_ports?: string;
  ctstate: string[];
  limit?: string;
  limit_burst?: string;
  reject_with?: string;
  icmp_type?: string;
  syn: "ignore" | "match" | "negate";
  comment?: string;
  flush: boolean;
  policy?: "ACCEPT" | "DROP" | "QUEUE" | "RETURN";
  chain_management: boolean;
}

interface IptablesState {
  command: string;
}

/** An iptables word: an address, port, interface, chain, target, match or state name; "!" may negate. */
const WORD: ValueRule = {
  what: "an iptables value",
  allowed: 'letters, digits and ".:/,[]+@%_-", not starting with "-" (a leading "!" negates)',
  pattern: "^!?[A-Za-z0-9_.:/,\\[\\]+@%][A-Za-z0-9_.:/,\\[\\]+@%-]*$",
};
const word = (description?: string) => ({ type: ["string", "integer"], ...schemaPattern(WORD), ...(description ? { description } : {}) });
const words = { type: ["array", "string"], items: { type: ["string", "integer"], ...schemaPattern(WORD) }, default: [] };

const schema = {
  ...schemaHeader("iptables", "Adds or removes one iptables rule, sets a chain policy, flushes a chain."),
  properties: {
    table: { type: "string", enum: ["filter", "nat", "mangle", "raw", "security"], default: "filter" },
    state: { type: "string", enum: ["present", "absent"], default: "present" },
    action: { type: "string", enum: ["append", "insert"], default: "append" },
    ip_version: { type: "string", enum: ["ipv4", "ipv6"], default: "ipv4" },
    chain: { type: "string", ...schemaPattern(WORD) },
    rule_num: { type: ["string", "integer"], pattern: "^[0-9]+$" },
    protocol: word(),
    wait: word(),
    source: word(),
    destination: word(),
    to_source: word(),
    to_destination: word(),
    match: words,
    jump: word(),
    goto: word(),
    log_prefix: { type: "string", ...schemaPattern(RULES.singleLine) },
    log_level: { type: ["string", "integer"], enum: ["0", "1", "2", "3", "4", "5", "6", "7", 0, 1, 2, 3, 4, 5, 6, 7, "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"] },
    in_interface: word(),
    out_interface: word(),
    source_port: word(),
    destination_port: word(),
    destination_ports: words,
    to_ports: word(),
    ctstate: words,
    limit: word(),
    limit_burst: word(),
    reject_with: word(),
    icmp_type: word(),
    syn: { type: "string", enum: ["ignore", "match", "negate"], default: "ignore" },
    comment: { type: "string", ...schemaPattern(RULES.singleLine) },
    flush: { type: "boolean", default: false },
    policy: { type: "string", enum: ["ACCEPT", "DROP", "QUEUE", "RETURN"] },
    chain_management: { type: "boolean", default: false, description: "Create the (user) chain when missing; delete it with state absent and no rule." },
  },
  not: { required: ["flush", "policy"] },
};

const list = (v: string[] | string) => (Array.isArray(v) ? v : [v]).map(String);

/** The rule's words in Ansible's order (construct_rule), for -C/-A/-I/-D. */
export function ruleWords(a: IptablesArgs): string[] {
  const r: string[] = [];
  const param = (value: string | undefined, flag: string) => {
    if (value === undefined) return;
    const v = String(value);
    if (v.startsWith("!")) r.push("!", flag, v.slice(1));
    else r.push(flag, v);
  };
  const match = list(a.match);
  const ctstate = list(a.ctstate);
  const ports = list(a.destination_ports);
  if (a.wait) r.push("-w", String(a.wait));
  param(a.protocol, "-p");
  param(a.source, "-s");
  param(a.destination, "-d");
  for (const m of match) param(m, "-m");
  param(a.jump, "-j");
  param(a.log_prefix, "--log-prefix");
  param(a.log_level === undefined ? undefined : String(a.log_level), "--log-level");
  param(a.to_destination, "--to-destination");
  if (ports.length) r.push("-m", "multiport", "--dports", ports.join(","));
  param(a.to_source, "--to-source");
  param(a.goto, "-g");
  param(a.in_interface, "-i");
  param(a.out_interface, "-o");
  param(a.source_port, "--source-port");
  param(a.destination_port, "--destination-port");
  param(a.to_ports, "--to-ports");
  if (a.syn === "match") r.push("--syn");
  else if (a.syn === "negate") r.push("!", "--syn");
  if (ctstate.length) {
    if (match.includes("conntrack")) r.push("--ctstate", ctstate.join(","));
    else if (match.includes("state")) r.push("--state", ctstate.join(","));
    else r.push("-m", "conntrack", "--ctstate", ctstate.join(","));
  }
  if (a.limit || a.limit_burst) r.push("-m", "limit");
  param(a.limit, "--limit");
  param(a.limit_burst, "--limit-burst");
  if (a.jump === undefined && a.reject_with) r.push("-j", "REJECT");
  param(a.reject_with, "--reject-with");
  param(a.icmp_type, a.ip_version === "ipv6" ? "--icmpv6-type" : "--icmp-type");
  if (a.comment !== undefined) r.push("-m", "comment", "--comment", a.comment);
  return r;
}

export const iptables: ModuleDefinition<IptablesArgs, IptablesState> = {
  name: "iptables",
  aliases: [],
  schema,
  async plan(a, ctx) {
    if (!a.flush && a.chain === undefined) throw new ModuleFailure("iptables: either chain or flush must be given");
    if ((a.log_prefix !== undefined || a.log_level !== undefined)) {
      if (a.jump === undefined) a = { ...a, jump: "LOG" };
      else if (a.jump !== "LOG") throw new ModuleFailure("iptables: logging options can only be used with the LOG jump target");
    }
    // Templated list entries arrive here unchecked by the schema: check every word again.
    for (const [option, values] of [["match", a.match], ["ctstate", a.ctstate], ["destination_ports", a.destination_ports]] as const) {
      for (const v of list(values)) requireValue("iptables", option, v, WORD);
    }
    const bin = a.ip_version === "ipv6" ? "ip6tables" : "iptables";
    const base = sh`${bin} -t ${a.table}`;
    const rule = ruleWords(a);
    const result: Record<string, unknown> = { ip_version: a.ip_version, table: a.table, chain: a.chain, flush: a.flush, rule: rule.join(" "), state: a.state, chain_management: a.chain_management };
    const where = `${a.table} ${a.chain ?? ""}`.trim();

    if (a.flush) {
      const command = a.chain === undefined ? sh`${bin} -t ${a.table} -F` : sh`${bin} -t ${a.table} -F ${a.chain}`;
      return { changed: true, msg: `${where} flushed`, state: { command }, result };
    }
    const chain = a.chain!;
    const probe = [
      `export LC_ALL=C`,
      sh`command -v ${bin} >/dev/null 2>&1 || { echo @@nobin; exit 0; }`,
      sh`list=$(${bin} -t ${a.table} -n -L ${chain} 2>&1); echo "chainrc=$?"`,
      `echo "header=$(printf '%s\\n' "$list" | head -n 1)"`,
      a.policy === undefined && rule.length ? `echo @@check; ${base} -C ${sh`${chain}`} ${sh`${rule}`} 2>&1; echo "@@checkrc=$?"` : "",
    ].filter(Boolean).join("\n");
    const out = requireSuccess(await ctx.run(probe), `Cannot read ${bin} ${where}`).stdout;
    if (out.includes("@@nobin")) throw new ModuleFailure(`iptables: ${bin} is not installed on this host: install it first (apt: name=iptables)`);
    const v = probeValues(out);
    const chainPresent = v.get("chainrc") === "0";

    if (a.policy !== undefined) {
      const header = v.get("header") ?? "";
      const current = /\(policy ([A-Z]+)/.exec(header)?.[1];
      if (!current) throw new ModuleFailure(`iptables: cannot detect the current policy of ${where} (only built-in chains have one): ${header.trim()}`);
      if (current === a.policy) return { changed: false, reason: `${where} policy is ${current}`, result };
      return { changed: true, msg: `${where} policy ${current} -> ${a.policy}`, state: { command: sh`${bin} -t ${a.table} -P ${chain} ${a.policy}` }, result };
    }
    if (a.state === "absent" && rule.length === 0) {
      if (!chainPresent) return { changed: false, reason: `chain ${where} absent`, result };
      // As Ansible: reported changed when the chain exists; deleted only with chain_management.
      return { changed: true, msg: a.chain_management ? `chain ${where} deleted` : `chain ${where} present (chain_management is off: kept)`, state: { command: a.chain_management ? sh`${bin} -t ${a.table} -X ${chain}` : "" }, result };
    }
    const checkRc = Number(/@@checkrc=(\d+)/.exec(out)?.[1] ?? "1");
    const checkOut = probeSection(out, "check").replace(/@@checkrc=.*$/m, "").trim();
    // -C: 0 present, 1 absent (or chain/target missing); 2 and more: the rule itself is wrong.
    if (checkRc >= 2) throw new ModuleFailure(`iptables: ${bin} refused the rule "${rule.join(" ")}": ${checkOut}`, { rc: checkRc });
    const present = checkRc === 0;
    const shown = `${where}: ${rule.join(" ") || "(empty rule)"}`;
    if (present === (a.state === "present")) return { changed: false, reason: `rule ${present ? "present" : "absent"} in ${shown}`, result };
    let command: string;
    if (a.state === "absent") command = sh`${bin} -t ${a.table} -D ${chain} ${rule}`;
    else {
      const add = a.action === "insert" ? (a.rule_num ? sh`-I ${chain} ${String(a.rule_num)}` : sh`-I ${chain}`) : sh`-A ${chain}`;
      command = `${base} ${add} ${sh`${rule}`}`;
      if (!chainPresent && a.chain_management) command = `${sh`${bin} -t ${a.table} -N ${chain}`} && ${command}`;
    }
    return {
      changed: true,
      msg: `rule ${a.state === "absent" ? "removed from" : a.action === "insert" ? "inserted in" : "appended to"} ${shown}`,
      state: { command },
      result,
      diff: [{ before: present ? `${rule.join(" ")}\n` : "", after: present ? "" : `${rule.join(" ")}\n`, before_header: `${bin} ${where}`, after_header: `${bin} ${where}` }],
    };
  },
  async apply(plan, a, ctx) {
    const command = plan.state!.command;
    if (command) requireSuccess(await ctx.run(command), `iptables failed on ${a.table} ${a.chain ?? ""}`.trim());
    return { msg: plan.msg };
  },
};
