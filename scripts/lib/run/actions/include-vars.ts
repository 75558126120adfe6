/** include_vars: variables from a YAML/JSON file (or every such file of a folder) onto the host. */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadVarsFile } from "../../inventory/group-vars.ts";
import { findControllerFile } from "../module-step.ts";
import { done } from "../outcome.ts";
import type { ControllerActionRunner } from "./types.ts";

export const includeVars: ControllerActionRunner = async (tr) => {
  const args = tr.templar.render(tr.task.args) as Record<string, unknown>;
  let vars: Record<string, unknown> = {};
  const files: string[] = [];
  if (typeof args.file === "string") files.push(findControllerFile(tr.task, "vars", args.file));
  if (typeof args.dir === "string") {
    const dir = findControllerFile(tr.task, "vars", args.dir);
    const extensions = (args.extensions as string[] | undefined) ?? ["yml", "yaml", "json"];
    const walk = (d: string): void => {
      for (const name of readdirSync(d).sort()) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (extensions.some((e) => name.endsWith(`.${e}`))) files.push(p);
      }
    };
    walk(dir);
  }
  for (const f of files) vars = { ...vars, ...loadVarsFile(f) };
  const facts = typeof args.name === "string" ? { [args.name]: vars } : vars;
  const out = done(false, undefined, { ansible_facts: facts, ansible_included_var_files: files });
  out.hostVars = facts;
  return out;
};
