/**
 * Ansible's known_hosts module as pure steps (ansible/modules/known_hosts.py, read for
 * behaviour): `ssh-keygen -F` finds the host's lines (hashed or not, [host]:port, several
 * names), the first line of the key's type is kept, replaced or removed, and a new key goes at
 * the end. Keys compare by options, type and material; a hashed name matches a hashed name.
 */
import { createHmac, randomBytes } from "node:crypto";

interface KnownHostsKey {
  options?: string;
  host: string;
  type: string;
  key: string;
}

/** A known_hosts line's fields; undefined when it has too few. */
export function parseKnownHostsLine(line: string): KnownHostsKey | undefined {
  const k = line.trim().split(/\s+/);
  const marker = k[0]?.startsWith("@") ? 1 : 0;
  if (k.length < 3 + marker) return undefined;
  return { ...(marker ? { options: k[0] } : {}), host: k[marker], type: k[marker + 1], key: k[marker + 2] };
}

/** The key with its host field hashed as ssh-keygen -H does (|1|salt|hmac). */
export function hashHostKey(host: string, key: string, salt: Buffer = randomBytes(20)): string {
  const parts = key.trim().split(/\s+/);
  const i = parts[0].startsWith("@") ? 1 : 0;
  parts[i] = `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(host).digest("base64")}`;
  return parts.join(" ");
}

/** Does the key's host field name `host` (a hashed name, or one of its comma-separated patterns)? */
export function keyNamesHost(hostField: string, host: string): boolean {
  const hashed = /^\|1\|([^|]+)\|([^|]+)$/.exec(hostField);
  if (hashed) return createHmac("sha1", Buffer.from(hashed[1], "base64")).update(host).digest("base64") === hashed[2];
  let match = false;
  for (const pattern of hostField.toLowerCase().split(",")) {
    const negated = pattern.startsWith("!");
    const glob = new RegExp(`^${(negated ? pattern.slice(1) : pattern).replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
    if (glob.test(host)) {
      if (negated) return false;
      match = true;
    }
  }
  return match;
}

/** One line `ssh-keygen -F` reported: its line number in the file and its text. */
export interface FoundLine {
  line: number;
  text: string;
}

/** `ssh-keygen -F` output: "# Host h found: line N" before each line it found. */
export function parseKeygenFind(stdout: string): FoundLine[] {
  const found: FoundLine[] = [];
  let line: number | undefined;
  for (const l of stdout.split("\n")) {
    if (l === "") continue;
    if (l.startsWith("#")) {
      const m = /found: line (\d+)/.exec(l);
      line = m ? Number(m[1]) : undefined;
    } else if (line !== undefined) {
      found.push({ line, text: l });
    }
  }
  return found;
}

/** known_hosts.py's search_for_host_key: is the host there, must the key change, at which line. */
export function searchHostKey(found: readonly FoundLine[], key: string | undefined): { found: boolean; replaceOrAdd: boolean; foundLine?: number } {
  if (found.length === 0) return { found: false, replaceOrAdd: false };
  if (key === undefined) return { found: true, replaceOrAdd: false };
  const wanted = parseKnownHostsLine(key)!;
  for (const f of found) {
    const have = parseKnownHostsLine(f.text);
    if (!have) continue;
    const w = { ...wanted };
    if (w.host.startsWith("|1|") && have.host.startsWith("|1|")) w.host = have.host;
    if (w.options === have.options && w.host === have.host && w.type === have.type && w.key === have.key) return { found: true, replaceOrAdd: false, foundLine: f.line };
    if (w.type === have.type) return { found: true, replaceOrAdd: true, foundLine: f.line };
  }
  return { found: true, replaceOrAdd: true };
}

/** The file's new text: lines numbered in `drop` left out, `append` added at the end. */
export function editKnownHosts(text: string, drop: readonly number[], append?: string): string {
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const kept = lines.filter((_, i) => !drop.includes(i + 1));
  const body = kept.join("");
  // Ansible would glue the key to a last line without its newline; we end that line first.
  if (append === undefined) return body;
  return body + (body && !body.endsWith("\n") ? "\n" : "") + append;
}
