/**
 * Roles: found in roles/<name>/ next to the playbook, in ../roles (playbooks/ beside roles/),
 * beside the including role, or in this repository's roles/; loaded from tasks/, handlers/,
 * defaults/, vars/ and meta/ (dependencies run first, once per play unless allow_duplicates).
 *
 * A role's tasks go in a Block with `role` set, and every item of it carries the role's name
 * in roleTags (not in tags: Ansible lists none), so `--tags ntp` runs exactly the ntp role
 * (and the roles it depends on).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { Block, Item, RoleContext, Task } from "./types.ts";
import { didYouMean, UserError, type SourcePosition } from "../errors.ts";
import { loadYamlFile, positionOf, positionOfItem, positionOfKey } from "../yaml/load.ts";
import { validateStructure } from "./structure.ts";
import { COMMON_KEYWORDS } from "./keywords.ts";
import { mergeTags, parseHandlers, parseItems, parseKeywords, readTaskList, toBool, toTags, type ParseContext, type PlayRoles } from "./task.ts";
import { hasTemplate, renderLoadTimeName } from "./load-time-template.ts";
import { REPO_ROOT } from "../repo-root.ts";
import { collectionRoleCandidates, collectionRoleName } from "./collections.ts";

/** A role as named in `roles:`, a meta dependency, or import_role. */
export interface RoleEntry {
  name: string;
  /** Role variables given with the entry (`vars:` and, as Ansible allows, other keys). */
  params: Record<string, unknown>;
  /** The entry's keywords (when, tags, become, ...) as written. */
  keywords: Record<string, unknown>;
  where: SourcePosition;
  tasksFrom?: string;
  varsFrom?: string;
  defaultsFrom?: string;
  handlersFrom?: string;
}

const ENTRY_KEYWORDS = new Set<string>(COMMON_KEYWORDS.filter((k) => k !== "name" && k !== "vars"));

/** Reads a `roles:` / `dependencies:` entry: a name, or a mapping with role: (or name:). */
export function parseRoleEntry(raw: unknown, file: string, vars: Record<string, unknown> = {}, at?: SourcePosition): RoleEntry {
  const where = positionOf(raw) ?? at ?? { file };
  if (typeof raw === "string") return { name: nameOf(raw, vars, where), params: {}, keywords: {}, where };
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw new UserError(`a role entry must be a name or a mapping with "role:"`, { where });
  }
  const map = raw as Record<string, unknown>;
  const roleName = map.role ?? map.name;
  if (typeof roleName !== "string") throw new UserError(`role entry without "role:"`, { where, hint: "Write `- role: ntp` (or just `- ntp`)." });
  const params: Record<string, unknown> = {};
  const keywords: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(map)) {
    if (k === "role" || (k === "name" && map.role === undefined)) continue;
    if (k === "vars") {
      if (v !== null && (typeof v !== "object" || Array.isArray(v))) throw new UserError(`"vars" must be a mapping`, { where: positionOfKey(map, k) ?? where });
      Object.assign(params, v ?? {});
    } else if (ENTRY_KEYWORDS.has(k)) keywords[k] = v;
    else params[k] = v; // old style: role parameters as keys of the entry
  }
  return { name: nameOf(roleName, vars, positionOfKey(map, map.role !== undefined ? "role" : "name") ?? where), params, keywords, where };
}

function nameOf(name: string, vars: Record<string, unknown>, where: SourcePosition): string {
  return hasTemplate(name) ? renderLoadTimeName(name, vars, where, "role name") : name;
}

// ansible.cfg's roles_path and collections_path (process-wide settings in Ansible too); roles_path
// is searched after <playbook dir>/roles.
let configuredRolesPath: readonly string[] = [];
let configuredCollectionsPath: readonly string[] = [];

/** Sets the roles_path folders (absolute) searched for roles (play.ts: Ansible's default when unset). */
export function setRolesPath(dirs: readonly string[]): void {
  configuredRolesPath = [...dirs];
}

/** Sets the collections_path folders (absolute) searched for collection roles. */
export function setCollectionsPath(dirs: readonly string[]): void {
  configuredCollectionsPath = [...dirs];
}

/** Where a role lives; a UserError naming the places searched when it is nowhere. */
export function findRole(name: string, options: { baseDir: string; fromRole?: RoleContext; where?: SourcePosition }): string {
  const candidates: string[] = [];
  if (isAbsolute(name)) candidates.push(name);
  else {
    // namespace.collection.role: an installed collection first, as Ansible (then a folder of that name).
    candidates.push(...collectionRoleCandidates(name, options.baseDir, configuredCollectionsPath));
    if (name.includes("/")) candidates.push(resolve(options.baseDir, name));
    if (options.fromRole) candidates.push(join(dirname(options.fromRole.path), name));
    candidates.push(
      join(options.baseDir, "roles", name),
      ...configuredRolesPath.map((dir) => join(dir, name)),
      resolve(options.baseDir, "..", "roles", name),
      join(REPO_ROOT, "roles", name),
      resolve(options.baseDir, name),
    );
  }
  const found = candidates.find((c) => existsSync(c) && statSync(c).isDirectory());
  if (found) return found;
  // The roles that do exist next to the places searched, for "did you mean".
  const known = [...new Set(candidates.map((c) => dirname(c)))].flatMap((dir) => {
    try {
      return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && existsSync(join(dir, e.name, "tasks"))).map((e) => e.name);
    } catch {
      return [];
    }
  });
  const guess = didYouMean(name, known);
  throw new UserError(`Role "${name}" not found${guess ? `; did you mean "${guess}"?` : ""}`, {
    where: options.where,
    hint: `Looked in: ${[...new Set(candidates)].join(", ")}`,
  });
}

