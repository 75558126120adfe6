/**
 * Template errors and Jinja's Undefined: a missing variable is a value that only fails when it
 * is used (printed, iterated, tested for truth), so `default()` and `is defined` can handle it.
 */
import { UserError } from "../errors.ts";

export const UNDEFINED_HINT = "define it in defaults/, group_vars/, host_vars/ or with -e";

/** A template that cannot be rendered: undefined variable, syntax error, failing filter. */
export class TemplateError extends UserError {
  /** The variable (or attribute) that was undefined, when that is the cause. */
  readonly variable?: string;
  constructor(message: string, options: { hint?: string; variable?: string } = {}) {
    super(message, { hint: options.hint, exitCode: 2 });
    this.name = "TemplateError";
    this.variable = options.variable;
  }
}

/** Jinja's Undefined (Ansible's strict flavour): carries what was missing; using it throws. */
export class Undefined {
  declare readonly name: string;
  declare readonly detail: string;
  constructor(name: string, detail?: string) {
    Object.defineProperty(this, "name", { value: name, enumerable: false });
    Object.defineProperty(this, "detail", { value: detail ?? `Undefined variable "${name}"`, enumerable: false });
  }
  /** Throws the error for using this value. */
  fail(): never {
    throw undefinedError(this);
  }
  toString(): string {
    return this.fail();
  }
  valueOf(): never {
    return this.fail();
  }
  [Symbol.toPrimitive](): never {
    return this.fail();
  }
  toJSON(): never {
    return this.fail();
  }
}

/** Where the renderer currently is, for messages (set by the Templar while rendering). */
export const renderSite = { source: "", where: "", file: "" };

export function undefinedError(u: Undefined): TemplateError {
  const where = renderSite.where ? ` (${renderSite.where})` : "";
  // A template file is named by path and line, not quoted whole.
  const source = renderSite.file
    ? ` in template ${renderSite.file}${lineOf(renderSite.source, u.name)}`
    : renderSite.source
      ? ` in ${JSON.stringify(truncate(renderSite.source))}`
      : "";
  return new TemplateError(`${u.detail}${source}${where}`, { hint: UNDEFINED_HINT, variable: u.name });
}

/** `:N` for the first line of a template that uses `name` inside {{ }} or {% %} (else ""). */
function lineOf(text: string, name: string): string {
  const word = new RegExp(`(^|[^\\w.])${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?!\\w)`);
  const lines = text.split("\n");
  const i = lines.findIndex((l) => /\{\{|\{%/.test(l) && word.test(l));
  return i >= 0 ? `:${i + 1}` : "";
}

function truncate(s: string): string {
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
}

export function isUndefined(v: unknown): v is Undefined {
  return v instanceof Undefined;
}
