/**
 * Module argument validation against each module's JSON Schema (ajv), with Ansible's
 * leniency and messages that name the option, the place, and the likely fix.
 *
 * SCHEMA CONVENTION for module authors (draft-07, `type: "object"`, `additionalProperties:
 * false`, one `properties` entry per option, Ansible's option names):
 * - Types: `boolean` options accept Ansible's words (yes/no, on/off, y/n, t/f, 1/0: boolean.ts);
 *   `integer`/`number` options accept numeric strings (ajv coerceTypes). Give `default`s in the
 *   schema: they are filled in before the module sees the arguments.
 * - Aliases (Ansible's `dest` for `path`...): `path: { type: "string", aliases: ["dest"] }`.
 *   The module receives `path` only; `path` and `dest` together are mutually exclusive
 *   (arg-aliases.ts; scripts/gen-schemas.ts writes the aliases out for editors).
 * - Exactly one of a, b, c: `oneOf: [{ required: ["a"] }, { required: ["b"] }, { required: ["c"] }]`
 *   (none given -> "one of a, b, c is required"; several -> "mutually exclusive").
 * - At least one of a, b: `anyOf: [{ required: ["a"] }, { required: ["b"] }]`.
 * - Mutually exclusive a and b (both optional): `not: { required: ["a", "b"] }`; several
 *   pairs: `allOf: [{ not: { required: ["a", "b"] } }, { not: { required: ["a", "c"] } }]`.
 * - Required when another option has a value (Ansible's required_if):
 *   `if: { properties: { state: { const: "present" } }, required: ["state"] }, then: { required: ["line"] }`
 *   (several: inside `allOf`). The message says `missing required option "line" (when state is "present")`.
 * - Choices: `enum`. Free-form text (command's `_raw_params`): a normal string property named
 *   by ModuleDefinition.freeForm.
 *
 * With `templated: true` (load time) a value that is a string containing `{{` or `{%` is not
 * type-checked: the executor validates again after rendering, with `templated: false`.
 * Secret values are checked as strings and kept as Secrets.
 */
import type { ErrorObject } from "ajv";
import type { ModuleDefinition } from "../modules/types.ts";
import { UserError, didYouMean, type SourcePosition } from "../errors.ts";
import { positionOfKey } from "../yaml/load.ts";
import { Secret } from "../shell/secret.ts";
import { compileSchema, type Validator } from "./schema-cache.ts";
import { resolveAliases } from "./arg-aliases.ts";
import { parseBoolean } from "../boolean.ts";

type Schema = Record<string, unknown>;

const compiled = new WeakMap<object, Validator>();

/** Each schema is compiled once per process (and cached on disk across runs). */
function validatorFor(schema: Schema): Validator {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = compileSchema(schema, "args");
    compiled.set(schema, fn);
  }
  return fn;
}

const TEMPLATE = /\{\{|\{%/;

function isTemplated(v: unknown): boolean {
  return typeof v === "string" && TEMPLATE.test(v);
}

function typesOf(schema: unknown): string[] {
  if (!schema || typeof schema !== "object") return [];
  const t = (schema as Schema).type;
  return Array.isArray(t) ? (t as string[]) : typeof t === "string" ? [t] : [];
}

/** Ansible's boolean spellings (ajv only knows "true"/"false"). */
function coerceBooleans(args: Record<string, unknown>, schema: Schema): void {
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  for (const [key, value] of Object.entries(args)) {
    const types = typesOf(props[key]);
    if (types.includes("boolean") && !types.includes("string")) {
      const parsed = typeof value === "string" || typeof value === "number" ? parseBoolean(value) : undefined;
      if (parsed !== undefined) args[key] = parsed;
    }
  }
}

/**
 * Top-level defaults first, so conditions (`if: {state: present}`) see them as Ansible's
 * required_if does; ajv's useDefaults fills nested ones.
 */
function fillDefaults(args: Record<string, unknown>, schema: Schema): Set<string> {
  const filled = new Set<string>();
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  for (const [key, prop] of Object.entries(props)) {
    if (args[key] === undefined && prop && typeof prop === "object" && "default" in prop) {
      args[key] = structuredClone(prop.default);
      filled.add(key);
    }
  }
  return filled;
}

const SECRET_MARK = "\u0000secret:";

/** A deep copy where Secrets become marker strings (ajv sees strings), with a way back. */
function withoutSecrets(value: unknown, secrets: Secret[]): unknown {
  if (value instanceof Secret) {
    secrets.push(value);
    return `${SECRET_MARK}${secrets.length - 1}`;
  }
  if (Array.isArray(value)) return value.map((v) => withoutSecrets(v, secrets));
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutSecrets(v, secrets)]));
  }
  return value;
}

function restoreSecrets(value: unknown, secrets: Secret[]): unknown {
  if (typeof value === "string" && value.startsWith(SECRET_MARK)) return secrets[Number(value.slice(SECRET_MARK.length))];
  if (Array.isArray(value)) return value.map((v) => restoreSecrets(v, secrets));
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, restoreSecrets(v, secrets)]));
  }
  return value;
}

