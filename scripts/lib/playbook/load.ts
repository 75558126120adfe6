/**
 * Loads a playbook into plain data (types.ts): plays with their vars_files read, roles and
 * static imports expanded, every task's module resolved and its arguments validated. Also
 * the run-time loaders the executor calls for include_tasks and include_role.
 *
 * What the executor can rely on:
 * - Tags are flattened: every Task/Block carries its own tags plus all inherited ones (play,
 *   role entry, blocks, imports) and, apart, the names of its roles (roleTags), so
 *   `selectedByTags(task.tags, filter, task.roleTags)` decides.
 * - Other keywords (when, become, become_user, vars, environment, ignore_errors, no_log, ...)
 *   stay on the Block that wrote them (a role entry, `block:`, import_tasks/import_role); the
 *   executor applies a Block's keywords to its children (all `when`s must hold; the innermost
 *   become/vars win).
 * - Play.items holds pre_tasks, roles (one Block per role, dependencies first, each once per
 *   play unless allow_duplicates or other parameters), tasks, post_tasks, with implicit
 *   `meta: flush_handlers` tasks (Task.implicit, tag "always") after pre_tasks and before
 *   post_tasks, as Ansible; the end-of-play flush is the executor's.
 * - Module names are canonical (`ansible.builtin.copy` -> "copy"), args validated with
 *   templated values unchecked; `local_action` sets delegateTo "localhost"; with_items/with_dict
 *   literals are converted to `loop`, templated ones keep Task.loopFrom.
 * - include_tasks/include_role stay tasks (the executor expands them with loadIncludedTasks/loadIncludedRole);
 *   import_tasks/import_role are expanded into Blocks (origin "import_tasks"/"import_role").
 * - Handlers: Play.handlers (role handlers first); they carry no tags (run notified handlers
 *   whatever --tags says).
 *
 * @example
 *   const playbook = loadPlaybook("playbooks/site.yml", { extraVars });
 */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Block, Item, Play, Playbook, RoleContext, Task, TaskKeywords } from "./types.ts";
import { UserError, type SourcePosition } from "../errors.ts";
import { loadYamlFile, positionOf, positionOfItem, positionOfKey } from "../yaml/load.ts";
import { validateStructure } from "./structure.ts";
import { mergeTags, parseKeywords, toBool, toTags, type ParseContext, type PlayRoles } from "./task.ts";
import { parseHandlers, parseItems, readTaskList, resolveTaskFile, roleItems } from "./task-list.ts";
import { parseRoleEntry, type RoleEntry } from "./role.ts";
import { hasTemplate, renderLoadTimeName } from "./load-time-template.ts";

export { selectedByTags } from "./tags.ts";

type Raw = Record<string, unknown>;

export interface LoadPlaybookOptions {
  /** -e values: they win over play vars for templated vars_files / import names. */
  extraVars?: Record<string, unknown>;
}

/** Loads, validates and expands a playbook file. Throws UserError with file:line:col. */
export function loadPlaybook(file: string, options: LoadPlaybookOptions = {}): Playbook {
  const path = resolve(file);
  return { file: path, plays: loadPlays(path, options.extraVars ?? {}, [], {}, []) };
}

/**
 * A playbook built in memory (the ad-hoc command's one-task play), loaded as a file's plays
 * would be; `file` places it: messages name it and relative paths start from its folder.
 */
export function playbookFromData(plays: Raw[], file: string, options: LoadPlaybookOptions = {}): Playbook {
  const path = resolve(file);
  validateStructure(plays, "playbook", path);
  return { file: path, plays: plays.map((raw) => loadPlay(raw, path, options.extraVars ?? {}, {}, [], [path])) };
}

