/**
 * The Templar: renders `{{ }}` / `{% %}` in task arguments, conditions and template files with
 * one set of variables (a host's, for a task), lazily: a variable whose value is a template is
 * rendered when read, recursively, with loops detected.
 *
 * @example
 *   const t = new Templar({ a: 1, b: "{{ a + 1 }}" }, { where: "host pi-1, task 'x'" });
 *   t.render("{{ b }}");          // 2 (a number: one whole expression keeps its type)
 *   t.render("b={{ b }}");        // "b=2"
 *   t.isTrue(["b > 1"]);          // true
 */
import { existsSync, readFileSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { registerDerivedSecret, Secret, secretStrings } from "../shell/secret.ts";
import { UserError } from "../errors.ts";
import { active, compile, environment, memberLookup, unwrapError, type BlockWhitespace, type CompileOptions, type VariableSource } from "./engine.ts";
import { isUndefined, renderSite, TemplateError, Undefined } from "./errors.ts";
import { secretUse, truthy, unwrapSecret } from "./python.ts";
import { installFilters } from "./filters.ts";
import { installTests } from "./tests.ts";
import { type FileKind, installLookups } from "./lookups.ts";
import { OMIT } from "./omit.ts";
import { isUnsafe } from "./unsafe.ts";

export { TemplateError, Undefined } from "./errors.ts";
export { OMIT, dropOmitted, isOmitted } from "./omit.ts";

installFilters(environment);
installTests(environment);
installLookups(environment);

export interface TemplarOptions {
  /** Where rendering happens, for messages: "host pi-1, task 'Set hostname' (roles/base-os/tasks/main.yml:12)". */
  where?: string;
  /** Folders searched by lookup('file') and template include/import (first match wins). */
  searchPaths?: string[];
}

const MARKERS = /\{\{|\{%|\{#/;
const SINGLE_EXPRESSION = /^\{\{([\s\S]*)\}\}$/;
const PYTHON_CONSTANTS: Record<string, unknown> = { True: true, False: false, None: null };
const SIMPLE_PATH = /^\s*([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)*)\s*$/;
/** Words nunjucks reads as literals or operators, not variables. */
const RESERVED = new Set(["true", "false", "none", "not", "and", "or", "in", "is", "if", "else"]);

let captured: unknown;
environment.addGlobal("__capture", (v: unknown) => {
  captured = v;
  return "";
});

/** Renders values with one set of variables (see the module comment). */
export class Templar implements VariableSource {
  readonly vars: Record<string, unknown>;
  readonly where: string;
  readonly searchPaths: string[];
  readonly #cache = new Map<string, { raw: unknown; value: unknown; secret: boolean }>();
  readonly #resolving: string[] = [];

  constructor(vars: Record<string, unknown>, options: TemplarOptions = {}) {
    this.vars = vars;
    this.where = options.where ?? "";
    this.searchPaths = options.searchPaths ?? [];
  }

  /**
   * Deep-renders strings inside any value (objects and arrays are copied). A string that is
   * exactly one `{{ expr }}` gives the expression's native value; strings without template
   * markers are returned as they are; Secret values pass untouched, and a template that used a
   * Secret gives a Secret.
   */
  render<T>(value: T): T {
    return this.#deep(value, true) as T;
  }

  #deep(value: unknown, copy: boolean): unknown {
    if (typeof value === "string") return MARKERS.test(value) ? this.renderString(value) : value;
    if (value === null || typeof value !== "object" || value instanceof Secret) return value;
    if (Array.isArray(value)) {
      let changed = copy;
      const out = value.map((v) => {
        const r = this.#deep(v, copy);
        if (r !== v) changed = true;
        return r;
      });
      return changed ? out : value;
    }
    if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
    let changed = copy;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const key = MARKERS.test(k) ? String(this.renderString(k)) : k;
      const r = this.#deep(v, copy);
      if (r !== v || key !== k) changed = true;
      out[key] = r;
    }
    return changed ? out : value;
  }

  /** One string: native value for a single `{{ expr }}`, else text (a Secret when a Secret was used). */
  renderString(text: string): unknown {
    if (!MARKERS.test(text)) return text;
    const single = SINGLE_EXPRESSION.exec(text);
    if (single && isOneExpression(single[1])) {
      const before = secretUse.count;
      const value = this.#evaluateExpression(stripWhitespaceControl(single[1]), text, PLAYBOOK_STRING);
      if (secretUse.count === before) return this.#deep(value, false);
      // An expression that read a Secret gives a secret: its strings become Secrets (`password | length` stays a number).
      if (typeof value === "string") {
        registerDerivedSecret(value);
        return new Secret(value);
      }
      return secretStrings(this.#deep(value, false));
    }
    const before = secretUse.count;
    const out = this.#run(text, text, "template", "", PLAYBOOK_STRING);
    if (secretUse.count === before) return out;
    registerDerivedSecret(out);
    return new Secret(out);
  }

  /**
   * Renders a whole template file (the template module, lookup('template')): full Jinja2,
   * trim_blocks on, lstrip_blocks off, with Ansible's template variables (ansible_managed, ...).
   */
  renderText(text: string, sourceName: string, options: Partial<BlockWhitespace> = {}): string {
    const withTemplateVars = new Templar({ ...this.vars, ...templateVars(sourceName) }, { where: this.where, searchPaths: this.searchPaths });
    const { body, ws } = jinjaOverrides(text, { trimBlocks: options.trimBlocks ?? true, lstripBlocks: options.lstripBlocks ?? false }, sourceName);
    return withTemplateVars.#run(body, body, sourceName, sourceName, ws);
  }

  /** renderText for a file that is written somewhere: a Secret when the template read a secret. */
  renderFile(text: string, sourceName: string, options: Partial<BlockWhitespace> = {}): string | Secret {
    const before = secretUse.count;
    const out = this.renderText(text, sourceName, options);
    return secretUse.count === before ? out : new Secret(out);
  }

  /** Evaluates a bare expression (when:, changed_when:, until:, assert's that:); a boolean is returned as is. */
  evaluate(expression: string | boolean): unknown {
    if (typeof expression === "boolean") return expression;
    if (typeof expression !== "string") return expression;
    let expr = expression.trim();
    // Ansible accepts (with a warning) `when: "{{ x }}"`: the braces are dropped.
    const single = SINGLE_EXPRESSION.exec(expr);
    if (single && isOneExpression(single[1])) expr = stripWhitespaceControl(single[1]);
    if (expr === "") return false;
    return this.#evaluateExpression(expr, expression);
  }

  /**
   * True when every condition is truthy (Jinja/Python truthiness: "", 0, [], {}, none are false;
   * any non-empty string is true, including "false": write `x | bool` for strings, as in Ansible).
   * No conditions: true.
   */
  isTrue(conditions: Array<string | boolean> | string | boolean | undefined): boolean {
    if (conditions === undefined || conditions === null) return true;
    const list = Array.isArray(conditions) ? conditions : [conditions];
    for (const c of list) {
      const v = this.evaluate(c as string | boolean);
      if (!this.#truth(v, String(c))) return false;
    }
    return true;
  }

  #truth(v: unknown, source: string): boolean {
    return this.#withSite(source, () => truthy(v));
  }

  #evaluateExpression(expr: string, source: string, options?: CompileOptions): unknown {
    // Fast path for the most common expression, a plain name or dotted path (`item`, `a.b`).
    const path = SIMPLE_PATH.exec(expr);
    if (path && !Object.hasOwn(PYTHON_CONSTANTS, path[1]) && !RESERVED.has(path[1])) {
      return this.#withSite(source, () => {
        let value = this.lookup(path[1]);
        if (path[2]) for (const key of path[2].slice(1).split(".")) value = memberLookup(value, key);
        if (isUndefined(value)) (value as Undefined).fail();
        return value;
      });
    }
    captured = undefined;
    this.#run(`{{ __capture((${expr}\n)) }}`, source, "expression", "", options);
    const value = captured;
    captured = undefined;
    if (isUndefined(value)) this.#withSite(source, () => (value as Undefined).fail());
    return value instanceof Secret ? value : value;
  }

  #withSite<T>(source: string, fn: () => T, file = ""): T {
    const previous = { source: renderSite.source, where: renderSite.where, file: renderSite.file, active: active.source };
    renderSite.source = source;
    renderSite.where = this.where;
    renderSite.file = file;
    active.source = this;
    try {
      return fn();
    } finally {
      renderSite.source = previous.source;
      renderSite.where = previous.where;
      renderSite.file = previous.file;
      active.source = previous.active;
    }
  }

  /** `file`: the template file being rendered (named in messages instead of its text). */
  #run(templateText: string, source: string, name: string, file = "", ws?: CompileOptions): string {
    return this.#withSite(
      source,
      () => {
        let template;
        try {
          template = compile(templateText, name, ws);
          return template.render({}) as string;
        } catch (e) {
          throw this.#userError(e, source, name !== "expression" && name !== "template", file);
        }
      },
      file,
    );
  }

  #userError(e: unknown, source: string, keepLines: boolean, file = ""): Error {
    const inner = unwrapError(e);
    if (inner instanceof UserError) return inner;
    const where = this.where ? ` (${this.where})` : "";
    const message = String((inner as Error)?.message ?? inner)
      .replace(/^\(unknown path\)\s*/, "")
      .replace(/^\([^)]*\)\s*/, "")
      .replace(/\s*\n\s*/g, " ")
      .replace(/^Template render error:?\s*/, "")
      .replace(/^\(unknown path\)\s*/, "")
      .replace(/^Error: /, "")
      // Line/column of a one-line expression point into our wrapper, not the user's text.
      .replace(keepLines ? /^$/ : /^\[Line \d+, Column \d+\]\s*/, "");
    const what = file ? `template ${file}` : JSON.stringify(source.length > 200 ? source.slice(0, 197) + "..." : source);
    return new TemplateError(`Template error in ${what}${where}: ${message}`, {
      hint: "Check the expression's syntax (Jinja2): quotes, brackets, filter names and arguments.",
    });
  }

  /** A variable by name, rendered if it is a template; Python constants, omit and globals next; else Undefined. */
  lookup(name: string): unknown {
    if (Object.hasOwn(this.vars, name)) {
      const raw = this.vars[name];
      if (raw instanceof Secret) {
        const text = unwrapSecret(raw) as string;
        if (!MARKERS.test(text)) return text;
        // A secret variable holding a template (ansible_become_password: "{{ vault_pw }}"): rendered, still secret.
        const value = this.#resolveTemplate(text, name);
        secretUse.count++;
        return value instanceof Secret ? value.reveal() : value;
      }
      if (typeof raw !== "string" ? !holdsTemplate(raw) : !MARKERS.test(raw)) return raw;
      const hit = this.#cache.get(name);
      if (hit && hit.raw === raw) {
        if (hit.secret) secretUse.count++;
        return hit.value;
      }
      const before = secretUse.count;
      const value = this.#resolveTemplate(raw, name);
      const secret = secretUse.count !== before;
      const plain = value instanceof Secret ? value.reveal() : value;
      this.#cache.set(name, { raw, value: plain, secret: secret || value instanceof Secret });
      if (value instanceof Secret) secretUse.count++;
      return plain;
    }
    if (name === "omit") return OMIT;
    if (Object.hasOwn(PYTHON_CONSTANTS, name)) return PYTHON_CONSTANTS[name];
    if (name in environment.globals) return environment.globals[name];
    return new Undefined(name);
  }

  /** A value read from inside a variable: templated strings render on read (unwrapping Secrets). */
  resolveMember(value: unknown, label: string): unknown {
    if (value instanceof Secret) {
      const text = unwrapSecret(value) as string;
      if (!MARKERS.test(text)) return text;
      const r = this.#resolveTemplate(text, label);
      secretUse.count++;
      return r instanceof Secret ? r.reveal() : r;
    }
    if (typeof value !== "string" || !MARKERS.test(value)) return value;
    const r = this.#resolveTemplate(value, label);
    return r instanceof Secret ? unwrapSecret(r) : r;
  }

  /** A variable's value rendered: a string as a template, a list or mapping deeply (Ansible templates a variable whole on access). */
  #resolveTemplate(raw: unknown, label: string): unknown {
    if (this.#resolving.includes(label)) {
      const chain = [...this.#resolving.slice(this.#resolving.indexOf(label)), label].join(" -> ");
      throw new TemplateError(`Recursive loop detected in variable "${label.replace(/^\./, "")}": ${chain}${this.where ? ` (${this.where})` : ""}`, {
        hint: "A variable's template refers back to itself; give one of them a plain value.",
      });
    }
    this.#resolving.push(label);
    try {
      if (typeof raw === "string") return this.renderString(raw);
      const before = secretUse.count;
      const value = this.#deep(raw, false);
      // A container that read a secret is secret as a whole when printed (its strings are Secrets already).
      return secretUse.count === before ? value : secretStrings(value);
    } finally {
      this.#resolving.pop();
    }
  }

  /** Finds a file in the search paths (as given, then relative to each; `templates/` and `files/` subfolders too). */
  findFile(name: string, kind: FileKind = "files"): string | undefined {
    if (isAbsolute(name)) return existsSync(name) ? name : undefined;
    for (const dir of this.searchPaths) {
      for (const candidate of [join(dir, kind, name), join(dir, name)]) if (existsSync(candidate)) return candidate;
    }
    const fromCwd = resolve(name);
    return existsSync(fromCwd) ? fromCwd : undefined;
  }

  loadTemplate(name: string): { src: string; path: string } {
    const path = this.findFile(name, "templates");
    if (!path) {
      throw new TemplateError(`Template "${name}" not found${this.searchPaths.length ? ` in ${this.searchPaths.join(", ")}` : ""}`, {
        hint: "Put it in the role's templates/ folder or give a path relative to the playbook.",
      });
    }
    return { src: readFileSync(path, "utf8"), path };
  }
}

