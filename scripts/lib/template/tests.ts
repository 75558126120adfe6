/**
 * Jinja and Ansible tests (`x is defined`, `result is changed`, `v is version('1.2', '>=')`).
 * Only defined/undefined accept an undefined value; the others fail on it (strict undefined).
 */
import { existsSync, lstatSync, statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { Secret } from "../shell/secret.ts";
import { isUndefined, type Undefined } from "./errors.ts";
import { compareVersionsOp } from "./filters.ts";
import { isMapping, pyEquals, pyIn, pyLess, pyStr, truthy, unwrapSecret } from "./python.ts";
import { pythonRegex } from "./regex.ts";

// deno-lint-ignore no-explicit-any
type Env = any;
type Test = (value: unknown, ...args: unknown[]) => boolean;

const ACCEPTS_UNDEFINED = new Set(["defined", "undefined"]);

function resultFlag(v: unknown, key: string): boolean {
  return isMapping(v) && truthy(v[key] ?? false);
}

function isFailed(v: unknown): boolean {
  if (!isMapping(v)) return false;
  if (v.failed !== undefined) return truthy(v.failed);
  // A command's result without `failed` (e.g. from a loop): a non-zero rc is a failure.
  return typeof v.rc === "number" && v.rc !== 0;
}

function regexTest(value: unknown, pattern: unknown, kind: "match" | "search" | "fullmatch", ignorecase: unknown, multiline: unknown): boolean {
  const flags = (ignorecase ? "i" : "") + (multiline ? "m" : "");
  const body = kind === "match" ? `^(?:${pyStr(pattern)})` : kind === "fullmatch" ? `^(?:${pyStr(pattern)})$` : pyStr(pattern);
  // match anchors at the very start (not each line), as Python's re.match; without the m flag
  // ^ and $ already do (and keep the pattern linear-time, see bounded-regex.ts).
  const anchored = multiline ? body.replace(/^\^/, "(?<![\\s\\S])").replace(/\$$/, "(?![\\s\\S])") : body;
  const re = pythonRegex(kind === "search" ? body : anchored, flags);
  return re.test(pyStr(value));
}

export function makeTests(): Record<string, Test> {
  const tests: Record<string, Test> = {
    // JavaScript's undefined (a macro argument not passed) counts as undefined too.
    defined: (v) => !isUndefined(v) && v !== undefined,
    undefined: (v) => isUndefined(v) || v === undefined,
    none: (v) => v === null || v === undefined,
    string: (v) => typeof v === "string" || v instanceof Secret,
    number: (v) => typeof v === "number",
    integer: (v) => typeof v === "number" && Number.isInteger(v),
    float: (v) => typeof v === "number" && !Number.isInteger(v),
    mapping: (v) => isMapping(v),
    iterable: (v) => typeof v === "string" || Array.isArray(v) || isMapping(v),
    sequence: (v) => typeof v === "string" || Array.isArray(v) || isMapping(v),
    list: (v) => Array.isArray(v),
    boolean: (v) => typeof v === "boolean",
    true: (v) => v === true,
    false: (v) => v === false,
    truthy: (v) => truthy(v),
    falsy: (v) => !truthy(v),
    callable: (v) => typeof v === "function",
    match: (v, pattern, ignorecase, multiline) => regexTest(v, pattern, "match", ignorecase, multiline),
    search: (v, pattern, ignorecase, multiline) => regexTest(v, pattern, "search", ignorecase, multiline),
    regex: (v, pattern, ignorecase, multiline, matchType = "search") =>
      regexTest(v, pattern, matchType as "match" | "search" | "fullmatch", ignorecase, multiline),
    version: (v, other, op = "eq") => compareVersionsOp(pyStr(v), pyStr(other), String(op)),
    version_compare: (v, other, op = "eq") => compareVersionsOp(pyStr(v), pyStr(other), String(op)),
    in: (v, container) => pyIn(v, container),
    contains: (container, v) => pyIn(v, container),
    subset: (a, b) => Array.isArray(a) && Array.isArray(b) && a.every((x) => b.some((y) => pyEquals(x, y))),
    superset: (a, b) => Array.isArray(a) && Array.isArray(b) && b.every((x) => a.some((y) => pyEquals(x, y))),
    equalto: (a, b) => pyEquals(a, b),
    eq: (a, b) => pyEquals(a, b),
    "==": (a, b) => pyEquals(a, b),
    ne: (a, b) => !pyEquals(a, b),
    "!=": (a, b) => !pyEquals(a, b),
    lt: (a, b) => pyLess(a, b),
    "<": (a, b) => pyLess(a, b),
    le: (a, b) => !pyLess(b, a),
    "<=": (a, b) => !pyLess(b, a),
    gt: (a, b) => pyLess(b, a),
    ">": (a, b) => pyLess(b, a),
    ge: (a, b) => !pyLess(a, b),
    ">=": (a, b) => !pyLess(a, b),
    sameas: (a, b) => a === b,
    odd: (v) => Number(v) % 2 === 1 || Number(v) % 2 === -1,
    even: (v) => Number(v) % 2 === 0,
    divisibleby: (v, n) => Number(v) % Number(n) === 0,
    lower: (v) => pyStr(v) === pyStr(v).toLowerCase(),
    upper: (v) => pyStr(v) === pyStr(v).toUpperCase(),
    // Controller-side paths, as Ansible's file tests.
    file: (v) => safeStat(v)?.isFile() ?? false,
    directory: (v) => safeStat(v)?.isDirectory() ?? false,
    exists: (v) => existsSync(pyStr(v)),
    link: (v) => {
      try {
        return lstatSync(pyStr(v)).isSymbolicLink();
      } catch {
        return false;
      }
    },
    abs: (v) => isAbsolute(pyStr(v)),
    // Registered results.
    success: (v) => !isFailed(v),
    succeeded: (v) => !isFailed(v),
    failed: (v) => isFailed(v),
    failure: (v) => isFailed(v),
    changed: (v) => resultFlag(v, "changed"),
    change: (v) => resultFlag(v, "changed"),
    skipped: (v) => resultFlag(v, "skipped"),
    skip: (v) => resultFlag(v, "skipped"),
    finished: (v) => !isMapping(v) || v.finished === undefined || truthy(v.finished),
    unreachable: (v) => resultFlag(v, "unreachable"),
  };
  return tests;
}

function safeStat(v: unknown) {
  try {
    return statSync(pyStr(v));
  } catch {
    return undefined;
  }
}

/** Registers the tests (and their ansible.builtin.* names) on the environment. */
export function installTests(env: Env): void {
  for (const [name, t] of Object.entries(makeTests())) {
    const wrapped = function (this: unknown, ...args: unknown[]) {
      if (!ACCEPTS_UNDEFINED.has(name)) for (const a of args) if (isUndefined(a)) (a as Undefined).fail();
      return t(...(args.map((a) => (a instanceof Secret && name !== "string" ? unwrapSecret(a) : a)) as [unknown, ...unknown[]]));
    };
    env.addTest(name, wrapped);
    env.addTest(`ansible.builtin.${name}`, wrapped);
  }
}
