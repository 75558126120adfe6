/**
 * The subset of ~/.ssh/config (ssh_config(5)) a Pi cluster needs: Host blocks with wildcards
 * and negation, HostName, User, Port, IdentityFile, ProxyJump, UserKnownHostsFile,
 * StrictHostKeyChecking, ConnectTimeout, HashKnownHosts. First value wins per option, as
 * OpenSSH (IdentityFile and UserKnownHostsFile accumulate). `Include` is followed (relative
 * to ~/.ssh, wildcards in the file name), in place as OpenSSH does: a HostName or ProxyJump in
 * an included file must not be missed. `Match` blocks are evaluated where they can be (see
 * matches()); one that cannot be and sets the destination is refused.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { UserError } from "../errors.ts";
import { basename, dirname, isAbsolute, join } from "node:path";

/** Options resolved for one host. Keys are lower-case ssh_config names. */
export interface SshHostConfig {
  hostname?: string;
  user?: string;
  port?: number;
  identityFile?: string[];
  proxyJump?: string;
  /** Read only to refuse it (the runner never runs a local command to reach a host). */
  proxyCommand?: string;
  userKnownHostsFile?: string[];
  strictHostKeyChecking?: string;
  connectTimeout?: number;
  hashKnownHosts?: boolean;
  /** Seconds between keepalives (0 = off) and how many may go unanswered. */
  serverAliveInterval?: number;
  serverAliveCountMax?: number;
}

interface Block {
  /** undefined = top of file (applies to every host). */
  patterns?: string[];
  /** Skipped (Match). */
  skip?: boolean;
  /** A Match block's criteria (`!` negates one). */
  match?: Array<{ negate: boolean; kind: string; arg?: string }>;
  options: Array<[string, string]>;
}

/** Options that decide where a connection goes: a Match block we cannot evaluate must not set them. */
const DESTINATION_KEYS = new Set(["hostname", "port", "user", "proxyjump", "proxycommand"]);

/** Parses a Match line's criteria (`all`, `canonical` and `final` take no argument). */
function parseMatch(value: string): NonNullable<Block["match"]> {
  const tokens = words(value);
  const out: NonNullable<Block["match"]> = [];
  for (let i = 0; i < tokens.length; i++) {
    const negate = tokens[i].startsWith("!");
    const kind = tokens[i].replace(/^!/, "").toLowerCase();
    out.push(["all", "canonical", "final"].includes(kind) ? { negate, kind } : { negate, kind, arg: tokens[++i] });
  }
  return out;
}

/** `*` and `?` glob as ssh_config and known_hosts patterns use them (case-insensitive). */
export function wildcardMatch(pattern: string, name: string): boolean {
  const re = "^" + pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$";
  return new RegExp(re, "i").test(name);
}

/** A Host line's patterns against a name: any positive match and no negated match. */
export function hostPatternsMatch(patterns: string[], name: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith("!")) {
      if (wildcardMatch(pattern.slice(1), name)) return false;
    } else if (wildcardMatch(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/** Splits a config line into keyword and value (`Key value`, `Key=value`, quoted values). */
function splitLine(line: string): [string, string] | undefined {
  const m = /^([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+)(.*)$/.exec(line);
  if (!m) return undefined;
  return [m[1].toLowerCase(), m[2].trim()];
}

/** Splits an argument list honouring double quotes. */
function words(value: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value))) out.push(m[1] ?? m[2]);
  return out;
}

