/**
 * A simple INI inventory, as Ansible's ini plugin: `[group]` host lines with `k=v` variables,
 * `[group:vars]`, `[group:children]`. Values are read as Python literals where they are ones.
 */
import { UserError } from "../errors.ts";
import { expandHostRange } from "./host-ranges.ts";
import type { InventoryBuilder } from "./builder.ts";

export function parseIniInventory(builder: InventoryBuilder, text: string, file: string): void {
  let group = "ungrouped";
  let kind: "hosts" | "vars" | "children" = "hosts";
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const where = { file, line: index + 1, col: 1 };
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) return;
    const header = /^\[([^\]:\s]+)(?::(\w+))?\]\s*(?:[#;].*)?$/.exec(line);
    if (!header && line.startsWith("[")) {
      // As Ansible's "Invalid section entry": a broken header must not become a host name.
      throw new UserError(`Invalid section entry ${JSON.stringify(line)}`, {
        where,
        hint: "Write a section as [group], [group:vars] or [group:children], closed by ] and without spaces in the name.",
      });
    }
    if (header) {
      group = header[1];
      const k = header[2] ?? "hosts";
      if (k !== "hosts" && k !== "vars" && k !== "children") {
        throw new UserError(`Unknown section type ":${k}" in [${line.slice(1, -1)}]`, { where, hint: "Sections are [group], [group:vars] or [group:children]." });
      }
      kind = k;
      builder.group(group, where);
      if (group !== "all" && group !== "ungrouped") builder.addChild("all", group, where);
      return;
    }
    if (kind === "children") {
      builder.addChild(group, line.split(/\s+/)[0], where);
      return;
    }
    if (kind === "vars") {
      const eq = line.indexOf("=");
      if (eq <= 0) throw new UserError(`Expected name=value in [${group}:vars], got ${JSON.stringify(line)}`, { where });
      builder.group(group).vars[line.slice(0, eq).trim()] = iniValue(line.slice(eq + 1).trim());
      return;
    }
    const words = splitIniWords(line);
    const vars: Record<string, unknown> = {};
    for (const word of words.slice(1)) {
      const eq = word.indexOf("=");
      if (eq <= 0) throw new UserError(`Expected name=value after host "${words[0]}", got ${JSON.stringify(word)}`, { where });
      vars[word.slice(0, eq)] = iniValue(word.slice(eq + 1));
    }
    let name = words[0];
    const port = /^([^:\[\]]+):(\d+)$/.exec(name);
    if (port) {
      name = port[1];
      vars.ansible_port = Number(port[2]);
    }
    for (const host of expandHostRange(name, where)) {
      builder.host(host, where, vars);
      if (group !== "ungrouped") builder.addHostToGroup(group, host);
    }
  });
}

function splitIniWords(line: string): string[] {
  const words: string[] = [];
  const re = /(?:[^\s"']+|"(?:\\.|[^"])*"|'[^']*')+/g;
  for (const m of line.replace(/\s[#;].*$/, "").matchAll(re)) words.push(m[0]);
  return words;
}

function iniValue(text: string): unknown {
  if (/^(['"]).*\1$/.test(text)) return text.slice(1, -1);
  if (/^-?\d+$/.test(text)) return Number(text);
  if (/^-?\d+\.\d+$/.test(text)) return Number(text);
  if (text === "True") return true;
  if (text === "False") return false;
  if (text === "None") return null;
  return text;
}
