/**
 * Task lists: tasks and blocks (each task by task.ts), with the static imports expanded in
 * place as Blocks: import_tasks (a task file) and import_role (a role read by role.ts, its
 * dependencies first). Roles of a play's `roles:` become Blocks the same way (roleItems).
 *
 * The recursion task list -> import_role -> the role's task list stays inside this file, so
 * imports go one way: load.ts -> task-list.ts -> task.ts, role.ts.
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import { existsSync } from "node:fs";
import type { Block, Item, RoleContext, Task } from "./types.ts";
import { UserError, didYouMean, type SourcePosition } from "../errors.ts";
import { loadYamlFile, positionOf, positionOfItem } from "../yaml/load.ts";
import { BLOCK_KEYWORDS } from "./keywords.ts";
import { validateStructure } from "./structure.ts";
import { hasTemplate, renderLoadTimeName } from "./load-time-template.ts";
import { at, mergeTags, modulePosition, parseKeywords, parseTask, toStringList, toTags, type ParseContext, type PlayRoles } from "./task.ts";
import { readRole, type ReadRoleOptions, type RoleEntry, type RoleFiles } from "./role.ts";

type Raw = Record<string, unknown>;

/** Parses a list of tasks/blocks (already structurally validated). */
export function parseItems(list: unknown, ctx: ParseContext, section = "tasks"): Item[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) {
    throw new UserError(`"${section}" must be a list of tasks`, { where: positionOf(list) ?? { file: ctx.file } });
  }
  return list.map((raw, i) => parseItem(raw, ctx, positionOfItem(list, i)));
}

/** Parses one task or block. */
export function parseItem(raw: unknown, ctx: ParseContext, at?: SourcePosition): Item {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new UserError(`a task must be a mapping (name:, a module, keywords), got ${raw === null ? "nothing" : JSON.stringify(raw)}`, {
      where: positionOf(raw) ?? at ?? { file: ctx.file },
    });
  }
  if ("block" in raw) return parseBlock(raw as Raw, ctx);
  const task = parseTask(raw as Raw, ctx);
  if (task.module === "import_tasks") return importTasks(raw as Raw, task, ctx);
  if (task.module === "import_role") return importRole(raw as Raw, task, ctx);
  return task;
}

function parseBlock(raw: Raw, ctx: ParseContext): Block {
  for (const key of Object.keys(raw)) {
    if (BLOCK_KEYWORDS.has(key)) continue;
    const guess = didYouMean(key, BLOCK_KEYWORDS);
    throw new UserError(
      `unknown block keyword "${key}"${guess ? `; did you mean "${guess}"?` : ""}`,
      { where: at(raw, key, ctx), hint: guess ? undefined : "A block holds block/rescue/always and keywords; put modules in tasks inside block:." },
    );
  }
  const kw = parseKeywords(raw, ctx);
  const inner: ParseContext = { ...ctx, tags: kw.tags, conditional: ctx.conditional || kw.when !== undefined };
  const block: Block = {
    ...kw,
    kind: "block",
    block: parseItems(raw.block, inner, "block"),
    rescue: parseItems(raw.rescue, inner, "rescue"),
    always: parseItems(raw.always, inner, "always"),
    where: positionOf(raw) ?? { file: ctx.file },
    origin: "block",
  };
  if (ctx.role) block.role = ctx.role;
  const notify = toStringList(raw.notify);
  if (notify) block.notify = notify;
  return block;
}

/** Finds a task file the way Ansible does: the role's tasks/, the including file's dir, the playbook dir. */
export function resolveTaskFile(file: string, from: { role?: RoleContext; includingFile?: string; baseDir: string }, where: SourcePosition): string {
  if (isAbsolute(file)) {
    if (existsSync(file)) return file;
    throw new UserError(`Task file not found: ${file}`, { where });
  }
  const candidates: string[] = [];
  if (from.role) candidates.push(join(from.role.path, "tasks", file), join(from.role.path, file));
  if (from.includingFile) candidates.push(resolve(dirname(from.includingFile), file));
  candidates.push(resolve(from.baseDir, file), resolve(from.baseDir, "tasks", file));
  const found = candidates.find((c) => existsSync(c));
  if (found) return found;
  throw new UserError(`Task file "${file}" not found`, { where, hint: `Looked in: ${[...new Set(candidates)].join(", ")}` });
}

