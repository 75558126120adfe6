/**
 * Option aliases, declared once on the option as Ansible's argument_spec does:
 * `path: { type: "string", aliases: ["dest", "name"] }`. Argument validation renames an alias
 * to its option before anything else, so a module receives only `path`; giving an option and
 * its alias (or two aliases) at once is refused as mutually exclusive. The schemas written for
 * editors spell the aliases out as properties of their own (editorSchema).
 */
type Schema = Record<string, unknown>;

/** The alias names of each option that has some: option -> aliases. */
export function aliasesOf(schema: Schema): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, prop] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
    if (Array.isArray(prop?.aliases) && prop.aliases.length > 0) out.set(name, prop.aliases as string[]);
  }
  return out;
}

export interface ResolvedAliases {
  /** option -> the alias the user wrote for it (to name it in errors and find its YAML key). */
  written: Map<string, string>;
  /** Names given together for one option, in declaration order (each list is one problem). */
  conflicts: string[][];
}

/** Renames aliases in `args` (in place) to their options. */
export function resolveAliases(args: Record<string, unknown>, schema: Schema): ResolvedAliases {
  const written = new Map<string, string>();
  const conflicts: string[][] = [];
  for (const [option, aliases] of aliasesOf(schema)) {
    const given = [option, ...aliases].filter((k) => args[k] !== undefined);
    if (given.length > 1) conflicts.push(given);
    if (given.length === 0 || given[0] === option) {
      for (const alias of aliases) delete args[alias];
      continue;
    }
    args[option] = args[given[0]];
    written.set(option, given[0]);
    for (const alias of aliases) delete args[alias];
  }
  return { written, conflicts };
}

/**
 * The schema as an editor sees it: each alias a property of its own ("Alias of path."), and a
 * required option satisfied by exactly one of its names.
 */
export function editorSchema(schema: Schema): Schema {
  const aliases = aliasesOf(schema);
  if (aliases.size === 0) return schema;
  const properties: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
    const { aliases: names, default: _default, ...rest } = prop;
    properties[name] = names === undefined ? prop : { ...rest, ...(_default === undefined ? {} : { default: _default }) };
    for (const alias of (names as string[] | undefined) ?? []) properties[alias] = { ...rest, description: `Alias of ${name}.` };
  }
  return widenRequired({ ...schema, properties }, aliases) as Schema;
}

/** Every `required: [path, ...]` below becomes `required: [...]` plus oneOf path/dest/name. */
function widenRequired(node: unknown, aliases: Map<string, string[]>): unknown {
  if (Array.isArray(node)) return node.map((n) => widenRequired(n, aliases));
  if (!node || typeof node !== "object") return node;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node as Schema)) out[k] = k === "properties" ? v : widenRequired(v, aliases);
  const required = out.required;
  if (!Array.isArray(required) || !required.some((r) => aliases.has(r))) return out;
  out.required = required.filter((r) => !aliases.has(r));
  if ((out.required as string[]).length === 0) delete out.required;
  const eitherName = required.filter((r) => aliases.has(r)).map((r) => ({ oneOf: [r, ...aliases.get(r)!].map((n) => ({ required: [n] })) }));
  out.allOf = [...((out.allOf as unknown[]) ?? []), ...eitherName];
  return out;
}
