/**
 * Turns one task as written (a YAML mapping) into a Task: keywords parsed, the one module key
 * resolved (short name, FQCN, action:/local_action:), one-line `k=v` arguments split, with_*
 * loops turned into `loop`, arguments validated against the module's schema. Lists of tasks,
 * blocks and the static imports they expand are task-list.ts's.
 *
 * Tags are flattened: every Item carries its own tags plus everything it inherits (play, role
 * name and role entry tags, enclosing blocks and imports), so tag selection needs only the
 * item. Other keywords (when, become, vars, ...) stay on the block/import that wrote them and
 * the executor applies a Block's keywords to its children.
 */
import type { BoolKeyword, RoleContext, Task, TaskKeywords } from "./types.ts";
import type { ModuleDefinition } from "../modules/types.ts";
import { UserError, didYouMean, type SourcePosition } from "../errors.ts";
import { positionOf, positionOfKey } from "../yaml/load.ts";
import { getModule, moduleNames } from "../modules/registry.ts";
import { controllerActionNames, getControllerAction, normaliseActionArgs, type ControllerAction, type ControllerActionName } from "./actions.ts";
import { SUPPORTED_WITH, TASK_KEYWORDS, UNSUPPORTED_KEYWORDS, WITH_LOOKUPS } from "./keywords.ts";
import { parseFreeForm } from "./free-form.ts";
import { validateModuleArgs } from "./validate-args.ts";
import { hasTemplate } from "./load-time-template.ts";
import { parseBoolean } from "../boolean.ts";

/** Play-wide role bookkeeping: handlers collected, roles seen (run once unless allow_duplicates). */
export interface PlayRoles {
  handlers: Task[];
  roles: RoleContext[];
  seen: Set<string>;
}

/** What the parser needs to know about where it is. */
export interface ParseContext {
  /** Set while loading a play: role handlers and roles are collected here. */
  play?: PlayRoles;
  /** The YAML file being parsed (for positions and relative imports). */
  file: string;
  /** The playbook's directory (Task.baseDir). */
  baseDir: string;
  role?: RoleContext;
  /** Tags inherited from the play, roles, blocks and imports around. */
  tags: string[];
  /** Names of the roles around (TaskKeywords.roleTags). */
  roleTags?: string[];
  /** Variables known at load time (play vars + extra vars), for templated import names. */
  vars: Record<string, unknown>;
  /** Files being imported, outermost first (cycle detection). */
  stack: string[];
  /**
   * Inside a `when:` (a block's, an import's, a role entry's): the tasks may never run, so a
   * module's arguments are checked when it runs, as Ansible does, not when the file loads.
   */
  conditional?: boolean;
}

type Raw = Record<string, unknown>;
type Resolved = { kind: "action"; def: ControllerAction<ControllerActionName> } | { kind: "module"; def: ModuleDefinition };

function resolveName(name: string): Resolved | undefined {
  const action = getControllerAction(name);
  if (action) return { kind: "action", def: action };
  const module = getModule(name);
  return module ? { kind: "module", def: module } : undefined;
}

function allNames(): string[] {
  return [...controllerActionNames(), ...moduleNames()];
}

export function at(raw: unknown, key: string, ctx: ParseContext): SourcePosition {
  return positionOfKey(raw, key) ?? positionOf(raw) ?? { file: ctx.file };
}

// ---------------------------------------------------------------- keyword values

/** A yes/no keyword; templated values are not supported for keywords (clear error). */
export function toBool(value: unknown, key: string, where: SourcePosition): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  const parsed = parseBoolean(value);
  if (parsed !== undefined) return parsed;
  if (typeof value === "string") {
    if (hasTemplate(value)) {
      throw new UserError(`"${key}: ${value}": a template is not supported for ${key}`, {
        where,
        hint: `Write ${key}: yes or ${key}: no (use when: to choose between two tasks).`,
      });
    }
  }
  throw new UserError(`"${key}" must be yes or no, got ${JSON.stringify(value)}`, { where });
}