/** Loads a task file's YAML (a list of tasks; empty file = no tasks), structurally validated. */
export function readTaskList(file: string): unknown[] {
  const data = loadYamlFile(file);
  if (data === null || data === undefined) return [];
  validateStructure(data, "tasks", file);
  return data as unknown[];
}

function importTasks(raw: Raw, task: Task, ctx: ParseContext): Block {
  const where = task.where;
  const fileArg = task.args.file;
  if (typeof fileArg !== "string") throw new UserError(`import_tasks needs a file name`, { where });
  if (task.loop !== undefined) {
    throw new UserError(`import_tasks cannot loop`, { where, hint: "Use include_tasks with loop (it is expanded per host and item at run time)." });
  }
  const name = hasTemplate(fileArg) ? renderLoadTimeName(fileArg, ctx.vars, where, "import_tasks file") : fileArg;
  const file = resolveTaskFile(name, { role: ctx.role, includingFile: ctx.file, baseDir: ctx.baseDir }, where);
  if (ctx.stack.includes(file)) {
    throw new UserError(`import_tasks of "${name}" imports itself (${[...ctx.stack, file].join(" -> ")})`, { where });
  }
  const inner: ParseContext = { ...ctx, file, tags: task.tags, stack: [...ctx.stack, file], conditional: ctx.conditional || task.when !== undefined };
  const { kind: _k, module: _m, args: _a, where: _w, baseDir: _b, role: _r, ...keywords } = task;
  const block: Block = {
    ...keywords,
    name: undefined,
    kind: "block",
    block: parseItems(readTaskList(file), inner),
    rescue: [],
    always: [],
    where,
    origin: "import_tasks",
  };
  delete block.name;
  if (raw.name !== undefined) block.name = String(raw.name);
  if (ctx.role) block.role = ctx.role;
  return block;
}

function importRole(raw: Raw, task: Task, ctx: ParseContext): Block {
  const where = task.where;
  if (task.loop !== undefined) throw new UserError(`import_role cannot loop`, { where, hint: "Use include_role with loop." });
  const nameWhere = modulePosition(raw, ctx);
  const name = String(task.args.name);
  const entry: RoleEntry = {
    name: hasTemplate(name) ? renderLoadTimeName(name, ctx.vars, nameWhere, "import_role name") : name,
    params: {},
    keywords: {},
    where: nameWhere,
    tasksFrom: task.args.tasks_from as string | undefined,
    varsFrom: task.args.vars_from as string | undefined,
    defaultsFrom: task.args.defaults_from as string | undefined,
    handlersFrom: task.args.handlers_from as string | undefined,
  };
  const inner: ParseContext = { ...ctx, tags: task.tags, conditional: ctx.conditional || task.when !== undefined };
  const items = roleItems(entry, inner, { play: ctx.play, origin: "import_role", dedupe: false });
  const { kind: _k, module: _m, args: _a, where: _w, baseDir: _b, role: _r, ...keywords } = task;
  const block: Block = { ...keywords, kind: "block", block: items, rescue: [], always: [], where, origin: "import_role" };
  if (ctx.role) block.role = ctx.role;
  return block;
}

/**
 * Parses a handlers list: tasks (not blocks); static imports are flattened so the executor
 * sees one list of handlers.
 */
export function parseHandlers(list: unknown, ctx: ParseContext): Task[] {
  const out: Task[] = [];
  const flatten = (item: Item) => {
    if (item.kind === "task") out.push(item);
    else if (item.origin === "import_tasks" || item.origin === "import_role") item.block.forEach(flatten);
    else throw new UserError(`a handler cannot be a block`, { where: item.where, hint: "Write each handler as a task." });
  };
  parseItems(list, ctx, "handlers").forEach(flatten);
  return out;
}

export interface RoleLoadOptions extends ReadRoleOptions {
  /** Tags inherited from the play and the role entry. */
  tags?: string[];
  /** Names of the roles around (the role's own name is added here). */
  roleTags?: string[];
  /** Role paths being loaded (dependency cycle detection). */
  stack?: string[];
  /** Set by the play loader: handlers of import_role inside the role go to the play. */
  play?: PlayRoles;
  /** The role entry is under a `when:` (ParseContext.conditional). */
  conditional?: boolean;
}

export interface LoadedRole extends Omit<RoleFiles, "tasksFile" | "handlersFile" | "vars"> {
  items: Item[];
  handlers: Task[];
}

