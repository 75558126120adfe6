/**
 * Roles: found in roles/<name>/ next to the playbook, in ../roles (playbooks/ beside roles/),
 * beside the including role, or in this repository's roles/; loaded from tasks/, handlers/,
 * defaults/, vars/ and meta/ (dependencies run first, once per play unless allow_duplicates).
 *
 * Its task and handler lists are parsed by task-list.ts, which puts a role's tasks in a Block.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { RoleContext } from "./types.ts";
import { didYouMean, UserError, type SourcePosition } from "../errors.ts";
import { loadYamlFile, positionOf, positionOfItem, positionOfKey } from "../yaml/load.ts";
import { validateStructure } from "./structure.ts";
import { COMMON_KEYWORDS } from "./keywords.ts";
import { toBool } from "./task.ts";
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

export interface ReadRoleOptions {
  /** The playbook's directory. */
  baseDir: string;
  tasksFrom?: string;
  varsFrom?: string;
  defaultsFrom?: string;
  handlersFrom?: string;
  /** The role that names this one (its siblings are searched first). */
  fromRole?: RoleContext;
  /** Variables known at load time (play vars, extra vars, role params) for templated names. */
  vars?: Record<string, unknown>;
  where?: SourcePosition;
  /** Role paths being read (a dependency cycle is reported by task-list.ts's roleItems). */
  reading?: string[];
}

/** A role as read from its folder; its task and handler lists are parsed by task-list.ts. */
export interface RoleFiles {
  role: RoleContext;
  /** tasks/<tasks_from or main>, when the role has one. */
  tasksFile?: string;
  /** handlers/<handlers_from or main>, when the role has one. */
  handlersFile?: string;
  /** Variables known while loading the role: its defaults, the given vars, its vars. */
  vars: Record<string, unknown>;
  dependencies: RoleEntry[];
  allowDuplicates: boolean;
}

/**
 * Finds a role and reads its defaults, vars and meta (dependencies, allow_duplicates). Its
 * defaults include its dependencies' (recursively) under its own, as Ansible's
 * Role.get_default_vars: a role sees what it depends on however it is run (roles:,
 * import_role, include_role).
 */
export function readRole(name: string, options: ReadRoleOptions): RoleFiles {
  const path = findRole(name, options);
  const roleName = collectionRoleName(path) ?? path.split(/[\\/]/).filter(Boolean).pop() ?? name;
  const role: RoleContext = {
    name: roleName,
    path,
    defaults: loadVarsFile(findMain(path, "defaults", options.defaultsFrom ?? "main")),
    vars: loadVarsFile(findMain(path, "vars", options.varsFrom ?? "main")),
  };
  const vars = { ...role.defaults, ...(options.vars ?? {}), ...role.vars };
  const tasksFile = findMain(path, "tasks", options.tasksFrom ?? "main");
  if (!tasksFile && options.tasksFrom) {
    throw new UserError(`Role "${roleName}" has no tasks file "${options.tasksFrom}"`, { where: options.where ?? { file: path }, hint: `Looked in ${join(path, "tasks")}` });
  }
  const handlersFile = findMain(path, "handlers", options.handlersFrom ?? "main");

  let dependencies: RoleEntry[] = [];
  let allowDuplicates = false;
  const metaFile = findMain(path, "meta", "main");
  if (metaFile) {
    const meta = loadYamlFile(metaFile) as Record<string, unknown> | null;
    if (meta) {
      validateStructure(meta, "role-meta", metaFile);
      const deps = (meta.dependencies as unknown[] | null) ?? [];
      dependencies = deps.map((d, i) => parseRoleEntry(d, metaFile, vars, positionOfItem(deps, i)));
      allowDuplicates = toBool(meta.allow_duplicates, "allow_duplicates", positionOfKey(meta, "allow_duplicates") ?? { file: metaFile }) ?? false;
    }
  }
  // Within a dependency cycle the role is read once (roleItems reports the cycle).
  if (!options.reading?.includes(path)) {
    const reading = [...(options.reading ?? []), path];
    const inherited = dependencies.map((d) => readRole(d.name, { baseDir: options.baseDir, fromRole: role, defaultsFrom: d.defaultsFrom, vars, where: d.where, reading }).role.defaults);
    if (inherited.length > 0) role.defaults = Object.assign({}, ...inherited, role.defaults);
  }
  return { role, tasksFile, handlersFile, vars, dependencies, allowDuplicates };
}