/** Containers known to hold no template string (variables are not changed in place). */
const templateFree = new WeakSet<object>();
/** Objects that render their own members lazily (hostvars): never walked. */
export const lazyViews = new WeakSet<object>();

/** Whether a list or plain mapping holds a template string at any depth (answers cached for those that do not). */
export function holdsTemplate(value: unknown): boolean {
  if (typeof value === "string") return MARKERS.test(value);
  if (value === null || typeof value !== "object" || value instanceof Secret || templateFree.has(value) || lazyViews.has(value) || isUnsafe(value)) return false;
  let found = false;
  if (Array.isArray(value)) found = value.some(holdsTemplate);
  else if (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null) {
    for (const key in value) if (holdsTemplate((value as Record<string, unknown>)[key])) {
      found = true;
      break;
    }
  }
  if (!found) templateFree.add(value);
  return found;
}

/**
 * The variables Ansible adds while it renders a template file; like Ansible's they win over the
 * play's. ansible_managed is Ansible's default string (ansible.cfg's ansible_managed is not read).
 */
function templateVars(path: string): Record<string, unknown> {
  const full = resolve(path);
  return { ansible_managed: "Ansible managed", template_path: full, template_fullpath: full, template_host: hostname(), template_uid: controllerUser() };
}

function controllerUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? "");
  }
}

