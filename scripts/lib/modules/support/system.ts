/**
 * Small helpers shared by the system modules (apt, systemd, user, mount, parted, ...):
 * turning a failed remote command into a ModuleFailure with its stderr, list arguments given
 * as "a,b" or ["a", "b"], and the common schema header.
 */
import type { ExecResult } from "../../transport/types.ts";
import { ModuleFailure } from "../types.ts";
import { maskSecrets } from "../../shell/secret.ts";

/** Throws a ModuleFailure "<what>: <stderr>" when the command failed. */
export function requireSuccess(r: ExecResult, what: string): ExecResult {
  if (r.rc !== 0) {
    const detail = maskSecrets((r.stderr.trim() || r.stdout.trim()).split("\n").slice(-6).join("\n"));
    throw new ModuleFailure(`${what}: ${detail || `rc ${r.rc}`}`, { rc: r.rc, stdout: maskSecrets(r.stdout), stderr: maskSecrets(r.stderr) });
  }
  return r;
}

/** Ansible's list options: a list, or a comma-separated string. Empty entries dropped. */
export function listArg(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const items = Array.isArray(value) ? value.map(String) : String(value).split(",");
  return items.map((s) => s.trim()).filter(Boolean);
}

/** The draft-07 header every module schema starts with. */
export function schemaHeader(title: string, description: string): Record<string, unknown> {
  return { $schema: "http://json-schema.org/draft-07/schema#", title, description, type: "object", additionalProperties: false };
}

/** `key=value` lines of a probe's output (first occurrence wins). */
export function probeValues(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0 && !out.has(line.slice(0, eq))) out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}

/** Lines between `@@name` and the next `@@` marker (sections of a combined probe). */
export function probeSection(stdout: string, name: string): string {
  const start = stdout.indexOf(`@@${name}\n`);
  if (start < 0) return "";
  const body = stdout.slice(start + name.length + 3);
  const end = body.search(/^@@[a-z0-9_-]+$/m);
  return end < 0 ? body : body.slice(0, end);
}
