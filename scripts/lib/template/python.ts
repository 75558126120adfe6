/**
 * Python value semantics inside templates: str() of values (True, None, ['a']), truthiness
 * (empty list is false), equality and ordering, and the str/list/dict methods Ansible users call
 * (`x.split(',')`, `d.items()`, `s.startswith('a')`).
 */
import { Secret } from "../shell/secret.ts";
import { isUndefined, TemplateError, type Undefined } from "./errors.ts";

/** Counts Secret values read while rendering: a render that saw one yields a Secret. */
export const secretUse = { count: 0 };

/** The text of a Secret (counted), anything else as is. */
export function unwrapSecret<T>(v: T): T | string {
  if (v instanceof Secret) {
    secretUse.count++;
    return v.reveal();
  }
  return v;
}

export function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Secret) && !isUndefined(v);
}

/** Python's str(). */
export function pyStr(v: unknown): string {
  if (typeof v === "string") return v;
  if (v instanceof Secret) return unwrapSecret(v) as string;
  if (isUndefined(v)) (v as Undefined).fail();
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "number") return pyNumber(v);
  return pyRepr(v);
}

function pyNumber(n: number): string {
  if (Number.isNaN(n)) return "nan";
  if (!Number.isFinite(n)) return n > 0 ? "inf" : "-inf";
  return String(n);
}

/** Python's repr(): strings single-quoted, lists and dicts as Python prints them. */
export function pyRepr(v: unknown): string {
  if (typeof v === "string") {
    const q = v.includes("'") && !v.includes('"') ? '"' : "'";
    const body = v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t");
    return q + (q === "'" ? body.replace(/'/g, "\\'") : body) + q;
  }
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  if (v instanceof Secret) return pyRepr(unwrapSecret(v));
  if (isMapping(v)) return `{${Object.entries(v).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(", ")}}`;
  return pyStr(v);
}

/** Python truthiness; an Undefined fails (Ansible's strict undefined). */
export function truthy(v: unknown): boolean {
  if (isUndefined(v)) (v as Undefined).fail();
  if (v === null || v === undefined) return false;
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Secret) return v.reveal().length > 0;
  if (v instanceof Map || v instanceof Set) return v.size > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return Boolean(v);
}

/** Python ==: deep for lists and dicts, no coercion between strings and numbers. */
export function pyEquals(a: unknown, b: unknown): boolean {
  if (isUndefined(a)) (a as Undefined).fail();
  if (isUndefined(b)) (b as Undefined).fail();
  if (a instanceof Secret) a = unwrapSecret(a);
  if (b instanceof Secret) b = unwrapSecret(b);
  if (a === b) return true;
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (typeof a === "boolean" && typeof b === "number") return Number(a) === b;
  if (typeof b === "boolean" && typeof a === "number") return Number(b) === a;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => pyEquals(x, b[i]));
  if (isMapping(a) && isMapping(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && pyEquals(a[k], b[k]));
  }
  return false;
}

/** Python ordering (<): numbers, strings, lists lexicographically; other pairs are a TypeError. */
export function pyLess(a: unknown, b: unknown): boolean {
  if (isUndefined(a)) (a as Undefined).fail();
  if (isUndefined(b)) (b as Undefined).fail();
  a = unwrapSecret(a);
  b = unwrapSecret(b);
  const num = (x: unknown) => typeof x === "number" || typeof x === "boolean";
  if (num(a) && num(b)) return Number(a) < Number(b);
  if (typeof a === "string" && typeof b === "string") return a < b;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (pyLess(a[i], b[i])) return true;
      if (pyLess(b[i], a[i])) return false;
    }
    return a.length < b.length;
  }
  throw new TemplateError(`Cannot compare ${typeName(a)} with ${typeName(b)} using < or >`, {
    hint: "Convert first, e.g. `x | int > 3` or `x | string`.",
  });
}

/** Python's comparison for sorting (-1, 0, 1). */
export function pyCompare(a: unknown, b: unknown): number {
  return pyLess(a, b) ? -1 : pyLess(b, a) ? 1 : 0;
}

export function typeName(v: unknown): string {
  if (v === null || v === undefined) return "NoneType";
  if (typeof v === "string") return "str";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (Array.isArray(v)) return "list";
  if (isUndefined(v)) return "AnsibleUndefined";
  return "dict";
}