/** A yes/no task keyword: a template stays a string, rendered per host when the task runs. */
function toBoolKeyword(value: unknown, key: string, where: SourcePosition): BoolKeyword | undefined {
  return typeof value === "string" && hasTemplate(value) ? value : toBool(value, key, where);
}

/** when/changed_when/failed_when/until as a list of conditions. */
export function toConditions(value: unknown): Array<string | boolean> | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value : [value];
  return list.map((c) => (typeof c === "boolean" ? c : String(c).trim()));
}

/** tags as written: a string (comma list allowed), a number, or a list. */
export function toTags(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.flatMap((t) => String(t).split(",")).map((t) => t.trim()).filter(Boolean);
}

/** Union keeping first-seen order. */
export function mergeTags(...lists: string[][]): string[] {
  return [...new Set(lists.flat())];
}

export function toStringList(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  return (Array.isArray(value) ? value : [value]).map(String);
}

function toNumber(value: unknown, key: string, where: SourcePosition): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === "number" ? value : Number(value);
  if (typeof value === "string" && hasTemplate(value)) {
    throw new UserError(`"${key}: ${value}": a template is not supported for ${key}`, { where, hint: `Write a number.` });
  }
  if (!Number.isFinite(n)) throw new UserError(`"${key}" must be a number, got ${JSON.stringify(value)}`, { where });
  return n;
}

function toMapping(value: unknown, key: string, where: SourcePosition): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new UserError(`"${key}" must be a mapping, got ${typeof value === "string" ? JSON.stringify(value) : Array.isArray(value) ? "a list" : String(value)}`, {
    where,
    hint: key === "environment" ? "Write environment as a mapping of NAME: value (a templated environment is not supported)." : undefined,
  });
}

/** The keywords shared by tasks and blocks, with inherited tags merged in. */
export function parseKeywords(raw: Raw, ctx: ParseContext): TaskKeywords {
  const w = (k: string) => at(raw, k, ctx);
  const kw: TaskKeywords = { tags: mergeTags(ctx.tags, toTags(raw.tags)) };
  if (ctx.roleTags?.length) kw.roleTags = ctx.roleTags;
  if (raw.name !== undefined && raw.name !== null) kw.name = String(raw.name);
  if (raw.when !== undefined) kw.when = toConditions(raw.when);
  if (raw.become !== undefined) kw.become = toBoolKeyword(raw.become, "become", w("become"));
  if (raw.become_user !== undefined && raw.become_user !== null) kw.becomeUser = String(raw.become_user);
  if (raw.vars !== undefined) kw.vars = toMapping(raw.vars, "vars", w("vars"));
  if (raw.environment !== undefined) kw.environment = toMapping(raw.environment, "environment", w("environment"));
  if (raw.ignore_errors !== undefined) kw.ignoreErrors = toBoolKeyword(raw.ignore_errors, "ignore_errors", w("ignore_errors"));
  if (raw.no_log !== undefined) kw.noLog = toBoolKeyword(raw.no_log, "no_log", w("no_log"));
  if (raw.run_once !== undefined) kw.runOnce = toBoolKeyword(raw.run_once, "run_once", w("run_once"));
  if (raw.delegate_to !== undefined && raw.delegate_to !== null) kw.delegateTo = String(raw.delegate_to);
  if (raw.check_mode !== undefined) kw.checkMode = toBoolKeyword(raw.check_mode, "check_mode", w("check_mode"));
  if (raw.diff !== undefined) kw.diff = toBoolKeyword(raw.diff, "diff", w("diff"));
  if (raw.any_errors_fatal !== undefined) kw.anyErrorsFatal = toBoolKeyword(raw.any_errors_fatal, "any_errors_fatal", w("any_errors_fatal"));
  if (raw.become_method !== undefined && raw.become_method !== "sudo") {
    throw new UserError(`become_method "${String(raw.become_method)}" is not supported (only sudo)`, { where: w("become_method") });
  }
  return kw;
}

