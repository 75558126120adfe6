/**
 * Structural validation of playbooks, task files and role metadata against the JSON Schemas
 * in scripts/schemas/ (the ones editors use), with errors mapped back to file:line:col.
 * Module arguments are not checked here (validate-args.ts does that per module).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ErrorObject } from "ajv";
import { UserError, didYouMean, type SourcePosition } from "../errors.ts";
import { positionOf, positionOfItem, positionOfKey } from "../yaml/load.ts";
import { compileSchema, type Validator } from "./schema-cache.ts";
import { REPO_ROOT } from "../repo-root.ts";

export type StructureKind = "playbook" | "tasks" | "role-meta";

const SCHEMA_DIR = join(REPO_ROOT, "scripts", "schemas");
const validators = new Map<StructureKind, Validator>();

function readSchema(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(SCHEMA_DIR, name), "utf8"));
}

function validator(kind: StructureKind): Validator {
  let v = validators.get(kind);
  if (!v) {
    const playbook = readSchema("playbook.schema.json");
    v = kind === "playbook" ? compileSchema(playbook, "structure") : compileSchema(readSchema(`${kind}.schema.json`), "structure", { "playbook.schema.json": playbook });
    validators.set(kind, v);
  }
  return v;
}

function valueAt(root: unknown, parts: string[]): unknown {
  let v = root;
  for (const p of parts) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

function pathParts(instancePath: string): string[] {
  return instancePath.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** Where the value at an ajv instancePath is written: its key in the parent mapping, else itself. */
export function positionOfPath(root: unknown, instancePath: string, file: string): SourcePosition {
  const parts = pathParts(instancePath);
  for (let n = parts.length; n >= 0; n--) {
    const value = valueAt(root, parts.slice(0, n));
    if (n > 0) {
      const parent = valueAt(root, parts.slice(0, n - 1));
      if (parent && typeof parent === "object") {
        const p = Array.isArray(parent) ? positionOfItem(parent, Number(parts[n - 1])) : positionOfKey(parent, parts[n - 1]);
        if (p) return p;
      }
    }
    const p = positionOf(value);
    if (p) return p;
  }
  return { file };
}

const TYPE_NAMES: Record<string, string> = {
  object: "a mapping", array: "a list", string: "a string", integer: "an integer", number: "a number", boolean: "a boolean (yes/no)", null: "empty",
};

function describe(v: unknown): string {
  if (v === null || v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

function what(parts: string[]): string {
  const key = [...parts].reverse().find((p) => !/^\d+$/.test(p));
  return key ? `"${key}"` : "this entry";
}

function explain(e: ErrorObject, root: unknown): { message: string; path: string } | undefined {
  const parts = pathParts(e.instancePath);
  const value = valueAt(root, parts);
  switch (e.keyword) {
    case "additionalProperties": {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys(((e.parentSchema ?? {}) as { properties?: object }).properties ?? {});
      const guess = didYouMean(extra, known);
      const kind = known.includes("hosts") ? "play keyword" : "keyword";
      return { message: `unknown ${kind} "${extra}"${guess ? `; did you mean "${guess}"?` : ""}`, path: `${e.instancePath}/${extra}` };
    }
    case "required":
      return { message: `missing "${(e.params as { missingProperty: string }).missingProperty}"`, path: e.instancePath };
    case "type": {
      const expected = String((e.params as { type: string }).type).split(",").map((t) => TYPE_NAMES[t] ?? t).join(" or ");
      return { message: `${what(parts)} must be ${expected}, got ${describe(value)}`, path: e.instancePath };
    }
    case "enum":
      return {
        message: `${what(parts)} must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues).map((a) => JSON.stringify(a)).join(", ")}, got ${describe(value)}`,
        path: e.instancePath,
      };
    case "anyOf": {
      if (/definitions\/boolean\/anyOf$/.test(e.schemaPath)) {
        return { message: `${what(parts)} must be yes or no (true/false), got ${describe(value)}`, path: e.instancePath };
      }
      const types = ((e.schema ?? []) as Array<{ type?: string | string[]; $ref?: string }>).flatMap((s) =>
        s.type ? (Array.isArray(s.type) ? s.type : [s.type]) : [],
      );
      const expected = [...new Set(types)].map((t) => TYPE_NAMES[t] ?? t).join(" or ");
      return { message: `${what(parts)} must be ${expected || "valid"}, got ${describe(value)}`, path: e.instancePath };
    }
    case "pattern":
      if (parts.at(-1) === "register") return { message: `"register" must be a variable name, got ${describe(value)}`, path: e.instancePath };
      return { message: `${what(parts)} has an invalid value ${describe(value)}`, path: e.instancePath };
    case "if":
      return undefined;
    default:
      return { message: `${what(parts)} ${e.message ?? "is invalid"}`, path: e.instancePath };
  }
}

/**
 * Checks loaded YAML against the playbook / task file / role meta schema; throws a UserError
 * at the first problem's file:line:col (further problems listed below it).
 */
export function validateStructure(data: unknown, kind: StructureKind, file: string): void {
  const validate = validator(kind);
  if (validate(data)) return;
  const errors = validate.errors ?? [];
  // Errors inside an anyOf's branches are summarised by the anyOf error itself.
  const anyOfPaths = errors.filter((e) => e.keyword === "anyOf").map((e) => e.schemaPath);
  const found: Array<{ message: string; where: SourcePosition }> = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (anyOfPaths.some((p) => e.schemaPath.startsWith(p + "/"))) continue;
    const explained = explain(e, data);
    if (!explained) continue;
    const where = positionOfPath(data, explained.path, file);
    const key = `${where.line}:${where.col}:${explained.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    found.push({ message: explained.message, where });
  }
  if (found.length === 0) return;
  found.sort((a, b) => (a.where.line ?? 0) - (b.where.line ?? 0) || (a.where.col ?? 0) - (b.where.col ?? 0));
  const [first, ...rest] = found;
  const more = rest.slice(0, 5).map((p) => `\n  also: ${p.where.line ?? "?"}:${p.where.col ?? "?"}: ${p.message}`).join("");
  throw new UserError(`${first.message}${more}`, { where: first.where });
}