/**
 * Whether the text between the outer `{{` and `}}` is one expression: no other tag opens, and
 * every `}}` in it closes dict braces (quotes skipped), as Jinja's lexer balances them.
 */
function isOneExpression(inner: string): boolean {
  if (inner.includes("{{") || inner.includes("{%")) return false;
  if (!inner.includes("}}")) return true;
  let depth = 0;
  let quote = "";
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = "";
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "{") depth++;
    else if (c === "}") {
      if (depth === 0) return false;
      depth--;
    }
  }
  return depth === 0;
}

/** `{{- x -}}` / `{{+ x }}`: the whitespace-control marks are not part of the expression. */
function stripWhitespaceControl(inner: string): string {
  return inner.replace(/^[-+]/, "").replace(/[-+]$/, "");
}

/** A string of a playbook (not a template file, not a condition): Ansible's backslash rule (engine.ts). */
const PLAYBOOK_STRING: CompileOptions = { trimBlocks: true, lstripBlocks: false, verbatimVariableStrings: true };

const JINJA2_OVERRIDE = "#jinja2:";

/**
 * A template's first line `#jinja2: trim_blocks: False, lstrip_blocks: True` overrides the
 * environment's options for that template and is not part of the output (Ansible's Templar).
 */
export function jinjaOverrides(text: string, ws: BlockWhitespace, sourceName: string): { body: string; ws: BlockWhitespace } {
  if (!text.startsWith(JINJA2_OVERRIDE)) return { body: text, ws };
  const eol = text.indexOf("\n");
  const line = text.slice(JINJA2_OVERRIDE.length, eol < 0 ? text.length : eol);
  const out = { ...ws };
  for (const pair of line.split(",")) {
    const colon = pair.indexOf(":");
    if (colon < 0) {
      throw new TemplateError(`failed to parse jinja2 override '${pair.trim()}' in ${sourceName}. Did you use something different from colon as key-value separator?`);
    }
    const key = pair.slice(0, colon).trim();
    const value = pair.slice(colon + 1).trim();
    if (key !== "trim_blocks" && key !== "lstrip_blocks") {
      throw new TemplateError(`The jinja2 override '${key}' in ${sourceName} is not supported`, { hint: "Supported: trim_blocks and lstrip_blocks (True or False)." });
    }
    if (value !== "True" && value !== "False") throw new TemplateError(`The jinja2 override ${key} in ${sourceName} must be True or False, not '${value}'`);
    out[key === "trim_blocks" ? "trimBlocks" : "lstripBlocks"] = value === "True";
  }
  return { body: eol < 0 ? "" : text.slice(eol + 1), ws: out };
}