/** The module key of a task (checked: exactly one, known), or a UserError with "did you mean". */
function findModuleKey(raw: Raw, ctx: ParseContext): { key: string; name: string; value: unknown; resolved: Resolved; local: boolean } {
  const moduleKeys: string[] = [];
  const unknown: string[] = [];
  for (const key of Object.keys(raw)) {
    if (key === "action" || key === "local_action") {
      moduleKeys.push(key);
      continue;
    }
    if (TASK_KEYWORDS.has(key)) continue;
    if (key in UNSUPPORTED_KEYWORDS) {
      throw new UserError(`task keyword "${key}" is not supported`, { where: at(raw, key, ctx), hint: UNSUPPORTED_KEYWORDS[key] });
    }
    if (resolveName(key)) moduleKeys.push(key);
    else unknown.push(key);
  }
  for (const key of unknown) {
    const keyword = didYouMean(key, TASK_KEYWORDS);
    const module = didYouMean(key, allNames());
    const candidates = [keyword, module].filter((x): x is string => x !== undefined);
    const best = candidates.length ? didYouMean(key, moduleKeys.length ? candidates : candidates.reverse()) : undefined;
    const where = at(raw, key, ctx);
    const looksLikeModule = best !== undefined ? best === module : unknown.length === 1;
    if (moduleKeys.length === 0 && looksLikeModule) {
      throw new UserError(`Unknown module "${key}"${module ? `; did you mean "${module}"?` : ""}`, {
        where,
        hint: module ? undefined : "Supported modules are listed in scripts/lib/modules/registry.ts (short names or ansible.builtin.*).",
      });
    }
    throw new UserError(`unknown task keyword "${key}"${best ? `; did you mean "${best}"?` : ""}`, {
      where,
      hint: best ? undefined : moduleKeys.length ? `A task has exactly one module (here "${moduleKeys[0]}"); "${key}" is neither a keyword nor a module.` : undefined,
    });
  }
  if (moduleKeys.length === 0) {
    throw new UserError(`task has no module${raw.name ? ` (task "${String(raw.name)}")` : ""}`, {
      where: positionOf(raw) ?? { file: ctx.file },
      hint: "Add one module key, e.g. `ansible.builtin.command: uptime`.",
    });
  }
  if (moduleKeys.length > 1) {
    throw new UserError(`conflicting modules in one task: ${moduleKeys.map((k) => `"${k}"`).join(" and ")}`, {
      where: at(raw, moduleKeys[1], ctx),
      hint: "A task runs exactly one module; split it into two tasks.",
    });
  }
  const key = moduleKeys[0];
  const value = raw[key];
  if (key === "action" || key === "local_action") {
    const where = at(raw, key, ctx);
    let name: string;
    let rest: unknown;
    if (typeof value === "string") {
      const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(value);
      if (!m) throw new UserError(`"${key}" is empty`, { where });
      name = m[1];
      rest = m[2] === "" ? null : m[2];
    } else if (value && typeof value === "object" && !Array.isArray(value) && typeof (value as Raw).module === "string") {
      const { module, ...args } = value as Raw;
      name = module as string;
      rest = args;
    } else {
      throw new UserError(`"${key}" must be "module args..." or a mapping with "module:"`, { where });
    }
    const resolved = resolveName(name);
    if (!resolved) {
      const guess = didYouMean(name, allNames());
      throw new UserError(`Unknown module "${name}"${guess ? `; did you mean "${guess}"?` : ""}`, { where });
    }
    return { key, name, value: rest, resolved, local: key === "local_action" };
  }
  return { key, name: key, value, resolved: resolveName(key)!, local: false };
}

/** Where a task's module key is written (for messages about its arguments). */
export function modulePosition(raw: Raw, ctx: ParseContext): SourcePosition {
  return at(raw, findModuleKey(raw, ctx).key, ctx);
}

