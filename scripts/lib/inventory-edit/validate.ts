/**
 * Checks an edited inventory before anything is written: the whole result loaded by the
 * runner's own loader (structure, host/group names, group cycles, the variables files) from a
 * staged copy, the inventory schema, and the roles' requirements, which are warnings (a host
 * in `ssd` without `ssd_storage_device` would be skipped by the role, not break the run).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors.ts";
import { REPO_ROOT } from "../repo-root.ts";
import type { Inventory } from "../inventory/inventory.ts";
import { compileSchema, type Validator } from "../playbook/schema-cache.ts";
import { positionOfPath } from "../playbook/structure.ts";
import { parseYaml } from "../yaml/load.ts";

let schemaValidator: Validator | undefined;

/** The inventory schema (scripts/schemas/inventory.schema.json); the first problem is a UserError at its line. */
export function checkSchema(text: string, file: string): void {
  const data = parseYaml(text, file);
  if (data === null || data === undefined) return;
  schemaValidator ??= compileSchema(JSON.parse(readFileSync(join(REPO_ROOT, "scripts", "schemas", "inventory.schema.json"), "utf8")), "structure");
  if (schemaValidator(data)) return;
  const e = schemaValidator.errors?.[0];
  if (!e) return;
  const path = e.instancePath || "/";
  const extra = e.keyword === "additionalProperties" ? ` ("${(e.params as { additionalProperty: string }).additionalProperty}")` : "";
  throw new UserError(`The inventory does not match its schema at ${path}: ${e.message}${extra}`, {
    where: positionOfPath(data, e.instancePath, file),
    hint: "Nothing was written; this is the change's result, see --dry-run.",
  });
}

interface Requirement {
  group: string;
  /** Warned when none of these is set (non-empty) for a host of the group. */
  anyOf: string[];
  why: string;
}

const REQUIREMENTS: Requirement[] = [
  { group: "ssd", anyOf: ["ssd_storage_device"], why: "the ssd-storage role needs the disk's id" },
  { group: "netboot_clients", anyOf: ["netboot_mac"], why: "the netboot master's DHCP knows a client by its MAC" },
  { group: "netboot_clients", anyOf: ["netboot_serial"], why: "the netboot master's TFTP serves a client by its serial" },
];

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== "";
}

/** One line per host that misses what a role of its groups needs. */
export function roleWarnings(inventory: Inventory): string[] {
  const out: string[] = [];
  for (const r of REQUIREMENTS) {
    for (const host of inventory.groups[r.group] ?? []) {
      const vars = inventory.hostVars(host);
      if (!r.anyOf.some((k) => isSet(vars[k]))) out.push(`Host "${host}" is in group "${r.group}" without ${r.anyOf.join(" or ")}: ${r.why}`);
    }
  }
  return out;
}
