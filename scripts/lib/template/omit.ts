/**
 * Ansible's `omit`: `param: "{{ x | default(omit) }}"` drops `param` from the module arguments.
 * The placeholder is a unique string (as Ansible's), so it survives rendering as a value.
 */
import { randomBytes } from "node:crypto";

/** The placeholder value `omit` renders to. */
export const OMIT = `__omit_place_holder__${randomBytes(20).toString("hex")}`;

export function isOmitted(v: unknown): boolean {
  return v === OMIT;
}

/** A copy of module args without keys whose value is the omit placeholder (nested mappings too, as Ansible). */
export function dropOmitted<T>(args: T): T {
  if (Array.isArray(args)) return args.map((v) => dropOmitted(v)) as T;
  if (args === null || typeof args !== "object" || Object.getPrototypeOf(args) !== Object.prototype) return args;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) if (v !== OMIT) out[k] = dropOmitted(v);
  return out as T;
}
