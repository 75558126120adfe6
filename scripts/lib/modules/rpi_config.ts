/**
 * rpi_config (ours): `key=value` lines in the Raspberry Pi config.txt (/boot/firmware on
 * bookworm, else /boot), optionally inside a `[section]` such as [all] or [pi4]. A line's key is
 * the text before its LAST `=`, so `dtparam=poe_fan_temp0=50000` and
 * `dtparam=poe_fan_temp1=60000` are different keys. Each wished line ends up exactly once in
 * its section (the first line with the key replaced, later ones removed), other lines kept
 * byte for byte; written atomically with a diff; skipped on a target without config.txt.
 *
 * Without `section` the lines live in the unconditional part at the top of the file (before
 * any [section] header). With `section: all` they go in the LAST [all] section (where
 * Raspberry Pi OS's own config.txt ends), created at the end of the file when missing.
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { writeFileAtomic } from "./remote-file.ts";
import { contentDiff } from "./support/file-diff.ts";
import { schemaHeader } from "./support/system.ts";
import { probeBootFile } from "./support/rpi-boot.ts";

interface ConfigArgs {
  settings?: Record<string, string | number | boolean>;
  lines?: string[];
  key?: string;
  value?: string | number | boolean;
  section?: string;
  path?: string;
  state: "present" | "absent";
}

/** "dtparam=poe_fan_temp0=50000" -> "dtparam=poe_fan_temp0" */
export function lineKey(line: string): string {
  const t = line.trim();
  const eq = t.lastIndexOf("=");
  return eq < 0 ? t : t.slice(0, eq).trim();
}

function scalar(v: string | number | boolean): string {
  return typeof v === "boolean" ? (v ? "1" : "0") : String(v);
}

/** New config.txt text; pure. */
export function editConfig(text: string, wanted: string[], section: string | undefined, state: "present" | "absent" = "present"): string {
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const header = (l: string) => /^\s*\[([^\]]+)\]\s*$/.exec(l)?.[1]?.trim();
  // Find the range [start, end) of the section to edit.
  let start = 0;
  let end = lines.findIndex((l) => header(l) !== undefined);
  if (end < 0) end = lines.length;
  if (section !== undefined) {
    let found = -1;
    lines.forEach((l, i) => { if (header(l) === section) found = i; });
    if (found < 0) {
      if (state === "absent") return text;
      while (lines.length && lines[lines.length - 1].trim() === "") lines.pop();
      lines.push("", `[${section}]`);
      found = lines.length - 1;
    }
    start = found + 1;
    end = lines.findIndex((l, i) => i >= start && header(l) !== undefined);
    if (end < 0) end = lines.length;
  }
  const body = lines.slice(start, end);
  const keys = new Map(wanted.map((w) => [lineKey(w), w.trim()]));
  const placed = new Set<string>();
  const out: string[] = [];
  for (const l of body) {
    const isSetting = l.trim() !== "" && !l.trim().startsWith("#");
    const k = isSetting ? lineKey(l) : undefined;
    if (k !== undefined && keys.has(k)) {
      if (state === "absent" || placed.has(k)) continue;
      out.push(l.trim() === keys.get(k) ? l : keys.get(k)!);
      placed.add(k);
      continue;
    }
    out.push(l);
  }
  if (state === "present") {
    const missing = [...keys].filter(([k]) => !placed.has(k)).map(([, l]) => l);
    // Insert before the section's trailing blank lines, so spacing between sections stays.
    let at = out.length;
    while (at > 0 && out[at - 1].trim() === "") at--;
    out.splice(at, 0, ...missing);
  }
  const result = [...lines.slice(0, start), ...out, ...lines.slice(end)];
  return result.length ? result.join("\n") + "\n" : "";
}

export const rpiConfig: ModuleDefinition<ConfigArgs, { path: string; content: string }> = {
  name: "rpi_config",
  aliases: [],
  schema: {
    ...schemaHeader("rpi_config", "Ensures key=value lines in the Raspberry Pi config.txt, optionally in a [section]."),
    properties: {
      settings: { type: "object", additionalProperties: { type: ["string", "number", "boolean"] }, description: "key: value pairs (key may itself hold '=', e.g. dtparam=poe_fan_temp0)." },
      lines: { type: "array", items: { type: "string", pattern: "^[^\\n\\r]*=[^\\n\\r]*$", patternErrorMessage: "must be a single line of the form key=value" }, description: "Whole lines, e.g. dtparam=audio=on." },
      key: { type: "string", description: "One setting's key (with value)." },
      value: { type: ["string", "number", "boolean"], description: "The value for key." },
      section: { type: "string", pattern: "^[^\\[\\]\\n]+$", description: "Section name without brackets (all, pi4, cm4, ...)." },
      path: { type: "string", description: "config.txt to edit (default: /boot/firmware/config.txt if it exists, else /boot/config.txt)." },
      state: { type: "string", enum: ["present", "absent"], default: "present" },
    },
    anyOf: [{ required: ["settings"] }, { required: ["lines"] }, { required: ["key", "value"] }],
    dependencies: { key: ["value"], value: ["key"] },
  },
  async plan(args, ctx) {
    const wanted = [
      ...Object.entries(args.settings ?? {}).map(([k, v]) => `${k}=${scalar(v)}`),
      ...(args.lines ?? []),
      ...(args.key !== undefined ? [`${args.key}=${scalar(args.value!)}`] : []),
    ];
    const found = await probeBootFile(ctx, "config.txt", args.path);
    if (!found) {
      if (args.path) throw new ModuleFailure(`${args.path} does not exist`);
      return { changed: false, skipped: "not a Raspberry Pi (no config.txt)", reason: "not a Raspberry Pi (no config.txt)" };
    }
    const before = typeof found.state.content === "string" ? found.state.content : "";
    const after = editConfig(before, wanted, args.section, args.state);
    const where = `${found.path}${args.section ? ` [${args.section}]` : ""}`;
    if (after === before) return { changed: false, reason: `${where} has ${wanted.join(", ")}${args.state === "absent" ? " absent" : ""}`, result: { path: found.path } };
    return { changed: true, msg: `${where} updated`, diff: [contentDiff(before, after, found.path)], state: { path: found.path, content: after }, result: { path: found.path } };
  },
  async apply(plan, _args, ctx) {
    await writeFileAtomic(ctx, plan.state!.path, plan.state!.content);
    return { msg: plan.msg };
  },
};
