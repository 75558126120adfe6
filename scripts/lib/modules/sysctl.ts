/**
 * ansible.posix.sysctl: a kernel parameter in a sysctl file (and live with sysctl_set / reload).
 * ONE probe reads the live value and the file; the file is edited as lines (the first line for
 * the key gets the value, later duplicates go, other lines stay byte for byte) and written
 * atomically; reload runs `sysctl -p FILE` when the file changed.
 */
import type { ModuleDefinition, Probe } from "./types.ts";
import { readProbe } from "./probe.ts";
import { sh } from "../shell/quote.ts";
import { fileProbeScript, parseFileProbe, writeFileAtomic, type FileState } from "./remote-file.ts";
import { contentDiff } from "./support/file-diff.ts";
import { requireSuccess, schemaHeader, probeSection } from "./support/system.ts";
import { RULES, requireValue, schemaPattern } from "./support/values.ts";

/** A key's live value (undefined when the kernel does not know it) and the sysctl file. */
export const SYSCTL_PROBE: Probe<{ key: string; file: string }, { live?: string; file: FileState }> = {
  name: "sysctl",
  command: ({ key, file }) => [sh`echo @@live; sysctl -n -- ${normalizeKey(key)} 2>/dev/null || echo @@unknown`, "echo @@file", fileProbeScript(file, { content: true })].join("\n"),
  parse(r, { key }) {
    requireSuccess(r, `Cannot read ${key}`);
    const live = probeSection(r.stdout, "live");
    return { live: live.includes("@@unknown") ? undefined : live.replace(/\n$/, ""), file: parseFileProbe(r.stdout) };
  },
};

interface SysctlArgs {
  name: string;
  value?: string | number | boolean;
  sysctl_file: string;
  reload: boolean;
  state: "present" | "absent";
  sysctl_set: boolean;
  ignoreerrors: boolean;
}

interface SysctlState {
  content?: string;
  set?: string;
}

/** net/ipv4/ip_forward and net.ipv4.ip_forward are one key. */
function normalizeKey(key: string): string {
  return key.trim().replaceAll("/", ".");
}

/** "1024   65000" == "1024\t65000" */
function normalizeValue(value: string): string {
  return value.trim().split(/\s+/).join(" ");
}

function valueText(v: SysctlArgs["value"]): string {
  if (typeof v === "boolean") return v ? "1" : "0";
  return String(v ?? "");
}

/** Edits sysctl file text; pure. Returns the new text. */
export function editSysctlFile(text: string, key: string, value: string | undefined): string {
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const out: string[] = [];
  let placed = false;
  for (const line of lines) {
    const m = /^\s*([^#;=\s][^=]*?)\s*=\s*(.*?)\s*$/.exec(line);
    if (m && normalizeKey(m[1]) === normalizeKey(key)) {
      if (value !== undefined && !placed) {
        out.push(normalizeValue(m[2]) === normalizeValue(value) ? line : `${key}=${value}`);
        placed = true;
      }
      continue;
    }
    out.push(line);
  }
  if (value !== undefined && !placed) out.push(`${key}=${value}`);
  return out.length ? out.join("\n") + "\n" : "";
}

export const sysctl: ModuleDefinition<SysctlArgs, SysctlState> = {
  name: "sysctl",
  aliases: ["ansible.posix.sysctl"],
  schema: {
    ...schemaHeader("sysctl", "Manages kernel parameters in a sysctl file and live."),
    properties: {
      name: { type: "string", aliases: ["key"], ...schemaPattern(RULES.sysctlKey), description: "The parameter (net.ipv4.ip_forward)." },
      // One line of the sysctl file: a newline would add a line that `sysctl -p` applies.
      value: { type: ["string", "number", "boolean"], aliases: ["val"], ...schemaPattern(RULES.singleLine), description: "Its value (one line)." },
      sysctl_file: { type: "string", default: "/etc/sysctl.conf" },
      reload: { type: "boolean", default: true, description: "sysctl -p FILE when the file changed." },
      state: { type: "string", enum: ["present", "absent"], default: "present" },
      sysctl_set: { type: "boolean", default: false, description: "Also set the live value when it differs." },
      ignoreerrors: { type: "boolean", default: false, description: "Ignore unknown keys on reload (sysctl -e)." },
    },
    required: ["name"],
    if: { properties: { state: { const: "present" } } },
    then: { required: ["value"] },
  },
  async plan(a, ctx) {
    const name = a.name;
    const value = a.state === "present" ? valueText(a.value) : undefined;
    requireValue("sysctl", "name", name, RULES.sysctlKey);
    if (value !== undefined) requireValue("sysctl", "value", value, RULES.singleLine);
    const { live, file } = await readProbe(ctx, SYSCTL_PROBE, { key: name, file: a.sysctl_file }, { become: false });
    const before = typeof file.content === "string" ? file.content : "";
    const after = editSysctlFile(before, name, value);
    const state: SysctlState = {};
    const done: string[] = [];
    const diff = [];
    if (after !== before || (!file.exists && a.state === "present")) {
      state.content = after;
      diff.push(contentDiff(file.exists ? before : undefined, after, a.sysctl_file));
      done.push(`${a.sysctl_file} ${a.state === "present" ? "set" : "entry removed"}`);
    }
    if (a.state === "present" && a.sysctl_set && (live === undefined || normalizeValue(live) !== normalizeValue(value!))) {
      state.set = value;
      done.push(`live value ${live ?? "(unknown)"} -> ${value}`);
    }
    const result = { name, value: value ?? null, live: live ?? null };
    if (done.length === 0) return { changed: false, reason: `${name}${value !== undefined ? ` = ${value}` : " absent"} in ${a.sysctl_file}${a.sysctl_set ? " and live" : ""}`, result };
    return { changed: true, msg: `${name}: ${done.join(", ")}`, state, diff, result };
  },
  async apply(plan, a, ctx) {
    const name = a.name;
    const s = plan.state!;
    if (s.content !== undefined) await writeFileAtomic(ctx, a.sysctl_file, s.content, { makeParents: true });
    if (s.set !== undefined) requireSuccess(await ctx.run(sh`sysctl -w -- ${`${normalizeKey(name)}=${s.set}`}`), `Cannot set ${name}`);
    if (s.content !== undefined && a.reload) {
      requireSuccess(await ctx.run(sh`sysctl ${a.ignoreerrors ? "-e" : "-q"} -p -- ${a.sysctl_file}`), `sysctl -p ${a.sysctl_file} failed`);
    }
    return { msg: plan.msg };
  },
};