function parseInto(blocks: Block[], text: string, depth: number): void {
  for (const rawLine of text.split("\n")) {
    const line = rawLine.trim();
    if (!line || line.startsWith("#")) continue;
    const kv = splitLine(line);
    if (!kv) continue;
    const [key, value] = kv;
    if (key === "host") blocks.push({ patterns: words(value), options: [] });
    else if (key === "match") blocks.push({ match: parseMatch(value), options: [] });
    else if (key === "include" && depth < 16) {
      // In place, within the current block; the block goes on after the included lines.
      const current = blocks[blocks.length - 1];
      for (const file of includedFiles(value)) {
        let included: string;
        try {
          included = readFileSync(file, "utf8");
        } catch {
          continue; // a directory or an unreadable file: ssh skips it too
        }
        parseInto(blocks, included, depth + 1);
      }
      if (blocks[blocks.length - 1] !== current) blocks.push({ patterns: current.patterns, skip: current.skip, match: current.match, options: [] });
    } else blocks[blocks.length - 1].options.push([key, value]);
  }
}

/** The files an `Include` names: `~` expanded, relative to ~/.ssh, wildcards in the file name, in lexical order. */
function includedFiles(value: string): string[] {
  const out: string[] = [];
  for (const word of words(value)) {
    const path = expandPath(word);
    const full = isAbsolute(path) ? path : join(homedir(), ".ssh", path);
    const name = basename(full);
    if (!/[*?]/.test(name)) {
      if (existsSync(full)) out.push(full);
      continue;
    }
    const dir = dirname(full);
    if (!existsSync(dir)) continue;
    const names = readdirSync(dir).filter((n) => !n.startsWith(".") && new RegExp(`^${name.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`).test(n));
    out.push(...names.sort().map((n) => join(dir, n)));
  }
  return out;
}

/** Parsed ssh config, ready to resolve hosts. */
export class SshConfig {
  private constructor(private readonly blocks: Block[]) {}

  /** Parses config text; `Include` reads files relative to ~/.ssh. */
  static parse(text: string): SshConfig {
    const blocks: Block[] = [{ options: [] }];
    parseInto(blocks, text, 0);
    return new SshConfig(blocks);
  }

  /** Reads ~/.ssh/config (or `file`); a missing file is an empty config. */
  static load(file = join(homedir(), ".ssh", "config")): SshConfig {
    return SshConfig.parse(existsSync(file) ? readFileSync(file, "utf8") : "");
  }

  /** The options for `host` (the name as given: inventory ansible_host or name). */
  resolve(host: string, defaults: { user?: string } = {}): SshHostConfig {
    const first = new Map<string, string>();
    const identityFile: string[] = [];
    const knownHosts: string[] = [];
    for (const block of this.blocks) {
      if (block.skip) continue;
      if (block.patterns && !hostPatternsMatch(block.patterns, host)) continue;
      if (block.match && !matches(block, host, first.get("hostname"))) continue;
      for (const [key, value] of block.options) {
        if (key === "identityfile") identityFile.push(value);
        else if (key === "userknownhostsfile") knownHosts.push(...words(value));
        else if (!first.has(key)) first.set(key, value);
      }
    }
    const hostname = first.get("hostname");
    const user = first.get("user") ?? defaults.user;
    const resolved: SshHostConfig = {};
    if (hostname) resolved.hostname = expandTokens(hostname, { host, hostname: host, user });
    if (first.has("user")) resolved.user = first.get("user");
    const port = Number(first.get("port"));
    if (Number.isInteger(port) && port > 0) resolved.port = port;
    const finalHost = resolved.hostname ?? host;
    const tokens = { host, hostname: finalHost, user };
    if (identityFile.length) resolved.identityFile = identityFile.map((f) => expandPath(expandTokens(unquote(f), tokens)));
    if (knownHosts.length) resolved.userKnownHostsFile = knownHosts.map((f) => expandPath(expandTokens(f, tokens)));
    const jump = first.get("proxyjump");
    if (jump && jump.toLowerCase() !== "none") resolved.proxyJump = jump;
    const command = first.get("proxycommand");
    if (command && command.toLowerCase() !== "none") resolved.proxyCommand = command;
    const strict = first.get("stricthostkeychecking");
    if (strict) resolved.strictHostKeyChecking = strict.toLowerCase();
    const timeout = Number(first.get("connecttimeout"));
    if (Number.isFinite(timeout) && timeout > 0) resolved.connectTimeout = timeout;
    const hash = first.get("hashknownhosts");
    if (hash) resolved.hashKnownHosts = hash.toLowerCase() === "yes";
    const aliveInterval = wholeNumber(first.get("serveraliveinterval"));
    if (aliveInterval !== undefined) resolved.serverAliveInterval = aliveInterval;
    const aliveCount = wholeNumber(first.get("serveralivecountmax"));
    if (aliveCount !== undefined) resolved.serverAliveCountMax = aliveCount;
    return resolved;
  }
}

