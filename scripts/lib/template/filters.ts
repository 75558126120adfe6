/**
 * Ansible's most used filters (and Jinja's), with Python semantics. Every filter fails on an
 * undefined input (strict undefined) except default/d and mandatory, which exist to handle it.
 * Each is also registered under its long name (ansible.builtin.X).
 */
import { createHash, randomBytes } from "node:crypto";
import { homedir } from "node:os";
import { basename, extname, posix } from "node:path";
import { stringify as yamlStringify } from "yaml";
import { quote } from "../shell/quote.ts";
import { Secret } from "../shell/secret.ts";
import { MAX_NESTING, parseYaml } from "../yaml/load.ts";
import { memberLookup } from "./engine.ts";
import { isUndefined, TemplateError, type Undefined } from "./errors.ts";
import { comment } from "./comment.ts";
import { isMapping, pyCompare, pyEquals, pyRepr, pySplit, pyStr, splitKwargs, truthy, typeName, unwrapSecret } from "./python.ts";
import { pythonRegex } from "./regex.ts";
import { sha512Crypt } from "./sha512-crypt.ts";
import { ipaddrFilter } from "./ipaddr.ts";
import { parseBoolean } from "../boolean.ts";

// deno-lint-ignore no-explicit-any
type Env = any;
type Filter = (value: unknown, ...args: unknown[]) => unknown;

const ACCEPTS_UNDEFINED = new Set(["default", "d", "mandatory"]);

/** Reads `attribute` (dotted paths allowed, `a.0.b`) from a value as Jinja's attribute getter. */
export function attribute(value: unknown, path: string | number): unknown {
  if (typeof path === "number") return memberLookup(value, path, true);
  let cur = value;
  for (const part of path.split(".")) cur = memberLookup(cur, /^\d+$/.test(part) && Array.isArray(cur) ? Number(part) : part, true);
  return cur;
}

function toList(value: unknown, filter: string): unknown[] {
  value = unwrapSecret(value);
  if (Array.isArray(value)) return value;
  if (typeof value === "string") return [...value];
  if (isMapping(value)) return Object.keys(value);
  if (value instanceof Set) return [...value];
  if (value === null || value === undefined) throw new TemplateError(`${filter}: expected a list, got None`);
  throw new TemplateError(`${filter}: expected a list, got ${typeName(value)}`);
}

function uniqueList(list: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const x of list) if (!out.some((y) => pyEquals(x, y))) out.push(x);
  return out;
}

function toBool(value: unknown): boolean {
  value = unwrapSecret(value);
  return parseBoolean(value) === true;
}

function toInt(value: unknown, fallback = 0, base = 10): number {
  value = unwrapSecret(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number") return Number.isFinite(value) ? Math.trunc(value) : fallback;
  if (typeof value === "string") {
    let s = value.trim().replace(/_/g, "");
    if (base === 16) s = s.replace(/^0x/i, "");
    else if (base === 8) s = s.replace(/^0o/i, "");
    else if (base === 2) s = s.replace(/^0b/i, "");
    const digits = base === 16 ? /^[-+]?[0-9a-f]+$/i : base === 8 ? /^[-+]?[0-7]+$/ : base === 2 ? /^[-+]?[01]+$/ : /^[-+]?\d+$/;
    if (digits.test(s)) return parseInt(s, base);
    if (base === 10 && /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s)) return Math.trunc(parseFloat(s));
  }
  return fallback;
}

function toFloat(value: unknown, fallback = 0): number {
  value = unwrapSecret(value);
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "string" && /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(value)) return parseFloat(value);
  if (typeof value === "string" && /^\s*[-+]?(inf|infinity|nan)\s*$/i.test(value)) return parseFloat(value.replace(/inf(inity)?/i, "Infinity"));
  return fallback;
}

