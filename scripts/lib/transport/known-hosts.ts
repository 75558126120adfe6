/**
 * OpenSSH known_hosts: parsing, matching (plain names, `[host]:port`, comma lists, `!negated`
 * patterns, wildcards, hashed `|1|salt|hash` entries) and recording new keys. Used by the SSH
 * transport's host key check: unknown host -> refuse with the fingerprint and the opt-in;
 * changed key -> always refuse.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { wildcardMatch } from "./ssh-config.ts";
import { quote } from "../shell/quote.ts";

/** One usable known_hosts line (@revoked and @cert-authority lines are kept apart). */
export interface KnownHostEntry {
  /** Host patterns (plain lines) or undefined for hashed lines. */
  patterns?: string[];
  /** For hashed lines: salt and HMAC-SHA1 of the host name. */
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  /** The key blob (base64-decoded). */
  key: Buffer;
  marker?: "revoked" | "cert-authority";
  file: string;
  line: number;
}

/** Parses known_hosts text; malformed lines are skipped as OpenSSH does. */
export function parseKnownHosts(text: string, file = "known_hosts"): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split("\n").forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (!line || line.startsWith("#")) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry["marker"];
    if (fields[0].startsWith("@")) {
      const m = fields.shift()!;
      if (m === "@revoked") marker = "revoked";
      else if (m === "@cert-authority") marker = "cert-authority";
      else return;
    }
    if (fields.length < 3) return;
    const [hosts, keyType, keyBase64] = fields;
    const key = Buffer.from(keyBase64, "base64");
    if (key.length === 0) return;
    const entry: KnownHostEntry = { keyType, key, marker, file, line: index + 1 };
    if (hosts.startsWith("|1|")) {
      const [, , salt, hash] = hosts.split("|");
      if (!salt || !hash) return;
      entry.hashed = { salt: Buffer.from(salt, "base64"), hash: Buffer.from(hash, "base64") };
    } else {
      entry.patterns = hosts.split(",");
    }
    entries.push(entry);
  });
  return entries;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function hostKeyName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** `|1|salt|hash` for a host name, as `ssh-keygen -H` writes it. */
export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  const hash = createHmac("sha1", salt).update(name).digest();
  return `|1|${salt.toString("base64")}|${hash.toString("base64")}`;
}