function loadPlays(file: string, extraVars: Record<string, unknown>, stack: string[], importVars: Raw, importTags: string[]): Play[] {
  if (stack.includes(file)) throw new UserError(`import_playbook cycle: ${[...stack, file].join(" -> ")}`, { where: { file } });
  const data = loadYamlFile(file);
  if (data === null || data === undefined || (Array.isArray(data) && data.length === 0)) {
    throw new UserError(`the playbook is empty`, { where: { file }, hint: "A playbook is a list of plays, each with hosts: and tasks: (or roles:)." });
  }
  if (!Array.isArray(data)) {
    throw new UserError(`a playbook must be a list of plays`, {
      where: positionOf(data) ?? { file, line: 1, col: 1 },
      hint: "Start each play with `- name: ...` / `  hosts: ...`.",
    });
  }
  const PLAY_ONLY = ["hosts", "import_playbook", "ansible.builtin.import_playbook", "tasks", "roles", "pre_tasks", "post_tasks", "handlers"];
  const first = data[0];
  if (first && typeof first === "object" && !Array.isArray(first) && !PLAY_ONLY.some((k) => k in first)) {
    throw new UserError(`this looks like a list of tasks, not a playbook (no "hosts:")`, {
      where: positionOf(first) ?? { file },
      hint: "Run task files from a play: `- hosts: all` / `  tasks:` / `    - import_tasks: this-file.yml`.",
    });
  }
  validateStructure(data, "playbook", file);
  const plays: Play[] = [];
  for (const raw of data as Raw[]) {
    const importKey = "import_playbook" in raw ? "import_playbook" : "ansible.builtin.import_playbook" in raw ? "ansible.builtin.import_playbook" : undefined;
    if (importKey) {
      const where = positionOfKey(raw, importKey) ?? { file };
      if (raw.when !== undefined) {
        throw new UserError(`"when" on import_playbook is not supported`, { where: positionOfKey(raw, "when") ?? where, hint: "Put the condition on the imported plays or tasks." });
      }
      let name = String(raw[importKey]);
      if (hasTemplate(name)) name = renderLoadTimeName(name, { ...importVars, ...extraVars }, where, "import_playbook file");
      const target = resolve(dirname(file), name);
      if (!existsSync(target)) throw new UserError(`Playbook "${name}" not found`, { where, hint: `Looked for ${target}` });
      const vars = { ...importVars, ...((raw.vars as Raw | undefined) ?? {}) };
      plays.push(...loadPlays(target, extraVars, [...stack, file], vars, mergeTags(importTags, toTags(raw.tags))));
    } else {
      plays.push(loadPlay(raw, file, extraVars, importVars, importTags, [...stack, file]));
    }
  }
  return plays;
}

function playVars(value: unknown, where: SourcePosition): Raw {
  if (value === undefined || value === null) return {};
  if (Array.isArray(value)) return Object.assign({}, ...value);
  if (typeof value === "object") return value as Raw;
  throw new UserError(`"vars" must be a mapping`, { where });
}

/** vars_files: names (rendered from play vars and -e), a nested list = the first that exists. */
function loadVarsFiles(value: unknown, baseDir: string, vars: Raw, file: string): Raw {
  const out: Raw = {};
  if (!Array.isArray(value)) return out;
  for (const [index, entry] of value.entries()) {
    const where = positionOf(entry) ?? positionOfItem(value, index) ?? { file };
    const names = (Array.isArray(entry) ? entry : [entry]).map((n) => {
      const name = String(n);
      return hasTemplate(name) ? renderLoadTimeName(name, vars, where, "vars_files entry") : name;
    });
    const paths = names.map((n) => resolve(baseDir, n));
    const found = paths.find((p) => existsSync(p));
    if (!found) {
      throw new UserError(
        Array.isArray(entry) ? `none of the vars_files ${names.map((n) => `"${n}"`).join(", ")} exists` : `vars_files "${names[0]}" not found`,
        { where, hint: `Looked for ${paths.join(", ")}` },
      );
    }
    const data = loadYamlFile(found);
    if (data === null || data === undefined) continue;
    if (typeof data !== "object" || Array.isArray(data)) {
      throw new UserError(`a vars file must be a mapping of names to values`, { where: positionOf(data) ?? { file: found } });
    }
    Object.assign(out, data);
  }
  return out;
}

function flushHandlersTask(where: SourcePosition, baseDir: string): Task {
  return {
    kind: "task",
    module: "meta",
    action: "meta",
    args: { _raw_params: "flush_handlers" },
    name: "meta: flush_handlers",
    tags: ["always"],
    where,
    baseDir,
    implicit: true,
  };
}

