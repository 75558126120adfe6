/**
 * Python `re` patterns as JavaScript RegExps for the regex filters and tests: named groups
 * `(?P<n>...)`/`(?P=n)`, `\A`, `\Z`, and leading inline flags `(?i)`, `(?m)`, `(?s)`.
 */
import { boundedRegExp } from "../bounded-regex.ts";
import { TemplateError } from "./errors.ts";

const cache = new Map<string, RegExp>();

export function pythonRegex(pattern: string, flags = ""): RegExp {
  const key = `${flags}/${pattern}`;
  const hit = cache.get(key);
  if (hit) {
    hit.lastIndex = 0;
    return hit;
  }
  let body = pattern;
  let jsFlags = flags;
  const lead = /^\(\?([imsx]+)\)/.exec(body);
  if (lead) {
    body = body.slice(lead[0].length);
    for (const f of lead[1]) if (f !== "x" && !jsFlags.includes(f)) jsFlags += f;
  }
  body = body.replace(/\\\\|\(\?P<|\(\?P=(\w+)\)|\\A|\\Z/g, (m, name: string | undefined) => {
    if (m === "\\\\") return m;
    if (m === "(?P<") return "(?<";
    if (name) return `\\k<${name}>`;
    // Without the m flag, ^ and $ mean \A and \Z already (and keep the pattern linear-time).
    if (!jsFlags.includes("m")) return m === "\\A" ? "^" : "$";
    return m === "\\A" ? "(?<![\\s\\S])" : "(?![\\s\\S])";
  });
  let re: RegExp;
  try {
    re = boundedRegExp(body, jsFlags);
  } catch (e) {
    throw new TemplateError(`Invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`, {
      hint: "Regular expressions use Python's syntax; in YAML double quotes, backslashes must be doubled.",
    });
  }
  if (cache.size > 1000) cache.clear();
  cache.set(key, re);
  return re;
}
