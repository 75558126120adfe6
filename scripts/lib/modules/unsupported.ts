/**
 * A module Ansible has and this runner does not (ansible-module-names.ts): it loads, with any
 * arguments, so a role that names it for another platform runs; the task fails only when it
 * really runs, naming the module. A task skipped by `when:` never reaches it.
 */
import { UserError } from "../errors.ts";
import type { ModuleDefinition } from "./types.ts";

// One schema object for all of them, so it is compiled once.
const schema = { type: "object", additionalProperties: true, description: "A module Ansible has and this runner does not." };
const made = new Map<string, ModuleDefinition>();

/** The stand-in for `name`, a module Ansible has (as `fqcn`) and we lack. */
export function unsupportedModule(name: string, fqcn: string): ModuleDefinition {
  const hit = made.get(name);
  if (hit) return hit;
  const module: ModuleDefinition = {
    name,
    aliases: [],
    schema,
    plan() {
      throw new UserError(`module '${name}' is not supported by this runner; Ansible runs it as ${fqcn}`, {
        hint: "Skip the task on these hosts with when: (as multi-distro roles do), or write it with a module this runner has (README, \"Ansible compatibility\").",
      });
    },
  };
  made.set(name, module);
  return module;
}