/**
 * Whether a Match block applies: `all`, `host` (the name after HostName so far), `originalhost`,
 * `localuser`, `canonical` (never: we do not canonicalize) and `final` are evaluated. `exec`,
 * `user` and the rest are not: such a block is skipped unless it sets where the connection
 * goes, which is refused rather than ignored.
 */
function matches(block: Block, host: string, hostname: string | undefined): boolean {
  let result = true;
  for (const c of block.match!) {
    if (!result) return false; // as ssh: criteria after a false one are not evaluated
    const patterns = (c.arg ?? "").split(",");
    let ok: boolean | undefined;
    if (c.kind === "all" || c.kind === "final") ok = true;
    else if (c.kind === "canonical") ok = false;
    else if (c.kind === "host") ok = hostPatternsMatch(patterns, hostname ?? host);
    else if (c.kind === "originalhost") ok = hostPatternsMatch(patterns, host);
    else if (c.kind === "localuser") ok = hostPatternsMatch(patterns, localUserName());
    if (ok === undefined) {
      const sets = block.options.find(([key]) => DESTINATION_KEYS.has(key));
      if (!sets) return false;
      throw new UserError(`host ${host}: ~/.ssh/config has a "Match ${c.negate ? "!" : ""}${c.kind}" block that sets ${sets[0]}, which the runner cannot evaluate`, {
        hint: "Write it as a Host block (Host patterns are understood), so the runner connects where ssh would.",
      });
    }
    if (ok === c.negate) result = false;
  }
  return result;
}

function localUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "";
  }
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/** `~/x` -> `$HOME/x`. */
export function expandPath(path: string): string {
  if (path === "~") return homedir();
  if (path.startsWith("~/")) return join(homedir(), path.slice(2));
  return path;
}

/** The minimal ssh_config tokens: %h (host name), %n (name as given), %r (remote user), %u (local user), %d (home), %%. */
export function expandTokens(value: string, t: { host: string; hostname: string; user?: string }): string {
  return value.replace(/%([%hnrud])/g, (_, c: string) => {
    switch (c) {
      case "%":
        return "%";
      case "h":
        return t.hostname;
      case "n":
        return t.host;
      case "r":
        return t.user ?? localUser();
      case "u":
        return localUser();
      case "d":
        return homedir();
    }
    return _;
  });
}

function localUser(): string {
  return process.env.USER ?? process.env.LOGNAME ?? "root";
}

/** A ProxyJump value's first hop: `[user@]host[:port]`. Further hops (comma list) are ignored by the caller. */
export function parseJump(value: string): { user?: string; host: string; port?: number } {
  const first = value.split(",")[0].trim().replace(/^ssh:\/\//, "");
  let rest = first;
  let user: string | undefined;
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  let port: number | undefined;
  const bracket = /^\[(.+)\](?::(\d+))?$/.exec(rest);
  if (bracket) {
    rest = bracket[1];
    if (bracket[2]) port = Number(bracket[2]);
  } else {
    const m = /^([^:]+):(\d+)$/.exec(rest);
    if (m) {
      rest = m[1];
      port = Number(m[2]);
    }
  }
  return { user, host: rest, port };
}

/** A non-negative whole number as ssh_config writes it (`15`), else undefined. */
export function wholeNumber(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value.trim()) : undefined;
}