/** roles/x/<dir>/<base>(.yml|.yaml|.json), or undefined. */
function findMain(roleDir: string, dir: string, base: string): string | undefined {
  const names = /\.(ya?ml|json)$/.test(base) ? [base] : [`${base}.yml`, `${base}.yaml`, `${base}.json`, base];
  return names.map((n) => join(roleDir, dir, n)).find((f) => existsSync(f) && statSync(f).isFile());
}

function loadVarsFile(file: string | undefined): Record<string, unknown> {
  if (!file) return {};
  const data = loadYamlFile(file);
  if (data === null || data === undefined) return {};
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new UserError(`a variables file must be a mapping of names to values`, { where: positionOf(data) ?? { file } });
  }
  return data as Record<string, unknown>;
}

export interface RoleLoadOptions {
  /** The playbook's directory. */
  baseDir: string;
  tasksFrom?: string;
  varsFrom?: string;
  defaultsFrom?: string;
  handlersFrom?: string;
  /** The role that names this one (its siblings are searched first). */
  fromRole?: RoleContext;
  /** Tags inherited from the play and the role entry. */
  tags?: string[];
  /** Names of the roles around (the role's own name is added here). */
  roleTags?: string[];
  /** Variables known at load time (play vars, extra vars, role params) for templated names. */
  vars?: Record<string, unknown>;
  where?: SourcePosition;
  /** Role paths being loaded (dependency cycle detection). */
  stack?: string[];
  /** Set by the play loader: handlers of import_role inside the role go to the play. */
  parseContext?: Partial<ParseContext>;
}

export interface LoadedRole {
  role: RoleContext;
  items: Item[];
  handlers: Task[];
  dependencies: RoleEntry[];
  allowDuplicates: boolean;
}

/**
 * Loads one role: its context (defaults, vars), its task items (tagged with its name and
 * the inherited tags), its handlers and its meta dependencies (not expanded: see roleItems).
 */
export function loadRole(name: string, options: RoleLoadOptions): LoadedRole {
  const path = findRole(name, options);
  const roleName = collectionRoleName(path) ?? path.split(/[\\/]/).filter(Boolean).pop() ?? name;
  const role: RoleContext = {
    name: roleName,
    path,
    defaults: loadVarsFile(findMain(path, "defaults", options.defaultsFrom ?? "main")),
    vars: loadVarsFile(findMain(path, "vars", options.varsFrom ?? "main")),
  };
  const where = options.where ?? { file: path };
  const ctx: ParseContext = {
    importRole,
    ...options.parseContext,
    file: path,
    baseDir: options.baseDir,
    role,
    tags: options.tags ?? [],
    roleTags: mergeTags(options.roleTags ?? [], [roleName]),
    vars: { ...role.defaults, ...(options.vars ?? {}), ...role.vars },
    stack: [...(options.stack ?? []), path],
  };

  let items: Item[] = [];
  const tasksFile = findMain(path, "tasks", options.tasksFrom ?? "main");
  if (tasksFile) items = parseItems(readTaskList(tasksFile), { ...ctx, file: tasksFile, stack: [...ctx.stack, tasksFile] });
  else if (options.tasksFrom) {
    throw new UserError(`Role "${roleName}" has no tasks file "${options.tasksFrom}"`, { where, hint: `Looked in ${join(path, "tasks")}` });
  }

  let handlers: Task[] = [];
  const handlersFile = findMain(path, "handlers", options.handlersFrom ?? "main");
  if (handlersFile) {
    handlers = parseHandlers(readTaskList(handlersFile), { ...ctx, file: handlersFile, tags: [], stack: [...ctx.stack, handlersFile] });
  }

  let dependencies: RoleEntry[] = [];
  let allowDuplicates = false;
  const metaFile = findMain(path, "meta", "main");
  if (metaFile) {
    const meta = loadYamlFile(metaFile) as Record<string, unknown> | null;
    if (meta) {
      validateStructure(meta, "role-meta", metaFile);
      const deps = (meta.dependencies as unknown[] | null) ?? [];
      dependencies = deps.map((d, i) => parseRoleEntry(d, metaFile, ctx.vars, positionOfItem(deps, i)));
      allowDuplicates = toBool(meta.allow_duplicates, "allow_duplicates", positionOfKey(meta, "allow_duplicates") ?? { file: metaFile }) ?? false;
    }
  }
  return { role, items, handlers, dependencies, allowDuplicates };
}

export type { PlayRoles };

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
    parseContext: { importRole: ctx.importRole, play: options.play, conditional: ctx.conditional || entry.keywords.when !== undefined },
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

/** ParseContext.importRole: import_role inside a task list (play bookkeeping via ctx.play). */
export function importRole(name: string, _task: Record<string, unknown>, args: Record<string, unknown>, ctx: ParseContext, where: SourcePosition): Item[] {
  const entry: RoleEntry = {
    name: hasTemplate(name) ? renderLoadTimeName(name, ctx.vars, where, "import_role name") : name,
    params: {},
    keywords: {},
    where,
    tasksFrom: args.tasks_from as string | undefined,
    varsFrom: args.vars_from as string | undefined,
    defaultsFrom: args.defaults_from as string | undefined,
    handlersFrom: args.handlers_from as string | undefined,
  };
  return roleItems(entry, ctx, { play: ctx.play, origin: "import_role", dedupe: false });
}