/** `in`: substring, list membership (Python equality), dict key. */
export function pyIn(item: unknown, container: unknown): boolean {
  if (isUndefined(container)) (container as Undefined).fail();
  if (isUndefined(item)) (item as Undefined).fail();
  container = unwrapSecret(container);
  if (typeof container === "string") return container.includes(pyStr(item));
  if (Array.isArray(container)) return container.some((x) => pyEquals(x, item));
  if (isMapping(container)) return typeof item === "string" || typeof item === "number" ? Object.hasOwn(container, String(item)) : false;
  if (container === null || container === undefined) {
    throw new TemplateError("Cannot test membership in None (`x in y` with y empty/None)", { hint: "Give y a default: `x in (y | default([]))`." });
  }
  throw new TemplateError(`Cannot test membership in ${typeName(container)}`);
}

/** Python's str.split(sep=None, maxsplit=-1). */
export function pySplit(s: string, sep?: string | null, maxsplit = -1): string[] {
  if (sep === undefined || sep === null) {
    const out: string[] = [];
    let rest = s.replace(/^\s+/, "");
    while (rest !== "") {
      if (maxsplit >= 0 && out.length === maxsplit) {
        out.push(rest);
        break;
      }
      const m = /\s+/.exec(rest);
      if (!m) {
        out.push(rest);
        break;
      }
      out.push(rest.slice(0, m.index));
      rest = rest.slice(m.index + m[0].length);
    }
    return out;
  }
  if (sep === "") throw new TemplateError("empty separator in split()");
  const parts = s.split(sep);
  if (maxsplit < 0 || parts.length <= maxsplit + 1) return parts;
  return [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(sep)];
}

function stripChars(s: string, chars: string | undefined | null, left: boolean, right: boolean): string {
  if (chars === undefined || chars === null) {
    if (left) s = s.replace(/^\s+/, "");
    if (right) s = s.replace(/\s+$/, "");
    return s;
  }
  let a = 0;
  let b = s.length;
  if (left) while (a < b && chars.includes(s[a])) a++;
  if (right) while (b > a && chars.includes(s[b - 1])) b--;
  return s.slice(a, b);
}

/** Python's str.format with {} / {0} / {name} fields (no format specs beyond the plain field). */
export function pyFormat(s: string, args: unknown[], kwargs: Record<string, unknown>): string {
  let auto = 0;
  return s.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (m, field: string | undefined) => {
    if (m === "{{") return "{";
    if (m === "}}") return "}";
    const name = (field ?? "").split(":")[0];
    if (name === "") return pyStr(args[auto++]);
    if (/^\d+$/.test(name)) return pyStr(args[Number(name)]);
    return pyStr(kwargs[name]);
  });
}

type Method = (...args: unknown[]) => unknown;

