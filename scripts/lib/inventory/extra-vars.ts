/**
 * `-e` values as ansible-playbook reads them: `@file` (YAML or JSON), an inline JSON/YAML
 * mapping starting with `{`, or `k=v k2="quoted value"` pairs (values stay strings).
 * Later values win (top-level keys replace).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { UserError, ExitCode } from "../errors.ts";
import { parseYaml, refuseOversizedInput } from "../yaml/load.ts";

/** Parses and merges every `-e` value in order; bad input is a UserError naming the value. */
export function parseExtraVars(values: string[], options: { cwd?: string } = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const value of values) Object.assign(out, parseOne(value, options.cwd ?? process.cwd()));
  return out;
}

function parseOne(value: string, cwd: string): Record<string, unknown> {
  const trimmed = value.trim();
  if (trimmed === "") return {};
  if (trimmed.startsWith("@")) {
    const file = resolve(cwd, trimmed.slice(1));
    let text: string;
    try {
      refuseOversizedInput(file);
      text = readFileSync(file, "utf8");
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(`Cannot read extra vars file "${trimmed.slice(1)}": ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`, {
        // ansible-playbook exits 1 here (a file it cannot find is an error, not a bad option).
        exitCode: ExitCode.error,
        hint: "-e @FILE takes a YAML or JSON file of variables, relative to the current directory.",
      });
    }
    return asMapping(text.trim() === "" ? {} : parseYaml(text, file), `-e ${value}`);
  }
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    let data: unknown;
    try {
      data = parseYaml(trimmed, "-e");
    } catch (e) {
      throw new UserError(`Invalid extra vars ${JSON.stringify(value)}: ${(e as Error).message}`, {
        exitCode: ExitCode.badOptions,
        hint: `Inline JSON/YAML must be a mapping, e.g. -e '{"ntp_servers": ["a", "b"]}'.`,
      });
    }
    return asMapping(data, `-e ${value}`);
  }
  return parseKeyValues(value);
}

function asMapping(data: unknown, what: string): Record<string, unknown> {
  if (data === null || data === undefined) return {};
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new UserError(`Extra vars must be a mapping of names to values, got ${Array.isArray(data) ? "a list" : typeof data} in ${what}`, {
      exitCode: ExitCode.badOptions,
      hint: "Use k=v pairs, a JSON object, or @file.yml holding a mapping.",
    });
  }
  return data as Record<string, unknown>;
}

/** `k=v k2="a b" k3='c'`: shell-like words, each must be name=value. */
export function parseKeyValues(value: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const word of splitWords(value)) {
    const eq = word.indexOf("=");
    if (eq <= 0) {
      throw new UserError(`Invalid extra vars ${JSON.stringify(value)}: ${JSON.stringify(word)} is not name=value`, {
        exitCode: ExitCode.badOptions,
        hint: `Write -e name=value (quote values with spaces: -e 'motd="hello world"'), JSON '{"name": 1}', or @file.yml.`,
      });
    }
    const key = word.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new UserError(`Invalid extra vars ${JSON.stringify(value)}: ${JSON.stringify(key)} is not a valid variable name`, {
        exitCode: ExitCode.badOptions,
        hint: "Variable names are letters, digits and underscores, not starting with a digit.",
      });
    }
    out[key] = word.slice(eq + 1);
  }
  return out;
}

/** Splits on unquoted whitespace; single and double quotes group and are removed; backslash escapes in double quotes and bare words. */
function splitWords(text: string): string[] {
  const words: string[] = [];
  let current = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && (text[i + 1] === '"' || text[i + 1] === "\\")) current += text[++i];
      else current += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else if (c === "\\" && i + 1 < text.length) {
      current += text[++i];
      inWord = true;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (quote) {
    throw new UserError(`Invalid extra vars ${JSON.stringify(text)}: unterminated ${quote} quote`, {
      exitCode: ExitCode.badOptions,
      hint: "Close the quote, and quote the whole -e value for your shell.",
    });
  }
  if (inWord) words.push(current);
  return words;
}