/**
 * Loads one role: its context (defaults, vars), its task items (tagged with its name and
 * the inherited tags), its handlers and its meta dependencies (not expanded: see roleItems).
 */
export function loadRole(name: string, options: RoleLoadOptions): LoadedRole {
  const { role, tasksFile, handlersFile, vars, dependencies, allowDuplicates } = readRole(name, options);
  const ctx: ParseContext = {
    play: options.play,
    conditional: options.conditional,
    file: role.path,
    baseDir: options.baseDir,
    role,
    tags: options.tags ?? [],
    roleTags: mergeTags(options.roleTags ?? [], [role.name]),
    vars,
    stack: [...(options.stack ?? []), role.path],
  };
  const items = tasksFile ? parseItems(readTaskList(tasksFile), { ...ctx, file: tasksFile, stack: [...ctx.stack, tasksFile] }) : [];
  const handlers = handlersFile ? parseHandlers(readTaskList(handlersFile), { ...ctx, file: handlersFile, tags: [], stack: [...ctx.stack, handlersFile] }) : [];
  return { role, items, handlers, dependencies, allowDuplicates };
}

/**
 * A role entry as Items: its dependencies' blocks (recursively, deduplicated per play), then
 * the role's own block. Handlers go to `play.handlers` when loading a play, else onto the
 * role's block (`Block.handlers`) for the executor to add at run time.
 */
export function roleItems(
  entry: RoleEntry,
  ctx: ParseContext,
  options: { play?: PlayRoles; origin: NonNullable<Block["origin"]>; dedupe: boolean; dependencyOf?: string[] },
): Item[] {
  const entryTags = toTags(entry.keywords.tags);
  const loadVars = { ...ctx.vars, ...entry.params };
  const stack = options.dependencyOf ?? [];
  const loaded = loadRole(entry.name, {
    baseDir: ctx.baseDir,
    fromRole: ctx.role,
    tasksFrom: entry.tasksFrom,
    varsFrom: entry.varsFrom,
    defaultsFrom: entry.defaultsFrom,
    handlersFrom: entry.handlersFrom,
    tags: mergeTags(ctx.tags, entryTags),
    roleTags: ctx.roleTags,
    vars: loadVars,
    where: entry.where,
    stack: ctx.stack,
    play: options.play,
    conditional: ctx.conditional || entry.keywords.when !== undefined,
  });
  if (stack.includes(loaded.role.path)) {
    throw new UserError(`Role "${entry.name}" depends on itself (${[...stack, loaded.role.path].map((p) => p.split("/").pop()).join(" -> ")})`, {
      where: entry.where,
    });
  }
  if (options.dedupe && options.play) {
    const key = `${loaded.role.path}\0${entry.tasksFrom ?? ""}\0${JSON.stringify(entry.params)}`;
    if (options.play.seen.has(key) && !loaded.allowDuplicates) return [];
    options.play.seen.add(key);
  }

  const inheritedTags = mergeTags(ctx.tags, entryTags);
  const roleTags = mergeTags(ctx.roleTags ?? [], [loaded.role.name]);
  const out: Item[] = [];
  for (const dep of loaded.dependencies) {
    out.push(
      ...roleItems(dep, { ...ctx, role: loaded.role, tags: inheritedTags, roleTags, vars: loadVars }, {
        play: options.play,
        origin: "role",
        dedupe: true,
        dependencyOf: [...stack, loaded.role.path],
      }),
    );
  }
  const block: Block = {
    ...parseKeywords(entry.keywords, { ...ctx, tags: inheritedTags }),
    kind: "block",
    block: loaded.items,
    rescue: [],
    always: [],
    where: entry.where,
    role: loaded.role,
    origin: options.origin,
  };
  const hasParams = Object.keys(entry.params).length > 0;
  if (hasParams) block.vars = { ...entry.params };
  // Each instance of a role has its own handlers, which see that instance's parameters.
  const handlers = hasParams ? loaded.handlers.map((h) => ({ ...h, vars: { ...entry.params, ...h.vars } })) : loaded.handlers;
  if (options.play) {
    options.play.handlers.push(...handlers);
    if (!options.play.roles.some((r) => r.path === loaded.role.path)) options.play.roles.push(loaded.role);
  } else if (handlers.length > 0) block.handlers = handlers;
  out.push(block);
  return out;
}