/** The arguments of the module key, from a mapping, a one-line string, or nothing; `args:` merged under. */
function moduleArgs(raw: Raw, found: ReturnType<typeof findModuleKey>, ctx: ParseContext): Record<string, unknown> {
  const where = at(raw, found.key, ctx);
  const def = found.resolved.def;
  let args: Record<string, unknown>;
  const value = found.value;
  if (value === null || value === undefined) args = {};
  else if (typeof value === "string" || typeof value === "number") {
    const text = String(value);
    const freeForm = def.freeForm;
    const keyValueOnly = found.resolved.kind === "action" ? found.resolved.def.keyValueOnly === true : !freeForm;
    const props = Object.keys(((def.schema.properties ?? {}) as object)).filter((k) => k !== freeForm);
    // Free-form modules take out only their own options (command: `chdir=/tmp ls`), others every k=v.
    const parsed = parseFreeForm(text, freeForm && !keyValueOnly ? new Set(props) : undefined);
    args = { ...parsed.args };
    if (parsed.raw !== "") {
      if (!freeForm) {
        throw new UserError(`module ${def.name}: cannot read "${parsed.raw.length > 40 ? parsed.raw.slice(0, 40) + "..." : parsed.raw}" (expected key=value pairs or a mapping)`, {
          where,
          hint: `Write the arguments as a mapping under "${found.name}:".`,
        });
      }
      args[freeForm] = parsed.raw;
    }
  } else if (typeof value === "object" && !Array.isArray(value)) {
    args = value as Record<string, unknown>;
  } else {
    throw new UserError(`module ${def.name}: arguments must be a mapping or a key=value string, got a list`, { where });
  }
  if (raw.args !== undefined && raw.args !== null) {
    const extra = toMapping(raw.args, "args", at(raw, "args", ctx))!;
    // Inline arguments win over `args:` (Ansible merges the same way); keep positions of the
    // mapping that holds most keys for error messages.
    args = Object.keys(args).length === 0 ? extra : { ...extra, ...args };
  }
  if (found.resolved.kind === "action") args = normaliseActionArgs(def.name, args);
  return args;
}

/** loop / with_* as `loop` (+ loopFrom), one of them at most. */
function parseLoop(raw: Raw, ctx: ParseContext): Pick<Task, "loop" | "loopFrom"> {
  const loops = Object.keys(raw).filter((k) => k === "loop" || (WITH_LOOKUPS as readonly string[]).includes(k));
  if (loops.length === 0) return {};
  if (loops.length > 1) {
    throw new UserError(`a task has one loop, found ${loops.map((l) => `"${l}"`).join(" and ")}`, { where: at(raw, loops[1], ctx) });
  }
  const key = loops[0];
  const value = raw[key];
  if (key === "loop") return { loop: value };
  if (!SUPPORTED_WITH.has(key)) {
    throw new UserError(`"${key}" is not supported`, { where: at(raw, key, ctx), hint: "Use loop: with a filter instead (see Ansible's 'Migrating from with_X to loop')." });
  }
  if (key === "with_items") {
    if (Array.isArray(value)) return { loop: value.flatMap((v) => (Array.isArray(v) ? v : [v])) };
    return { loop: value, loopFrom: "with_items" };
  }
  if (key === "with_dict") {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      return { loop: Object.entries(value).map(([k, v]) => ({ key: k, value: v })) };
    }
    if (typeof value === "string") {
      const m = /^\s*\{\{\s*([\s\S]*?)\s*\}\}\s*$/.exec(value);
      if (m) return { loop: `{{ (${m[1]}) | dict2items }}`, loopFrom: "with_dict" };
    }
    throw new UserError(`"with_dict" must be a mapping or "{{ a_mapping }}"`, { where: at(raw, key, ctx) });
  }
  if (key === "with_list") return { loop: value };
  if (key === "with_first_found") return { loop: value, loopFrom: "with_first_found" };
  if (key === "with_subelements") return { loop: value, loopFrom: "with_subelements" };
  return { loop: value, loopFrom: "with_fileglob" };
}