function deepCombine(a: Record<string, unknown>, b: Record<string, unknown>, recursive: boolean, listMerge: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const old = out[k];
    if (recursive && isMapping(old) && isMapping(v)) out[k] = deepCombine(old, v, recursive, listMerge);
    else if (Array.isArray(old) && Array.isArray(v) && listMerge !== "replace") {
      if (listMerge === "keep") out[k] = old;
      else if (listMerge === "append") out[k] = [...old, ...v];
      else if (listMerge === "prepend") out[k] = [...v, ...old];
      else if (listMerge === "append_rp") out[k] = [...old.filter((x) => !v.some((y) => pyEquals(x, y))), ...v];
      else if (listMerge === "prepend_rp") out[k] = [...v, ...old.filter((x) => !v.some((y) => pyEquals(x, y)))];
      else throw new TemplateError(`combine: unknown list_merge "${listMerge}"`);
    } else out[k] = v;
  }
  return out;
}

function flatten(list: unknown[], levels?: number, skipNulls = true): unknown[] {
  const out: unknown[] = [];
  for (const x of list) {
    // Appended one by one: a spread of a long list overflows the call stack.
    if (Array.isArray(x) && (levels === undefined || levels > 0)) for (const y of flatten(x, levels === undefined ? undefined : levels - 1, skipNulls)) out.push(y);
    else if (!(skipNulls && (x === null || x === "None"))) out.push(x);
  }
  return out;
}

function toYaml(value: unknown, indent: number, nice: boolean): string {
  const plain = JSON.parse(JSON.stringify(value, function (this: Record<string, unknown>, k: string, v: unknown) {
    const raw = this[k]; // JSON.stringify has already called toJSON (a Secret's "***"): look at the value itself
    return raw instanceof Secret ? unwrapSecret(raw) : v;
  }));
  return yamlStringify(plain, { indent, lineWidth: nice ? 0 : 80, defaultStringType: "PLAIN", sortMapEntries: false });
}

function jsonReplacer(this: Record<string, unknown>, k: string, v: unknown): unknown {
  if (isUndefined(v)) (v as Undefined).fail();
  // JSON.stringify has already called toJSON (a Secret's "***"): look at the value itself.
  const raw = this[k];
  return raw instanceof Secret ? unwrapSecret(raw) : v;
}

function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (isMapping(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeysDeep(v[k])]));
  return v;
}

/** Python's json.dumps layout: ", " and ": " separators. */
function pythonJson(value: unknown, sortKeys: boolean): string {
  const v = JSON.parse(JSON.stringify(value, jsonReplacer) ?? "null");
  const walk = (x: unknown): string => {
    if (Array.isArray(x)) return `[${x.map(walk).join(", ")}]`;
    if (isMapping(x)) {
      const keys = sortKeys ? Object.keys(x).sort() : Object.keys(x);
      return `{${keys.map((k) => `${JSON.stringify(k)}: ${walk(x[k])}`).join(", ")}}`;
    }
    return JSON.stringify(x);
  };
  return walk(v);
}

/** Python's random with a seed is not reproducible here; a seeded value is stable per seed instead. */
function seededRandom(seed: unknown): () => number {
  let h = createHash("sha256").update(pyStr(seed)).digest();
  let i = 0;
  return () => {
    if (i + 4 > h.length) {
      h = createHash("sha256").update(h).digest();
      i = 0;
    }
    const n = h.readUInt32BE(i);
    i += 4;
    return n / 2 ** 32;
  };
}