function loadPlay(raw: Raw, file: string, extraVars: Raw, importVars: Raw, importTags: string[], stack: string[]): Play {
  const baseDir = dirname(file);
  const where = positionOf(raw) ?? { file };
  const w = (k: string) => positionOfKey(raw, k) ?? where;
  const hosts = Array.isArray(raw.hosts) ? raw.hosts.map(String).join(",") : String(raw.hosts ?? "");
  if (hosts.trim() === "") throw new UserError(`"hosts" is empty`, { where: w("hosts"), hint: "Name a host, a group, or all." });
  const vars = { ...importVars, ...playVars(raw.vars, w("vars")) };
  const loadTimeVars = { ...vars, ...extraVars };
  const varsFiles = loadVarsFiles(raw.vars_files, baseDir, loadTimeVars, file);
  const tags = mergeTags(importTags, toTags(raw.tags));
  const play: PlayRoles = { handlers: [], roles: [], seen: new Set() };
  const ctx: ParseContext = { file, baseDir, tags, vars: { ...vars, ...varsFiles, ...extraVars }, stack, play };

  const pre = parseItems(raw.pre_tasks, ctx, "pre_tasks");
  const roles: Item[] = [];
  const roleList = (raw.roles as unknown[] | undefined) ?? [];
  roleList.forEach((entry, i) => {
    roles.push(...roleItems(parseRoleEntry(entry, file, ctx.vars, positionOfItem(roleList, i)), ctx, { play, origin: "role", dedupe: true }));
  });
  const tasks = parseItems(raw.tasks, ctx, "tasks");
  const post = parseItems(raw.post_tasks, ctx, "post_tasks");
  const playHandlers = parseHandlers(raw.handlers, { ...ctx, tags: [] });

  // Ansible flushes notified handlers after pre_tasks and after roles+tasks; the executor
  // flushes at the end of the play.
  const items: Item[] = [...pre];
  if (pre.length > 0) items.push(flushHandlersTask(w("pre_tasks"), baseDir));
  items.push(...roles, ...tasks);
  if (post.length > 0) items.push(flushHandlersTask(w("post_tasks"), baseDir), ...post);

  const result: Play = {
    name: raw.name !== undefined && raw.name !== null ? String(raw.name) : hosts,
    hosts,
    where,
    vars,
    varsFiles,
    gatherFacts: toBool(raw.gather_facts, "gather_facts", w("gather_facts")) ?? true,
    anyErrorsFatal: toBool(raw.any_errors_fatal, "any_errors_fatal", w("any_errors_fatal")) ?? false,
    tags,
    items,
    handlers: [...play.handlers, ...playHandlers],
    roles: play.roles,
    baseDir,
  };
  const become = toBool(raw.become, "become", w("become"));
  if (become !== undefined) result.become = become;
  if (raw.become_user !== undefined && raw.become_user !== null) result.becomeUser = String(raw.become_user);
  if (raw.remote_user !== undefined && raw.remote_user !== null) result.remoteUser = String(raw.remote_user);
  if (Array.isArray(raw.vars_prompt) && raw.vars_prompt.length > 0) {
    result.varsPrompt = (raw.vars_prompt as Raw[]).map((entry, i) => ({
      name: String(entry.name),
      prompt: entry.prompt !== undefined && entry.prompt !== null ? String(entry.prompt) : String(entry.name),
      private: toBool(entry.private, "private", positionOfKey(entry, "private") ?? where) ?? true,
      ...(entry.default !== undefined ? { default: entry.default } : {}),
      confirm: toBool(entry.confirm, "confirm", positionOfKey(entry, "confirm") ?? where) ?? false,
      where: positionOfItem(raw.vars_prompt as unknown[], i) ?? w("vars_prompt"),
    }));
  }
  if (raw.serial !== undefined && raw.serial !== null) {
    result.serial = (Array.isArray(raw.serial) ? raw.serial : [raw.serial]).map((s) => (typeof s === "number" ? s : /^\d+$/.test(String(s)) ? Number(s) : String(s)));
    // Caught here, with its place, rather than when the play starts.
    // A templated entry ("{{ agents_serial }}") is rendered when the play starts.
    const bad = result.serial.find((s) => typeof s === "string" && !/^\s*\d+(\.\d+)?\s*%?\s*$/.test(s) && !/\{\{|\{%/.test(s));
    if (bad !== undefined) {
      throw new UserError(`"serial" must be a number, a percentage or a list of those, got ${JSON.stringify(bad)}`, { where: w("serial"), hint: 'Write serial: 2, serial: "30%" or serial: [1, "50%"].' });
    }
  }
  if (raw.max_fail_percentage !== undefined && raw.max_fail_percentage !== null) {
    const n = Number(String(raw.max_fail_percentage).replace(/%$/, ""));
    if (!Number.isFinite(n)) throw new UserError(`"max_fail_percentage" must be a number`, { where: w("max_fail_percentage") });
    result.maxFailPercentage = n;
  }
  if (raw.connection !== undefined) result.connection = raw.connection === "local" ? "local" : "ssh";
  const check = toBool(raw.check_mode, "check_mode", w("check_mode"));
  if (check !== undefined) result.checkMode = check;
  return result;
}

export interface TaskFileContext {
  role?: RoleContext;
  /** The playbook's directory (Task.baseDir of the loaded tasks). */
  baseDir: string;
  /** Keywords of the include (tags are merged into every item; others wrap the items in a Block). */
  inherited?: Partial<TaskKeywords>;
  /** Variables for templated import_tasks names inside the file. */
  vars?: Record<string, unknown>;
}

/**
 * Loads a task file (for include_tasks at run time, or tests). Tags in `inherited` go onto
 * every item; other inherited keywords wrap the items in one Block (origin "included").
 */
export function loadTaskFile(file: string, context: TaskFileContext): Item[] {
  const path = resolve(file);
  const inheritedTags = context.inherited?.tags ?? [];
  const ctx: ParseContext = {
    file: path,
    baseDir: context.baseDir,
    role: context.role,
    tags: inheritedTags,
    roleTags: context.inherited?.roleTags,
    vars: { ...(context.role?.defaults ?? {}), ...(context.vars ?? {}), ...(context.role?.vars ?? {}) },
    stack: [path],
  };
  const items = parseItems(readTaskList(path), ctx);
  const { tags: _t, roleTags: _r, ...rest } = context.inherited ?? {};
  if (Object.values(rest).every((v) => v === undefined)) return items;
  const block: Block = { ...rest, tags: inheritedTags, kind: "block", block: items, rescue: [], always: [], where: { file: path }, origin: "included" };
  if (context.role) block.role = context.role;
  return [block];
}

/**
 * include_role / import_role at run time: the role's dependencies' blocks then the role's
 * own block, with `Block.handlers` set for the executor to add to the play's handlers.
 */
export function loadIncludedRole(name: string, from: Task, options: { tasksFrom?: string } = {}): Item[] {
  const args = from.args;
  const entry: RoleEntry = {
    name,
    params: {},
    keywords: {},
    where: from.where,
    tasksFrom: options.tasksFrom ?? (args.tasks_from as string | undefined),
    varsFrom: args.vars_from as string | undefined,
    defaultsFrom: args.defaults_from as string | undefined,
    handlersFrom: args.handlers_from as string | undefined,
  };
  const ctx: ParseContext = { file: from.where.file, baseDir: from.baseDir, role: from.role, tags: [], vars: {}, stack: [] };
  const apply = applyKeywords(from, ctx);
  const items = roleItems(entry, { ...ctx, tags: apply?.tags ?? [], roleTags: from.roleTags }, { origin: "include_role", dedupe: false });
  return apply ? wrap(items, apply, from) : items;
}

/** `apply:` of include_tasks/include_role: keywords for every included task. */
function applyKeywords(from: Task, ctx: ParseContext): TaskKeywords | undefined {
  const apply = from.args.apply;
  if (apply === undefined || apply === null) return undefined;
  return parseKeywords(apply as Raw, { ...ctx, tags: [] });
}

function wrap(items: Item[], keywords: TaskKeywords, from: Task): Item[] {
  const { tags, ...rest } = keywords;
  if (Object.values(rest).every((v) => v === undefined)) return items;
  return [{ ...rest, tags, kind: "block", block: items, rescue: [], always: [], where: from.where, origin: "included", ...(from.role ? { role: from.role } : {}) }];
}

/**
 * include_tasks at run time: the file (already rendered) found relative to the including
 * task's role tasks/, its file's directory, then the playbook's directory; the include's own
 * tags are inherited (Ansible needs `apply:` for that; we keep it simple and predictable), and
 * `apply:` keywords (when, become, tags, ...) apply to every included task.
 */
export function loadIncludedTasks(file: string, from: Task): Item[] {
  const path = resolveTaskFile(file, { role: from.role, includingFile: from.where.file, baseDir: from.baseDir }, from.where);
  const ctx: ParseContext = { file: from.where.file, baseDir: from.baseDir, role: from.role, tags: [], vars: {}, stack: [] };
  const apply = applyKeywords(from, ctx);
  const inherited: Partial<TaskKeywords> = { ...(apply ?? {}), tags: mergeTags(from.tags, apply?.tags ?? []), roleTags: from.roleTags };
  return loadTaskFile(path, { role: from.role, baseDir: from.baseDir, inherited });
}
