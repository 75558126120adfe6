/**
 * Load-time rendering of file and role names (`vars_files: ["vars/{{ env }}.yml"]`,
 * `import_tasks: "{{ distro }}.yml"`): only extra vars and play vars exist at load time, so
 * only plain variable references (dotted or ['quoted'] paths, with an optional
 * `| default('x')`) are supported. Anything else is a clear error.
 */
import { UserError, type SourcePosition } from "../errors.ts";

const EXPRESSION = /\{\{\s*(.*?)\s*\}\}/g;
const PATH = /^([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\s*(?:'[^']*'|"[^"]*"|\d+)\s*\])*)$/;
const DEFAULT_FILTER = /^(.*?)\s*\|\s*(?:default|d)\(\s*(?:'([^']*)'|"([^"]*)"|(-?\d+))\s*\)$/;

function lookup(path: string, vars: Record<string, unknown>): unknown {
  const m = PATH.exec(path);
  if (!m) return Symbol.for("unsupported");
  let value: unknown = vars[m[1]];
  const steps = m[2].match(/\.[A-Za-z_][A-Za-z0-9_]*|\[[^\]]*\]/g) ?? [];
  for (const step of steps) {
    if (value === null || typeof value !== "object") return undefined;
    const key = step.startsWith(".") ? step.slice(1) : step.slice(1, -1).trim().replace(/^['"]|['"]$/g, "");
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** True when the text has a `{{ }}` or `{% %}` in it. */
export function hasTemplate(text: string): boolean {
  return /\{\{|\{%/.test(text);
}

/** Renders `{{ var }}` references in a name from the variables known at load time. */
export function renderLoadTimeName(text: string, vars: Record<string, unknown>, where: SourcePosition, what: string): string {
  if (/\{%/.test(text)) {
    throw new UserError(`${what} "${text}" uses {% %}, which cannot be rendered at load time`, {
      where,
      hint: "Use a plain {{ variable }} from the play's vars or -e, or include_tasks (rendered per host at run time).",
    });
  }
  return text.replace(EXPRESSION, (_all, expr: string) => {
    const withDefault = DEFAULT_FILTER.exec(expr);
    const path = withDefault ? withDefault[1] : expr;
    const value = lookup(path, vars);
    if (value === Symbol.for("unsupported")) {
      throw new UserError(`${what} "${text}": the expression "${expr}" cannot be rendered at load time`, {
        where,
        hint: "Only plain variable references from the play's vars or -e work here; use include_tasks/include_role for per-host names.",
      });
    }
    if (value === undefined || value === null) {
      if (withDefault) return withDefault[2] ?? withDefault[3] ?? withDefault[4] ?? "";
      throw new UserError(`${what} "${text}": variable "${path}" is not defined at load time`, {
        where,
        hint: "Only the play's vars and extra vars (-e) are known when the playbook is loaded; use include_tasks/include_role for host variables.",
      });
    }
    return String(value);
  });
}