/** Whether an entry's host field matches `name` (already in `[host]:port` form). */
export function entryMatches(entry: KnownHostEntry, name: string): boolean {
  if (entry.hashed) {
    const hash = createHmac("sha1", entry.hashed.salt).update(name).digest();
    return hash.equals(entry.hashed.hash);
  }
  let matched = false;
  for (const pattern of entry.patterns ?? []) {
    if (pattern.startsWith("!")) {
      if (wildcardMatch(pattern.slice(1), name)) return false;
    } else if (wildcardMatch(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/** `SHA256:...` as `ssh-keygen -l` prints it (unpadded base64). */
export function fingerprint(key: Buffer): string {
  return "SHA256:" + createHash("sha256").update(key).digest("base64").replace(/=+$/, "");
}

/** The key type inside a key blob (first SSH string), e.g. "ssh-ed25519". */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return "unknown";
  const length = key.readUInt32BE(0);
  return key.subarray(4, 4 + length).toString("latin1");
}

/** The result of looking a presented key up. */
export type HostKeyStatus =
  | { status: "known"; entry: KnownHostEntry }
  | { status: "revoked"; entry: KnownHostEntry }
  | { status: "changed"; entries: KnownHostEntry[] }
  | { status: "unknown" };

/**
 * Looks up `key` under the given names (`[address]:port`, as OpenSSH after HostName). A key of the same type recorded with different bytes = changed. A
 * host with keys of other types only (e.g. rsa recorded, ed25519 presented) is also "changed":
 * OpenSSH refuses that too rather than trusting a new type silently.
 */
export function lookupHostKey(entries: KnownHostEntry[], names: string[], key: Buffer): HostKeyStatus {
  const matching = entries.filter((e) => e.marker !== "cert-authority" && names.some((n) => entryMatches(e, n)));
  const revoked = entries.find((e) => e.marker === "revoked" && e.key.equals(key));
  if (revoked) return { status: "revoked", entry: revoked };
  const same = matching.find((e) => !e.marker && e.key.equals(key));
  if (same) return { status: "known", entry: same };
  const others = matching.filter((e) => !e.marker);
  if (others.length > 0) return { status: "changed", entries: others };
  return { status: "unknown" };
}

/** Reads and parses every existing file (missing files are empty). */
export function loadKnownHosts(files: string[]): KnownHostEntry[] {
  return files.flatMap((file) => (existsSync(file) ? parseKnownHosts(readFileSync(file, "utf8"), file) : []));
}

/** Appends a key line (`hashed` like HashKnownHosts=yes) to a known_hosts file. */
export function recordHostKey(file: string, name: string, key: Buffer, hashed: boolean): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const hostField = hashed ? hashHostName(name) : name;
  let prefix = "";
  if (existsSync(file)) {
    const current = readFileSync(file, "utf8");
    if (current.length > 0 && !current.endsWith("\n")) prefix = "\n";
  }
  appendFileSync(file, `${prefix}${hostField} ${keyTypeOf(key)} ${key.toString("base64")}\n`, { mode: 0o600 });
}

/** How the host key check behaves (OpenSSH's StrictHostKeyChecking). */
export interface HostKeyPolicy {
  /** Files consulted, in order; the first is where new keys are recorded. */
  files: string[];
  /** yes: unknown refused; accept-new: unknown recorded; no: unknown recorded + warning. */
  strict: "yes" | "accept-new" | "no";
  /** Record new keys hashed (HashKnownHosts yes). */
  hashNew: boolean;
  /** Warnings (e.g. StrictHostKeyChecking=no) go here. */
  warn?: (message: string) => void;
}

/**
 * Builds the check the SSH transport calls with the presented key. Returns true or the reason
 * for refusing (unknown without opt-in, changed, revoked).
 */
export function makeHostKeyCheck(host: string, policy: HostKeyPolicy) {
  // address and port come at call time: reconnect() may move the host (static IP).
  return async (key: Buffer, address: string, port: number): Promise<true | string> => {
    const name = hostKeyName(address, port);
    const entries = loadKnownHosts(policy.files);
    const found = lookupHostKey(entries, [name], key);
    const type = keyTypeOf(key);
    const fp = fingerprint(key);
    if (found.status === "known") return true;
    if (found.status === "revoked") {
      return `host key for ${host} (${address}:${port}) is REVOKED in ${found.entry.file}:${found.entry.line} (${type} ${fp}): refusing to connect`;
    }
    if (found.status === "changed") {
      const where = found.entries.map((e) => `${e.file}:${e.line}`).join(", ");
      return [
        `HOST KEY FOR ${host} (${address}:${port}) HAS CHANGED: refusing to connect.`,
        `Someone could be eavesdropping on you right now (man-in-the-middle attack), or the host was reinstalled.`,
        `Presented ${type} key ${fp}; known_hosts has a different key at ${where}.`,
        // Every file holding an old key, or the next connection is refused again.
        `If the change is expected (a reflashed node), remove the old key: ${[...new Set(found.entries.map((e) => e.file))].map((f) => `ssh-keygen -R ${quote(name)} -f ${quote(f)}`).join(" && ")}, then run again with --accept-new-host-keys to record the new one.`,
      ].join("\n");
    }
    // Unknown host.
    if (policy.strict === "yes") {
      return [
        `host key for ${host} (${address}:${port}) is not known: ${type} ${fp}`,
        `Checked: ${policy.files.join(", ") || "(no known_hosts files)"}.`,
        `If this fingerprint is right, run again with --accept-new-host-keys to record it, or add it first: ssh-keyscan -p ${port} -- ${quote(address)} >> ~/.ssh/known_hosts`,
      ].join("\n");
    }
    if (policy.strict === "no") {
      policy.warn?.(`warning: host key checking is off for ${host} (StrictHostKeyChecking=no); accepting ${type} ${fp} for ${address}:${port}`);
    }
    const file = policy.files[0];
    if (file && file !== "/dev/null") {
      try {
        recordHostKey(file, name, key, policy.hashNew);
        policy.warn?.(`Permanently added ${name} (${type} ${fp}) to ${file}`);
      } catch (e) {
        policy.warn?.(`warning: could not record the host key of ${host} in ${file}: ${(e as Error).message}`);
      }
    }
    return true;
  };
}