export function makeFilters(env: Env): Record<string, Filter> {
  const kwargs = splitKwargs;
  const filters: Record<string, Filter> = {
    default(value, ...rest) {
      const [args, kw] = kwargs(rest);
      const fallback = args[0] ?? kw.default_value ?? "";
      const boolean = args[1] ?? kw.boolean ?? false;
      if (isUndefined(value) || value === undefined) return fallback;
      if (boolean && !truthy(value)) return fallback;
      return value;
    },
    mandatory(value, msg) {
      if (isUndefined(value)) {
        throw new TemplateError(typeof msg === "string" ? msg : `Mandatory variable "${(value as Undefined).name}" not defined`, {
          variable: (value as Undefined).name,
          hint: "define it in defaults/, group_vars/, host_vars/ or with -e",
        });
      }
      return value;
    },
    bool: (v) => toBool(v),
    int: (v, ...rest) => {
      const [args, kw] = kwargs(rest);
      return toInt(v, (args[0] ?? kw.default ?? 0) as number, (args[1] ?? kw.base ?? 10) as number);
    },
    float: (v, fallback) => toFloat(v, (fallback ?? 0) as number),
    string: (v) => pyStr(v),
    lower: (v) => pyStr(v).toLowerCase(),
    upper: (v) => pyStr(v).toUpperCase(),
    capitalize: (v) => {
      const s = pyStr(v);
      return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
    },
    title: (v) => pyStr(v).toLowerCase().replace(/(^|[^a-zA-Z0-9'])([a-z])/g, (_m, p: string, c: string) => p + c.toUpperCase()),
    trim: (v, chars) => {
      const s = pyStr(v);
      if (typeof chars !== "string") return s.trim();
      let a = 0;
      let b = s.length;
      while (a < b && chars.includes(s[a])) a++;
      while (b > a && chars.includes(s[b - 1])) b--;
      return s.slice(a, b);
    },
    replace: (v, old, replacement, count) => {
      const s = pyStr(v);
      if (count === undefined || count === null) return s.split(pyStr(old)).join(pyStr(replacement));
      let out = s;
      let from = 0;
      for (let i = 0; i < (count as number); i++) {
        const at = out.indexOf(pyStr(old), from);
        if (at < 0) break;
        out = out.slice(0, at) + pyStr(replacement) + out.slice(at + pyStr(old).length);
        from = at + pyStr(replacement).length;
      }
      return out;
    },
    join: (v, ...rest) => {
      const [args, kw] = kwargs(rest);
      const sep = (args[0] ?? kw.d ?? "") as string;
      const attr = (args[1] ?? kw.attribute) as string | undefined;
      const list = toList(v, "join");
      return list.map((x) => pyStr(attr === undefined ? x : attribute(x, attr))).join(pyStr(sep));
    },
    split: (v, sep, maxsplit) => pySplit(pyStr(v), sep as string | undefined, (maxsplit ?? -1) as number),
    length: (v) => {
      v = unwrapSecret(v);
      if (typeof v === "string" || Array.isArray(v)) return v.length;
      if (isMapping(v)) return Object.keys(v).length;
      if (v === null || v === undefined) throw new TemplateError("length: None has no length", { hint: "Use `x | default([]) | length`." });
      throw new TemplateError(`length: ${typeName(v)} has no length`);
    },
    first: (v) => {
      const list = toList(v, "first");
      // Jinja: an empty sequence gives Undefined, so `| first | default(x)` works.
      return list.length ? list[0] : undefined;
    },
    last: (v) => {
      const list = toList(v, "last");
      return list.length ? list[list.length - 1] : undefined;
    },
    min: (v, ...rest) => {
      const [, kw] = kwargs(rest);
      const list = toList(v, "min");
      const key = (x: unknown) => (kw.attribute ? attribute(x, kw.attribute as string) : x);
      return list.length ? list.reduce((a, b) => (pyCompare(key(b), key(a)) < 0 ? b : a)) : undefinedItem("min", "the list is empty");
    },
    max: (v, ...rest) => {
      const [, kw] = kwargs(rest);
      const list = toList(v, "max");
      const key = (x: unknown) => (kw.attribute ? attribute(x, kw.attribute as string) : x);
      return list.length ? list.reduce((a, b) => (pyCompare(key(b), key(a)) > 0 ? b : a)) : undefinedItem("max", "the list is empty");
    },
    sum: (v, ...rest) => {
      const [args, kw] = kwargs(rest);
      const attr = (args[0] ?? kw.attribute) as string | undefined;
      let total: unknown = args[1] ?? kw.start ?? 0;
      for (const x of toList(v, "sum")) {
        const item = attr ? attribute(x, attr) : x;
        total = Array.isArray(total) && Array.isArray(item) ? [...total, ...item] : Number(total) + Number(item);
      }
      return total;
    },
    sort: (v, ...rest) => {
      const [args, kw] = kwargs(rest);
      const reverse = Boolean(args[0] ?? kw.reverse ?? false);
      const caseSensitive = Boolean(args[1] ?? kw.case_sensitive ?? false);
      const attr = (args[2] ?? kw.attribute) as string | undefined;
      const key = (x: unknown) => {
        const k = attr ? attribute(x, attr) : x;
        return !caseSensitive && typeof k === "string" ? k.toLowerCase() : k;
      };
      const out = [...toList(v, "sort")].sort((a, b) => pyCompare(key(a), key(b)));
      return reverse ? out.reverse() : out;
    },
    unique: (v) => uniqueList(toList(v, "unique")),
    reverse: (v) => (typeof v === "string" ? [...v].reverse().join("") : [...toList(v, "reverse")].reverse()),
    list: (v) => [...toList(v, "list")],
    dict2items: (v, ...rest) => {
      const [, kw] = kwargs(rest);
      if (!isMapping(v)) throw new TemplateError(`dict2items requires a dictionary, got ${typeName(v)}`);
      const k = (kw.key_name ?? "key") as string;
      const val = (kw.value_name ?? "value") as string;
      return Object.keys(v).map((key) => ({ [k]: key, [val]: memberLookup(v, key) }));
    },
    items2dict: (v, ...rest) => {
      const [, kw] = kwargs(rest);
      const k = (kw.key_name ?? "key") as string;
      const val = (kw.value_name ?? "value") as string;
      const out: Record<string, unknown> = {};
      for (const item of toList(v, "items2dict")) {
        if (!isMapping(item)) throw new TemplateError(`items2dict expects a list of mappings with "${k}" and "${val}", got ${typeName(item)}`);
        out[pyStr(item[k])] = item[val];
      }
      return out;
    },
    combine: (v, ...rest) => {
      const [args, kw] = kwargs(rest);
      const dicts = [v, ...args].flatMap((d) => (Array.isArray(d) ? d : [d]));
      let out: Record<string, unknown> = {};
      for (const d of dicts) {
        if (!isMapping(d)) throw new TemplateError(`combine expects dictionaries, got ${typeName(d)}`);
        out = deepCombine(out, d, Boolean(kw.recursive), String(kw.list_merge ?? "replace"));
      }
      return out;
    },
    dict: (v) => {
      const out: Record<string, unknown> = {};
      for (const pair of toList(v, "dict")) {
        if (!Array.isArray(pair) || pair.length !== 2) throw new TemplateError("dict expects a list of [key, value] pairs");
        out[pyStr(pair[0])] = pair[1];
      }
      return out;
    },
    zip: (v, ...others) => {
      const lists = [v, ...kwargs(others)[0]].map((l) => toList(l, "zip"));
      const n = Math.min(...lists.map((l) => l.length));
      return Array.from({ length: n }, (_, i) => lists.map((l) => l[i]));
    },
    zip_longest: (v, ...others) => {
      const [args, kw] = kwargs(others);
      const lists = [v, ...args].map((l) => toList(l, "zip_longest"));
      const n = Math.max(...lists.map((l) => l.length));
      return Array.from({ length: n }, (_, i) => lists.map((l) => (i < l.length ? l[i] : kw.fillvalue ?? null)));
    },
    flatten: (v, ...rest) => {
      const [args, kw] = kwargs(rest);
      const levels = (args[0] ?? kw.levels) as number | undefined;
      return flatten(toList(v, "flatten"), levels ?? undefined, Boolean(kw.skip_nulls ?? true));
    },
    map: (v, ...rest) => {
      const [args, kw] = kwargs(rest);
      const list = toList(v, "map");
      if (kw.attribute !== undefined) {
        return list.map((x) => {
          const r = attribute(x, kw.attribute as string);
          return isUndefined(r) && "default" in kw ? kw.default : r;
        });
      }
      const name = args[0] as string;
      if (typeof name !== "string") throw new TemplateError("map needs a filter name or attribute='...'");
      const f = env.getFilter(name);
      return list.map((x) => f(x, ...args.slice(1)));
    },
    select: (v, ...rest) => selectWith(env, v, rest, true, false),
    reject: (v, ...rest) => selectWith(env, v, rest, false, false),
    selectattr: (v, ...rest) => selectWith(env, v, rest, true, true),
    rejectattr: (v, ...rest) => selectWith(env, v, rest, false, true),
    regex_replace: (v, pattern, replacement = "", ...rest) => {
      const [args, kw] = kwargs(rest);
      const flags = (kw.ignorecase ? "i" : "") + (kw.multiline ? "m" : "");
      const count = (args[2] ?? kw.count ?? 0) as number;
      const re = pythonRegex(pyStr(pattern), flags + "g");
      let n = 0;
      return pyStr(v).replace(re, (...m) => {
        if (count > 0 && n >= count) return m[0];
        n++;
        return expandReplacement(pyStr(replacement), m);
      });
    },
    regex_search: (v, pattern, ...rest) => {
      const [args, kw] = kwargs(rest);
      const flags = (kw.ignorecase ? "i" : "") + (kw.multiline ? "m" : "");
      const m = pythonRegex(pyStr(pattern), flags).exec(pyStr(v));
      if (!m) return null;
      if (args.length === 0) return m[0];
      return args.map((g) => {
        const ref = /^\\(\d+)$/.exec(String(g)) ?? /^\\g<(\w+)>$/.exec(String(g));
        if (!ref) throw new TemplateError(`regex_search: unknown group reference ${pyRepr(g)} (write '\\\\1' or '\\\\g<name>')`);
        return /^\d+$/.test(ref[1]) ? m[Number(ref[1])] ?? null : m.groups?.[ref[1]] ?? null;
      });
    },
    regex_findall: (v, pattern, ...rest) => {
      const [, kw] = kwargs(rest);
      const flags = (kw.ignorecase ? "i" : "") + (kw.multiline ? "m" : "");
      const re = pythonRegex(pyStr(pattern), flags + "g");
      return [...pyStr(v).matchAll(re)].map((m) => (m.length === 1 ? m[0] : m.length === 2 ? m[1] ?? "" : m.slice(1).map((g) => g ?? "")));
    },
    regex_escape: (v) => pyStr(v).replace(/[.*+?^${}()|[\]\\\/-]/g, "\\$&"),
    quote: (v) => quote(pyStr(v)),
    urlencode: (v) => urlencode(v),
    to_json: (v, ...rest) => {
      const [, kw] = kwargs(rest);
      return pythonJson(v, Boolean(kw.sort_keys));
    },
    to_nice_json: (v, ...rest) => {
      const [, kw] = kwargs(rest);
      const indent = (kw.indent ?? 4) as number;
      const sorted = sortKeysDeep(JSON.parse(JSON.stringify(v, jsonReplacer) ?? "null"));
      return JSON.stringify(kw.sort_keys === false ? JSON.parse(JSON.stringify(v, jsonReplacer)) : sorted, null, indent);
    },
    from_json: (v) => {
      let data: unknown;
      try {
        data = JSON.parse(pyStr(v));
      } catch (e) {
        throw new TemplateError(`from_json: not valid JSON: ${(e as Error).message}`);
      }
      // As for YAML: data this deep would overflow the stack of every later walk over it.
      if (nestedDeeperThan(data, MAX_NESTING)) throw new TemplateError(`from_json: the data is nested more than ${MAX_NESTING} levels deep`);
      return data;
    },
    to_yaml: (v, ...rest) => toYaml(v, ((kwargs(rest)[1].indent as number) ?? 2), false),
    to_nice_yaml: (v, ...rest) => toYaml(v, ((kwargs(rest)[1].indent as number) ?? 4), true),
    from_yaml: (v) => (typeof v === "string" ? parseYaml(v, "from_yaml") : v),
    from_yaml_all: (v) => pyStr(v).split(/^---\s*$/m).filter((d) => d.trim() !== "").map((d) => parseYaml(d, "from_yaml_all")),
    b64encode: (v) => Buffer.from(pyStr(v), "utf8").toString("base64"),
    b64decode: (v) => Buffer.from(pyStr(v), "base64").toString("utf8"),
    hash: (v, algorithm = "sha1") => createHash(normalizeHash(String(algorithm))).update(pyStr(v)).digest("hex"),
    checksum: (v) => createHash("sha1").update(pyStr(v)).digest("hex"),
    md5: (v) => createHash("md5").update(pyStr(v)).digest("hex"),
    sha1: (v) => createHash("sha1").update(pyStr(v)).digest("hex"),
    password_hash: (v, scheme = "sha512", salt, ...rest) => {
      const [args, kw] = kwargs(rest);
      const rounds = (args[0] ?? kw.rounds) as number | undefined;
      const s = String(scheme).replace(/_crypt$/, "");
      if (s !== "sha512") throw new TemplateError(`password_hash: only sha512 is supported, not "${scheme}"`, { hint: "Use password_hash('sha512')." });
      const theSalt = typeof salt === "string" ? salt : randomSalt();
      return sha512Crypt(pyStr(v), theSalt, rounds);
    },
    basename: (v) => basename(pyStr(v)),
    dirname: (v) => {
      const s = pyStr(v);
      const d = posix.dirname(s);
      return d === "." && !s.startsWith(".") ? "" : d;
    },
    expanduser: (v) => pyStr(v).replace(/^~(?=$|\/)/, homedir()),
    splitext: (v) => {
      const s = pyStr(v);
      const ext = extname(s);
      return [s.slice(0, s.length - ext.length), ext];
    },
    path_join: (v) => posix.join(...toList(v, "path_join").map(pyStr)).replace(/^(?!\/)/, (m) => m),
    realpath: (v) => pyStr(v),
    ternary: (v, yes, no, none) => {
      if ((v === null || v === undefined) && none !== undefined) return none;
      return truthy(v) ? yes : no;
    },
    difference: (a, b) => uniqueList(toList(a, "difference").filter((x) => !toList(b, "difference").some((y) => pyEquals(x, y)))),
    intersect: (a, b) => uniqueList(toList(a, "intersect").filter((x) => toList(b, "intersect").some((y) => pyEquals(x, y)))),
    union: (a, b) => uniqueList([...toList(a, "union"), ...toList(b, "union")]),
    symmetric_difference: (a, b) => {
      const la = toList(a, "symmetric_difference");
      const lb = toList(b, "symmetric_difference");
      return uniqueList([...la.filter((x) => !lb.some((y) => pyEquals(x, y))), ...lb.filter((x) => !la.some((y) => pyEquals(x, y)))]);
    },
    random: (v, ...rest) => {
      const [args, kw] = kwargs(rest);
      const rnd = kw.seed !== undefined ? seededRandom(kw.seed) : Math.random;
      if (typeof v === "number") {
        const start = (args[0] ?? kw.start ?? 0) as number;
        const step = (args[1] ?? kw.step ?? 1) as number;
        const count = Math.ceil((v - start) / step);
        return start + Math.floor(rnd() * Math.max(count, 1)) * step;
      }
      const list = toList(v, "random");
      return list[Math.floor(rnd() * list.length)];
    },
    shuffle: (v, ...rest) => {
      const [, kw] = kwargs(rest);
      const rnd = kw.seed !== undefined ? seededRandom(kw.seed) : Math.random;
      const out = [...toList(v, "shuffle")];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
    extract: (key, container, morekeys) => {
      let v = memberLookup(container, key);
      for (const k of morekeys === undefined ? [] : Array.isArray(morekeys) ? morekeys : [morekeys]) v = memberLookup(v, k);
      return v;
    },
    type_debug: (v) => typeName(v),
    abs: (v) => Math.abs(Number(v)),
    round: (v, precision = 0, method = "common") => {
      const f = 10 ** (precision as number);
      const n = Number(v) * f;
      return (method === "ceil" ? Math.ceil(n) : method === "floor" ? Math.floor(n) : Math.round(n)) / f;
    },
    format: (v, ...rest) => {
      const [args] = kwargs(rest);
      let i = 0;
      return pyStr(v).replace(/%([sdrf%])/g, (_m, c: string) => (c === "%" ? "%" : c === "r" ? pyRepr(args[i++]) : c === "d" ? String(Math.trunc(Number(args[i++]))) : pyStr(args[i++])));
    },
    items: (v) => (isMapping(v) ? Object.keys(v).map((k) => [k, memberLookup(v, k)]) : toList(v, "items")),
    indent: (v, ...rest) => {
      // Jinja's do_indent, quirks included (a trailing newline survives, blank lines stay empty).
      const [args, kw] = kwargs(rest);
      const width = args[0] ?? kw.width ?? 4;
      const first = Boolean(args[1] ?? kw.first ?? false);
      const blank = Boolean(args[2] ?? kw.blank ?? false);
      const pad = typeof width === "string" ? width : " ".repeat(Number(width));
      const lines = (pyStr(v) + "\n").split(/\r\n|\r|\n/);
      lines.pop();
      let out = blank ? lines.join("\n" + pad) : lines[0] + lines.slice(1).map((l) => "\n" + (l ? pad + l : l)).join("");
      if (first) out = pad + out;
      return out;
    },
    groupby: (v, ...rest) => {
      // Jinja's groupby: a sorted list of [grouper, items] pairs.
      const [args, kw] = kwargs(rest);
      const attr = (args[0] ?? kw.attribute) as string;
      const groups: Array<[unknown, unknown[]]> = [];
      for (const item of toList(v, "groupby")) {
        const key = attribute(item, attr);
        const g = groups.find(([k]) => pyEquals(k, key));
        if (g) g[1].push(item);
        else groups.push([key, [item]]);
      }
      return groups.sort((a, b) => pyCompare(a[0], b[0]));
    },
    subelements: (v, ...rest) => {
      const [args, kw] = kwargs(rest);
      const attr = String(args[0]);
      const skipMissing = Boolean(args[1] ?? kw.skip_missing ?? false);
      const out: unknown[] = [];
      for (const item of toList(v, "subelements")) {
        const subs = attribute(item, attr);
        if (isUndefined(subs)) {
          if (skipMissing) continue;
          throw new TemplateError(`subelements: an item has no "${attr}"`, { hint: "Pass skip_missing=True to skip such items." });
        }
        if (!Array.isArray(subs)) throw new TemplateError(`subelements: "${attr}" must be a list, got ${typeName(subs)}`);
        for (const sub of subs) out.push([item, sub]);
      }
      return out;
    },
    product: (v, ...rest) => {
      const lists = [v, ...kwargs(rest)[0]].map((l) => toList(l, "product"));
      return lists.reduce<unknown[][]>((acc, l) => acc.flatMap((prefix) => l.map((x) => [...prefix, x])), [[]]);
    },
    comment: (v, ...rest) => {
      const [args, kw] = kwargs(rest);
      return comment(v, args[0] === undefined ? "plain" : pyStr(args[0]), kw);
    },
    ipaddr: (v, q) => ipaddrFilter(v, q),
    ipv4: (v, q) => ipaddrFilter(v, q, 4),
    ipv6: (v, q) => ipaddrFilter(v, q, 6),
    version_compare: (a, b, op = "ge") => compareVersionsOp(pyStr(a), pyStr(b), String(op)),
    human_to_bytes: (v) => humanToBytes(pyStr(v)),
  };
  filters.d = filters.default;
  filters.count = filters.length;
  filters.e = (v) => pyStr(v);
  return filters;
}

function undefinedItem(filter: string, why: string): never {
  throw new TemplateError(`${filter}: ${why}`);
}

function normalizeHash(name: string): string {
  const n = name.toLowerCase().replace(/-/g, "");
  if (!["md5", "sha1", "sha224", "sha256", "sha384", "sha512"].includes(n)) throw new TemplateError(`hash: unknown algorithm "${name}"`, { hint: "Use md5, sha1, sha256 or sha512." });
  return n;
}

/** Jinja's urlencode: Python's quote() with "/" kept for a string; a dict or pair list becomes a query string. */
function urlencode(v: unknown): string {
  const q = (s: string, forQuery: boolean) => {
    const e = encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    return forQuery ? e.replace(/%20/g, "+") : e.replace(/%2F/g, "/");
  };
  if (isMapping(v)) return Object.entries(v).map(([k, x]) => `${q(pyStr(k), true)}=${q(pyStr(x), true)}`).join("&");
  if (Array.isArray(v)) return v.map((p) => (Array.isArray(p) ? `${q(pyStr(p[0]), true)}=${q(pyStr(p[1]), true)}` : q(pyStr(p), true))).join("&");
  return q(pyStr(v), false);
}

function randomSalt(): string {
  const chars = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  return [...randomBytes(16)].map((b) => chars[b % 64]).join("");
}

function humanToBytes(s: string): number {
  const m = /^\s*([\d.]+)\s*([KMGTPE]?)(i?)B?\s*$/i.exec(s);
  if (!m) throw new TemplateError(`human_to_bytes: cannot read "${s}"`);
  const power = "KMGTPE".indexOf(m[2].toUpperCase()) + 1;
  return Math.round(parseFloat(m[1]) * 1024 ** power);
}

/** Python's re.sub replacement: \1, \g<1>, \g<name>, \\. */
function expandReplacement(template: string, m: unknown[]): string {
  const last = m[m.length - 1];
  const groups = typeof last === "object" && last !== null ? (last as Record<string, string>) : undefined;
  return template.replace(/\\(\d+)|\\g<(\w+)>|\\(n|t|\\)/g, (_all, num: string | undefined, named: string | undefined, esc: string | undefined) => {
    if (esc) return esc === "n" ? "\n" : esc === "t" ? "\t" : "\\";
    const ref = num ?? named!;
    if (/^\d+$/.test(ref)) return (m[Number(ref)] as string | undefined) ?? "";
    return groups?.[ref] ?? "";
  });
}

function selectWith(env: Env, value: unknown, rest: unknown[], keep: boolean, byAttribute: boolean): unknown[] {
  const [args] = splitKwargs(rest);
  const list = toList(value, byAttribute ? (keep ? "selectattr" : "rejectattr") : keep ? "select" : "reject");
  let attr: string | undefined;
  let testArgs = args;
  if (byAttribute) {
    attr = String(args[0]);
    testArgs = args.slice(1);
  }
  const testName = testArgs[0] as string | undefined;
  const test = testName === undefined ? (v: unknown) => truthy(v) : (v: unknown) => env.getTest(testName).call(null, v, ...testArgs.slice(1)) === true;
  return list.filter((item) => {
    const v = attr === undefined ? item : attribute(item, attr);
    // Jinja's selectattr on a missing attribute: undefined (tests like `defined` see it; truthiness is false).
    const ok = testName === undefined && isUndefined(v) ? false : test(v);
    return ok === keep;
  });
}

/** LooseVersion-like comparison: numeric parts numerically, others as text. */
export function compareVersions(a: string, b: string): number {
  const parts = (s: string) => s.split(/[.\-+_~]|(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)/i).filter((p) => p !== "");
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d < 0 ? -1 : 1;
    } else if (nx !== ny) return nx ? 1 : -1;
    else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export function compareVersionsOp(a: string, b: string, op: string): boolean {
  const c = compareVersions(a, b);
  switch (op) {
    case "lt":
    case "<":
      return c < 0;
    case "le":
    case "<=":
      return c <= 0;
    case "gt":
    case ">":
      return c > 0;
    case "ge":
    case ">=":
      return c >= 0;
    case "eq":
    case "==":
    case "=":
      return c === 0;
    case "ne":
    case "!=":
    case "<>":
      return c !== 0;
  }
  throw new TemplateError(`version: unknown operator "${op}"`, { hint: "Use one of lt, le, gt, ge, eq, ne (or <, <=, >, >=, ==, !=)." });
}

/** Registers the filters (wrapped for strict undefined and Secret unwrapping) on the environment. */
export function installFilters(env: Env): void {
  const filters = makeFilters(env);
  const wrap = (name: string, f: (...a: unknown[]) => unknown) =>
    function (this: unknown, ...args: unknown[]) {
      if (!ACCEPTS_UNDEFINED.has(name)) for (const a of args) if (isUndefined(a)) (a as Undefined).fail();
      return f.apply(this, args.map((a) => (a instanceof Secret ? unwrapSecret(a) : a)));
    };
  // Jinja's own filters that nunjucks provides keep working, with the same strictness.
  for (const [name, f] of Object.entries(env.filters as Record<string, (...a: unknown[]) => unknown>)) {
    if (!(name in filters)) env.addFilter(name, wrap(name, f));
  }
  for (const [name, f] of Object.entries(filters)) {
    const wrapped = wrap(name, f as (...a: unknown[]) => unknown);
    env.addFilter(name, wrapped);
    env.addFilter(`ansible.builtin.${name}`, wrapped);
  }
  for (const name of ["ipaddr", "ipv4", "ipv6"]) {
    env.addFilter(`ansible.utils.${name}`, env.getFilter(name));
    env.addFilter(`ansible.netcommon.${name}`, env.getFilter(name));
  }
  env.addFilter("community.general.dict", env.getFilter("dict"));
}

/** Whether lists/mappings nest deeper than `max` levels (an explicit stack: no recursion). */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth >= max) return true;
    for (const child of Object.values(v)) if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
  }
  return false;
}