/** Python str methods, bound to `s`. */
export function stringMethod(s: string, name: string): Method | undefined {
  const kw = (args: unknown[]) => splitKwargs(args);
  switch (name) {
    case "split":
      return (...a) => {
        const [pos, k] = kw(a);
        return pySplit(s, (pos[0] ?? k.sep) as string | undefined, (pos[1] ?? k.maxsplit ?? -1) as number);
      };
    case "rsplit":
      return (...a) => {
        const [pos, k] = kw(a);
        const sep = (pos[0] ?? k.sep) as string | undefined;
        const max = (pos[1] ?? k.maxsplit ?? -1) as number;
        if (max < 0 || sep === undefined || sep === null) return pySplit(s, sep, max < 0 ? -1 : max);
        const parts = s.split(sep);
        if (parts.length <= max + 1) return parts;
        return [parts.slice(0, parts.length - max).join(sep), ...parts.slice(parts.length - max)];
      };
    case "strip":
      return (chars?: unknown) => stripChars(s, chars as string | undefined, true, true);
    case "lstrip":
      return (chars?: unknown) => stripChars(s, chars as string | undefined, true, false);
    case "rstrip":
      return (chars?: unknown) => stripChars(s, chars as string | undefined, false, true);
    case "startswith":
      return (p: unknown) => (Array.isArray(p) ? p.some((x) => s.startsWith(String(x))) : s.startsWith(String(p)));
    case "endswith":
      return (p: unknown) => (Array.isArray(p) ? p.some((x) => s.endsWith(String(x))) : s.endsWith(String(p)));
    case "replace":
      return (a: unknown, b: unknown, count?: unknown) => {
        if (count === undefined || (count as number) < 0) return s.split(String(a)).join(String(b));
        let out = s;
        let from = 0;
        for (let i = 0; i < (count as number); i++) {
          const at = out.indexOf(String(a), from);
          if (at < 0) break;
          out = out.slice(0, at) + String(b) + out.slice(at + String(a).length);
          from = at + String(b).length;
        }
        return out;
      };
    case "lower":
      return () => s.toLowerCase();
    case "upper":
      return () => s.toUpperCase();
    case "capitalize":
      return () => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
    case "title":
      return () => s.toLowerCase().replace(/(^|[^a-zA-Z0-9'])([a-z])/g, (_m, p: string, c: string) => p + c.toUpperCase());
    case "format":
      return (...a) => {
        const [pos, k] = kw(a);
        return pyFormat(s, pos, k);
      };
    case "join":
      return (items: unknown) => (Array.isArray(items) ? items.map(pyStr).join(s) : pyStr(items));
    case "find":
      return (sub: unknown) => s.indexOf(String(sub));
    case "index":
      return (sub: unknown) => {
        const i = s.indexOf(String(sub));
        if (i < 0) throw new TemplateError(`substring ${pyRepr(sub)} not found`);
        return i;
      };
    case "count":
      return (sub: unknown) => (String(sub) === "" ? s.length + 1 : s.split(String(sub)).length - 1);
    case "splitlines":
      return () => s.split(/\r\n|\r|\n/).filter((_, i, arr) => i < arr.length - 1 || arr[i] !== "");
    case "isdigit":
      return () => /^\d+$/.test(s);
    case "isalpha":
      return () => /^[a-zA-Z]+$/.test(s);
    case "isalnum":
      return () => /^[a-zA-Z0-9]+$/.test(s);
    case "isspace":
      return () => /^\s+$/.test(s);
    case "islower":
      return () => /[a-z]/.test(s) && s === s.toLowerCase();
    case "isupper":
      return () => /[A-Z]/.test(s) && s === s.toUpperCase();
    case "zfill":
      return (w: unknown) => (s.startsWith("-") ? "-" + s.slice(1).padStart((w as number) - 1, "0") : s.padStart(w as number, "0"));
    case "center":
      return (w: unknown) => {
        const total = Math.max(0, (w as number) - s.length);
        const left = Math.floor(total / 2);
        return " ".repeat(left) + s + " ".repeat(total - left);
      };
    case "ljust":
      return (w: unknown, fill?: unknown) => s.padEnd(w as number, (fill as string) ?? " ");
    case "rjust":
      return (w: unknown, fill?: unknown) => s.padStart(w as number, (fill as string) ?? " ");
    case "partition":
      return (sep: unknown) => {
        const i = s.indexOf(String(sep));
        return i < 0 ? [s, "", ""] : [s.slice(0, i), String(sep), s.slice(i + String(sep).length)];
      };
    case "rpartition":
      return (sep: unknown) => {
        const i = s.lastIndexOf(String(sep));
        return i < 0 ? ["", "", s] : [s.slice(0, i), String(sep), s.slice(i + String(sep).length)];
      };
    case "encode":
    case "decode":
      return () => s;
  }
  return undefined;
}

/** Python list methods (read-only ones: templates do not mutate). */
export function listMethod(list: unknown[], name: string): Method | undefined {
  switch (name) {
    case "index":
      return (x: unknown) => {
        const i = list.findIndex((y) => pyEquals(y, x));
        if (i < 0) throw new TemplateError(`${pyRepr(x)} is not in list`);
        return i;
      };
    case "count":
      return (x: unknown) => list.filter((y) => pyEquals(y, x)).length;
    case "copy":
      return () => [...list];
  }
  return undefined;
}

/** Python dict methods. */
export function dictMethod(d: Record<string, unknown>, name: string, read: (key: string) => unknown): Method | undefined {
  switch (name) {
    case "keys":
      return () => Object.keys(d);
    case "values":
      return () => Object.keys(d).map(read);
    case "items":
      return () => Object.keys(d).map((k) => [k, read(k)]);
    case "get":
      return (k: unknown, fallback: unknown = null) => (Object.hasOwn(d, String(k)) ? read(String(k)) : fallback);
    case "copy":
      return () => ({ ...d });
  }
  return undefined;
}

/** Separates nunjucks' trailing keyword-arguments object from positional arguments. */
export function splitKwargs(args: unknown[]): [unknown[], Record<string, unknown>] {
  const last = args[args.length - 1] as Record<string, unknown> | undefined;
  if (last && typeof last === "object" && (last as { __keywords?: boolean }).__keywords === true) {
    const { __keywords: _ignored, ...rest } = last;
    return [args.slice(0, -1), rest];
  }
  return [args, {}];
}