function parseLoopControl(value: unknown): Task["loopControl"] {
  if (!value || typeof value !== "object") return undefined;
  const v = value as Raw;
  const lc: NonNullable<Task["loopControl"]> = {};
  if (v.loop_var !== undefined) lc.loopVar = String(v.loop_var);
  if (v.index_var !== undefined) lc.indexVar = String(v.index_var);
  if (v.label !== undefined) lc.label = String(v.label);
  if (v.pause !== undefined) lc.pause = Number(v.pause);
  if (v.extended !== undefined) lc.extended = parseBoolean(v.extended) === true;
  return lc;
}

/**
 * A module's arguments checked at load, so a mistake in a task every host runs is named before
 * anything runs. Under a `when:` the task may never run (a yum-only `enablerepo`, a typo on a
 * RedHat-only path): Ansible checks arguments only when a task runs, so such a task keeps its
 * arguments as written and the executor checks them for the host that runs it.
 */
function checkArgsAtLoad(def: Pick<ModuleDefinition, "name" | "schema">, args: Raw, where: SourcePosition, mayBeSkipped: boolean): Raw {
  try {
    return validateModuleArgs(def, args, where, { templated: true });
  } catch (e) {
    if (mayBeSkipped && e instanceof UserError) return args;
    throw e;
  }
}

/** One task (import_tasks/import_role stay tasks here: task-list.ts expands them). */
export function parseTask(raw: Raw, ctx: ParseContext): Task {
  const found = findModuleKey(raw, ctx);
  const where = positionOf(raw) ?? { file: ctx.file };
  const moduleWhere = at(raw, found.key, ctx);
  const def = found.resolved.def;
  let args = moduleArgs(raw, found, ctx);
  args = checkArgsAtLoad(def, args, moduleWhere, found.resolved.kind === "module" && (raw.when !== undefined || ctx.conditional === true));
  const task: Task = {
    ...parseKeywords(raw, ctx),
    kind: "task",
    module: def.name,
    args,
    where,
    baseDir: ctx.baseDir,
    ...parseLoop(raw, ctx),
  };
  if (found.resolved.kind === "action") task.action = found.resolved.def.name;
  if (ctx.role) task.role = ctx.role;
  if (found.local) task.delegateTo = "localhost";
  const lc = parseLoopControl(raw.loop_control);
  if (lc) task.loopControl = lc;
  if (raw.register !== undefined && raw.register !== null) task.register = String(raw.register);
  const notify = toStringList(raw.notify);
  if (notify) task.notify = notify;
  const listen = toStringList(raw.listen);
  if (listen) task.listen = listen;
  const changedWhen = toConditions(raw.changed_when);
  if (changedWhen) task.changedWhen = changedWhen;
  const failedWhen = toConditions(raw.failed_when);
  if (failedWhen) task.failedWhen = failedWhen;
  const until = toConditions(raw.until);
  if (until) task.until = until;
  const retries = toNumber(raw.retries, "retries", at(raw, "retries", ctx));
  if (retries !== undefined) task.retries = retries;
  const delay = toNumber(raw.delay, "delay", at(raw, "delay", ctx));
  if (delay !== undefined) task.delay = delay;
  if (raw.ignore_unreachable !== undefined) task.ignoreUnreachable = toBoolKeyword(raw.ignore_unreachable, "ignore_unreachable", at(raw, "ignore_unreachable", ctx));
  if (until && task.retries === undefined) task.retries = 3; // Ansible's default when until is set

  // `--tags ntp` selects a role by name (its tasks carry it); an include_role of that role must
  // be selected too, or the included tasks are never reached.
  if (task.module === "include_role" && typeof args.name === "string" && !hasTemplate(args.name)) {
    task.roleTags = mergeTags(task.roleTags ?? [], [args.name.split("/").filter(Boolean).pop() ?? args.name]);
  }
  return task;
}