/** The value at a JSON pointer (ajv instancePath), or undefined. */
function valueAt(root: unknown, path: string): unknown {
  let v = root;
  for (const part of path.split("/").slice(1)) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[part.replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  return v;
}

/** True when the value at path, or any value on the way to it, is a template string. */
function underTemplate(root: unknown, path: string): boolean {
  const parts = path.split("/").slice(1);
  for (let i = 0; i <= parts.length; i++) {
    if (isTemplated(valueAt(root, i === 0 ? "" : "/" + parts.slice(0, i).join("/")))) return true;
  }
  return false;
}

function describe(value: unknown): string {
  if (value instanceof Secret) return "a secret";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "..." : value)}`;
  return `${typeof value} ${String(value)}`;
}

function typeName(t: string): string {
  return ({ object: "a mapping", array: "a list", integer: "an integer", number: "a number", boolean: "a boolean (yes/no)", string: "a string", null: "null" } as Record<string, string>)[t] ?? t;
}

/** Required-only branches of oneOf/anyOf, e.g. [["path"], ["dest"]]. */
function requiredBranches(branches: unknown): string[][] | undefined {
  if (!Array.isArray(branches)) return undefined;
  const out: string[][] = [];
  for (const b of branches) {
    if (!b || typeof b !== "object" || !Array.isArray((b as Schema).required)) return undefined;
    out.push((b as Schema).required as string[]);
  }
  return out;
}

/** One user-facing message (or undefined to drop the error) and the key it is about. */
function explain(e: ErrorObject, data: Record<string, unknown>, schema: Schema, defaulted: Set<string>, written: Map<string, string>): { message: string; key?: string } | undefined {
  // An option given by its alias is named as the user wrote it.
  const [, first, ...rest] = e.instancePath.split("/");
  const top = first === undefined ? undefined : written.get(first) ?? first;
  const option = [top, ...rest].filter((p) => p !== undefined).join(".");
  switch (e.keyword) {
    case "additionalProperties": {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const parent = (e.parentSchema ?? {}) as Schema;
      const known = Object.keys((parent.properties ?? {}) as Schema).filter((k) => k !== "_raw_params");
      const guess = didYouMean(extra, known);
      const name = option ? `${option}.${extra}` : extra;
      return { message: `unknown option "${name}"${guess ? `; did you mean "${option ? option + "." : ""}${guess}"?` : ""}`, key: top ?? extra };
    }
    case "required": {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      const cond = conditionOf(e, schema);
      const name = option ? `${option}.${missing}` : missing;
      return { message: `missing required option "${name}"${cond ? ` (when ${cond})` : ""}`, key: top };
    }
    case "type": {
      const expected = String((e.params as { type: string }).type).split(",").map(typeName).join(" or ");
      return { message: `option "${option}" must be ${expected}, got ${describe(valueAt(data, e.instancePath))}`, key: top };
    }
    case "enum": {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
      const got = valueAt(data, e.instancePath);
      const guess = typeof got === "string" ? didYouMean(got, allowed.map(String)) : undefined;
      return {
        message: `option "${option}" must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}; got ${JSON.stringify(got)}${guess ? `; did you mean "${guess}"?` : ""}`,
        key: top,
      };
    }
    case "not": {
      const req = ((e.schema ?? {}) as Schema).required;
      if (Array.isArray(req) && e.instancePath === "" && req.some((r) => defaulted.has(r))) return undefined;
      if (Array.isArray(req)) return { message: `options ${req.map((r) => `"${r}"`).join(" and ")} are mutually exclusive`, key: top ?? req[1] };
      return { message: `${option ? `option "${option}"` : "arguments"} must not match ${JSON.stringify(e.schema)}`, key: top };
    }
    case "oneOf":
    case "anyOf": {
      const branches = requiredBranches(e.schema);
      const target = valueAt(data, e.instancePath);
      if (branches && target && typeof target === "object") {
        const given = branches.filter((b) => b.every((k) => (target as Record<string, unknown>)[k] !== undefined && !(e.instancePath === "" && defaulted.has(k))));
        if (given.length === 1 && e.keyword === "oneOf") return undefined; // the other branch only matched a default
        const names = branches.map((b) => b.join("+")).join(", ");
        if (given.length === 0) return { message: `one of ${names} is required` };
        return { message: `options ${given.map((b) => `"${b.join("+")}"`).join(" and ")} are mutually exclusive`, key: given[1]?.[0] };
      }
      const types = Array.isArray(e.schema) ? (e.schema as unknown[]).flatMap(typesOf) : [];
      if (types.length > 0 && option) {
        return { message: `option "${option}" must be ${[...new Set(types)].map(typeName).join(" or ")}, got ${describe(target)}`, key: top };
      }
      return { message: `${option ? `option "${option}"` : "arguments"} must match ${e.keyword === "oneOf" ? "exactly one" : "at least one"} of the allowed forms`, key: top };
    }
    case "pattern": {
      // Modules describe their patterns in words (support/values.ts schemaPattern).
      const said = ((e.parentSchema ?? {}) as Schema).patternErrorMessage;
      const rule = typeof said === "string" ? said : `must match the pattern ${JSON.stringify((e.params as { pattern: string }).pattern)}`;
      const got = valueAt(data, e.instancePath);
      const shown = typeof got === "string" && got.startsWith(SECRET_MARK) ? "a secret" : JSON.stringify(typeof got === "string" && got.length > 80 ? got.slice(0, 80) + "..." : got);
      return { message: `option "${option}" ${rule}; got ${shown}`, key: top };
    }
    case "if":
      return undefined; // explained by the `then` branch's own error
    case "const":
      return { message: `option "${option}" must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`, key: top };
    default:
      return { message: `option "${option || "(arguments)"}" ${e.message ?? "is invalid"}`, key: top };
  }
}

/** For a `required` error inside if/then, the condition as text ("state is \"present\""). */
function conditionOf(e: ErrorObject, root: Schema): string | undefined {
  const m = /^#(.*)\/then\/required$/.exec(e.schemaPath);
  if (!m) return undefined;
  const holder = valueAt(root, m[1]) as Schema | undefined;
  const cond = holder?.if as Schema | undefined;
  const props = (cond?.properties ?? {}) as Record<string, Schema>;
  const parts = Object.entries(props).map(([k, s]) =>
    "const" in s ? `${k} is ${JSON.stringify(s.const)}` : Array.isArray(s.enum) ? `${k} is one of ${s.enum.map((x) => JSON.stringify(x)).join(", ")}` : k,
  );
  return parts.length ? parts.join(" and ") : undefined;
}

/**
 * Validates (and coerces, and fills defaults into) a module's arguments. Returns the
 * arguments to use; throws a UserError `file:line:col: module copy: unknown option "dst";
 * did you mean "dest"?` listing every problem found.
 *
 * `where` is the task (or its module key); errors about one option point at that option's
 * key when the arguments were loaded from YAML.
 */
export function validateModuleArgs(
  module: Pick<ModuleDefinition, "name" | "schema">,
  args: Record<string, unknown>,
  where: SourcePosition,
  options: { templated: boolean },
): Record<string, unknown> {
  const secrets: Secret[] = [];
  const data = withoutSecrets(args, secrets) as Record<string, unknown>;
  const aliases = resolveAliases(data, module.schema);
  coerceBooleans(data, module.schema);
  // Mutual exclusion is about what the user wrote (Ansible checks it before defaults).
  const defaulted = fillDefaults(data, module.schema);
  const validate = validatorFor(module.schema);
  const valid = validate(data);
  if (valid && aliases.conflicts.length === 0) return restoreSecrets(data, secrets) as Record<string, unknown>;

  const problems: Array<{ message: string; where: SourcePosition }> = [];
  const seen = new Set<string>();
  for (const names of aliases.conflicts) {
    const message = `options ${names.map((n) => `"${n}"`).join(" and ")} are mutually exclusive`;
    seen.add(message);
    const keyWhere = positionOfKey(args, names[1]);
    problems.push({ message, where: keyWhere && keyWhere.line !== undefined ? keyWhere : where });
  }
  const errors = valid ? [] : validate.errors ?? [];
  // A failing oneOf/anyOf also reports each branch's errors; the summary says it better.
  const summarised = errors.filter((e) => (e.keyword === "oneOf" || e.keyword === "anyOf") && requiredBranches(e.schema)).map((e) => e.schemaPath);
  for (const e of errors) {
    if (summarised.some((p) => e.schemaPath.startsWith(p + "/"))) continue;
    if (options.templated && underTemplate(data, e.instancePath)) continue;
    // An anyOf over types (string or list) fails with one type error per branch.
    if (e.keyword === "type" && /\/anyOf\/\d+\/type$/.test(e.schemaPath)) continue;
    const explained = explain(e, data, module.schema, defaulted, aliases.written);
    if (!explained || seen.has(explained.message)) continue;
    seen.add(explained.message);
    const keyWhere = explained.key !== undefined ? positionOfKey(args, explained.key) : undefined;
    problems.push({ message: explained.message, where: keyWhere && keyWhere.line !== undefined ? keyWhere : where });
  }
  if (problems.length === 0) return restoreSecrets(data, secrets) as Record<string, unknown>;
  // An unknown option is usually the cause of a "missing required" one (a misspelt name).
  const rank = (m: string) => (m.startsWith("unknown option") ? 0 : /^(missing|one of)/.test(m) ? 2 : 1);
  problems.sort((a, b) => rank(a.message) - rank(b.message));
  const [first, ...rest] = problems;
  const more = rest.map((p) => `\n  also: module ${module.name}: ${p.message}`).join("");
  throw new UserError(`module ${module.name}: ${first.message}${more}`, {
    where: first.where,
    hint: `The options of "${module.name}" are in its JSON Schema (scripts/lib/modules/, scripts/schemas/modules/).`,
  });
}
