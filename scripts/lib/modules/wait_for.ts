/**
 * ansible.builtin.wait_for: waits, ON THE TARGET, for a TCP port to open/close, a path to
 * appear/disappear, or a regex in a file or a port's banner. The whole wait is ONE remote
 * command: a bounded polling loop in bash (bash's /dev/tcp, present on Debian and Raspberry
 * Pi OS; no nc needed). Never changed; skipped in check mode (nothing to wait for).
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { sh, quote } from "../shell/quote.ts";
import { schemaHeader } from "./support/system.ts";
import { RULES, requireValue, schemaPattern } from "./support/values.ts";

interface WaitForArgs {
  host: string;
  port?: number;
  path?: string;
  state: "started" | "stopped" | "present" | "absent";
  timeout: number;
  delay: number;
  sleep: number;
  connect_timeout: number;
  search_regex?: string;
  msg?: string;
}

/** The loop script (bash). Exit 0: condition met; 3: timed out. */
export function waitScript(args: WaitForArgs): string {
  const ct = Math.max(1, Math.floor(args.connect_timeout));
  let check: string;
  if (args.port !== undefined) {
    // The host and port are bash's positional parameters, never part of its script text.
    const open = sh`timeout ${ct} bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ ${args.host} ${args.port} 2>/dev/null`;
    check = args.search_regex !== undefined
      ? sh`timeout ${ct} bash -c 'exec 3<>"/dev/tcp/$1/$2"; timeout 1 cat <&3' _ ${args.host} ${args.port} 2>/dev/null | grep -Eq -- ${args.search_regex}`
      : open;
  } else {
    check = args.search_regex !== undefined
      ? sh`[ -f ${args.path!} ] && grep -Eq -- ${args.search_regex} ${args.path!}`
      : sh`[ -e ${args.path!} ]`;
  }
  const negate = args.state === "stopped" || args.state === "absent";
  return [
    `sleep ${Math.max(0, args.delay)}`,
    `start=$(date +%s); end=$((start + ${Math.floor(args.timeout)}))`,
    "while :; do",
    `  if ${negate ? "! " : ""}{ ${check}; }; then echo "elapsed=$(( $(date +%s) - start ))"; exit 0; fi`,
    `  [ "$(date +%s)" -ge "$end" ] && { echo "elapsed=$(( $(date +%s) - start ))"; exit 3; }`,
    `  sleep ${Math.max(0.1, args.sleep)}`,
    "done",
  ].join("\n");
}

export const waitFor: ModuleDefinition<WaitForArgs> = {
  name: "wait_for",
  aliases: [],
  schema: {
    ...schemaHeader("wait_for", "Waits on the target for a port, a path, or a regex."),
    properties: {
      host: { type: "string", default: "127.0.0.1", ...schemaPattern(RULES.host), description: "Host to connect to, as seen from the target." },
      port: { type: "integer", minimum: 1, maximum: 65535 },
      path: { type: "string" },
      state: { type: "string", enum: ["started", "stopped", "present", "absent"], default: "started" },
      timeout: { type: "integer", minimum: 0, default: 300 },
      delay: { type: "integer", minimum: 0, default: 0 },
      sleep: { type: "number", minimum: 0, default: 1 },
      connect_timeout: { type: "integer", minimum: 1, default: 5 },
      search_regex: { type: "string", description: "POSIX extended regex (grep -E)." },
      msg: { type: "string", description: "Failure message on timeout." },
      exclude_hosts: { type: "array", description: "Not supported (drained state): accepted only empty." , maxItems: 0 },
      active_connection_states: { type: "array", description: "Accepted for compatibility." },
    },
    not: { required: ["port", "path"] },
  },
  async plan(args, ctx) {
    if (ctx.check) return { changed: false, skipped: "wait_for does not run in check mode", reason: "check mode" };
    if (args.port === undefined && args.path === undefined) {
      // Only a delay/timeout: sleep on the target, as Ansible does.
      await ctx.run(`sleep ${Math.max(args.timeout, args.delay)}`, { timeoutMs: (Math.max(args.timeout, args.delay) + 30) * 1000, become: false });
      return { changed: false, reason: `waited ${Math.max(args.timeout, args.delay)}s`, result: { elapsed: Math.max(args.timeout, args.delay) } };
    }
    requireValue("wait_for", "host", args.host, RULES.host);
    const script = waitScript(args);
    const r = await ctx.run(`bash -c ${quote(script)}`, { timeoutMs: (args.timeout + args.delay + 30) * 1000, become: args.path !== undefined ? undefined : false });
    const elapsed = Number(/elapsed=(\d+)/.exec(r.stdout)?.[1] ?? 0);
    const what = args.port !== undefined ? `${args.host}:${args.port}` : args.path!;
    const verb = args.state === "stopped" || args.state === "absent" ? (args.port !== undefined ? "to close" : "to disappear") : args.search_regex ? `to match ${args.search_regex}` : args.port !== undefined ? "to open" : "to appear";
    if (r.rc === 3) throw new ModuleFailure(args.msg ?? `Timeout when waiting for ${what} ${verb} (${args.timeout}s)`, { elapsed });
    if (r.rc !== 0) throw new ModuleFailure(`wait_for could not run on the target: ${r.stderr.trim() || `rc ${r.rc}`}`, { elapsed, rc: r.rc });
    const negate = args.state === "stopped" || args.state === "absent";
    const reached = negate ? (args.port !== undefined ? "closed" : "absent") : args.search_regex !== undefined ? `matched ${args.search_regex}` : args.port !== undefined ? "open" : "present";
    return { changed: false, reason: `${what} ${reached}`, result: { elapsed, path: args.path, port: args.port, state: args.state } };
  },
};
