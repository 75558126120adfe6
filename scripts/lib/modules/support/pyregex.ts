/**
 * Python `re` patterns (what Ansible's lineinfile/blockinfile/replace take) as JavaScript
 * RegExps. Translated: named groups `(?P<n>...)` and `(?P=n)`, `\A`, `\Z`, leading inline
 * flags `(?i)`, `(?m)`, `(?s)`, `(?x)` (verbose: whitespace and # comments removed outside
 * classes). Not supported (a clear error): possessive quantifiers, atomic groups, conditional
 * groups `(?(1)...)`, and inline flags anywhere but the start. Replacement templates use
 * Python's syntax: `\1`, `\g<1>`, `\g<name>`, `\n`, `\t`, `\\`.
 */
import { boundedRegExp } from "../../bounded-regex.ts";
import { ModuleFailure } from "../types.ts";

export interface PyRegex {
  regex: RegExp;
  /** Python's re.MULTILINE was asked inline ((?m)): blockinfile then searches the whole text. */
  multiline: boolean;
}

/** Compiles a Python pattern; `flags` are JS flags to add (e.g. "gm" for re.sub + MULTILINE). */
export function pyRegex(pattern: string, flags = ""): PyRegex {
  let body = pattern;
  let inline = "";
  const lead = /^\(\?([aiLmsux]+)\)/.exec(body);
  if (lead) {
    inline = lead[1];
    body = body.slice(lead[0].length);
  }
  if (inline.includes("x")) body = stripVerbose(body);
  if (/\(\?[aiLmsux]+\)/.test(body) || /\(\?\(/.test(body) || /\(\?>/.test(body) || /[*+?}]\+/.test(body.replace(/\\./g, "_"))) {
    throw new ModuleFailure(`Unsupported Python regular expression construct in ${JSON.stringify(pattern)}`, {});
  }
  let jsFlags = flags;
  for (const f of inline) {
    if (f === "i" && !jsFlags.includes("i")) jsFlags += "i";
    if (f === "m" && !jsFlags.includes("m")) jsFlags += "m";
    if (f === "s" && !jsFlags.includes("s")) jsFlags += "s";
  }
  // Without the m flag, ^ and $ mean \A and \Z already (and keep the pattern linear-time).
  const multiline = jsFlags.includes("m");
  body = body
    .replace(/\\\\|\(\?P<|\(\?P=(\w+)\)|\\A|\\Z/g, (m, name: string | undefined) => {
      if (m === "\\\\") return m;
      if (m === "(?P<") return "(?<";
      if (name) return `\\k<${name}>`;
      if (m === "\\A") return multiline ? "(?<![\\s\\S])" : "^";
      return multiline ? "(?![\\s\\S])" : "$"; // \Z: the very end
    });
  try {
    // Time-bounded: the pattern comes from a playbook and runs on the controller.
    return { regex: boundedRegExp(body, jsFlags), multiline: inline.includes("m") };
  } catch (e) {
    throw new ModuleFailure(`Invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`, {});
  }
}

function stripVerbose(body: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === "\\") {
      out += c + (body[i + 1] ?? "");
      i++;
    } else if (inClass) {
      if (c === "]") inClass = false;
      out += c;
    } else if (c === "[") {
      inClass = true;
      out += c;
    } else if (c === "#") {
      while (i < body.length && body[i] !== "\n") i++;
    } else if (!/\s/.test(c)) {
      out += c;
    }
  }
  return out;
}

/** Python's Match.expand: `\1`, `\g<1>`, `\g<name>` (unmatched groups give ""). */
export function expandTemplate(template: string, match: RegExpExecArray | RegExpMatchArray): string {
  return template.replace(/\\(g<(\w+)>|\d{1,2}|[ntrfva\\])/g, (all, what: string, ref: string | undefined) => {
    if (ref !== undefined) {
      const group = /^\d+$/.test(ref) ? match[Number(ref)] : match.groups?.[ref];
      if (group === undefined && !(/^\d+$/.test(ref) ? Number(ref) < match.length : ref in (match.groups ?? {}))) {
        throw new ModuleFailure(`invalid group reference ${ref} in ${JSON.stringify(template)}`, {});
      }
      return group ?? "";
    }
    if (/^\d+$/.test(what)) {
      if (Number(what) >= match.length) throw new ModuleFailure(`invalid group reference ${what} in ${JSON.stringify(template)}`, {});
      return match[Number(what)] ?? "";
    }
    const escapes: Record<string, string> = { n: "\n", t: "\t", r: "\r", f: "\f", v: "\v", a: "\x07", "\\": "\\" };
    return escapes[what] ?? all;
  });
}
