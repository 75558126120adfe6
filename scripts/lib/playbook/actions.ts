/**
 * Task types the executor runs on the controller itself (not modules): THE table of them, with
 * their names and JSON Schemas for their arguments. The loader accepts them like modules (short
 * name, ansible.builtin.* and ansible.legacy.*), parses their one-line forms, validates their
 * arguments with validate-args.ts and records the resolved name on the task (Task.action); the
 * executor runs run/actions/index.ts's runner of that name, a table typed by ControllerActionName
 * so that a schema without a runner, or a runner without a schema, does not compile.
 *
 * Argument shapes after loading (what the executor receives in Task.args):
 * - include_tasks / import_tasks: `{ file, apply? }` (`include_tasks: x.yml` fills `file`).
 *   import_tasks is expanded by the loader and never reaches the executor.
 * - include_role / import_role: `{ name, tasks_from?, vars_from?, defaults_from?,
 *   handlers_from?, apply?, public?, allow_duplicates? }`. import_role is expanded by the loader.
 * - include_vars: `{ file?, dir?, name? }` (`include_vars: x.yml` fills `file`).
 * - meta: `{ _raw_params: "flush_handlers" | "end_play" | ... }`.
 * - set_fact: the facts themselves (`{ a: 1, cacheable?: boolean }`; `set_fact: a=1 b=2` works).
 * - debug `{ msg? | var?, verbosity }`, assert `{ that: string[], fail_msg?, success_msg?, quiet }`
 *   (`that` always a list after loading), fail `{ msg }`, pause `{ seconds?, minutes?, prompt?, echo }`,
 *   add_host `{ name, groups?: string[], ...vars }`, group_by `{ key, parents? }`.
 */
import type { JsonSchema } from "../modules/types.ts";

export interface ControllerAction<N extends string = string> {
  /** Canonical short name ("set_fact"). */
  name: N;
  /** Other accepted names (FQCNs). */
  aliases: string[];
  /** Arguments, in the convention of validate-args.ts. */
  schema: JsonSchema;
  /** The argument a one-line string value fills after key=value words are taken out. */
  freeForm?: string;
  /** One-line form is all key=value words (set_fact, debug, ...). */
  keyValueOnly?: boolean;
}

const stringOrList = { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] };
const applyKeywords = { type: "object", description: "Keywords (tags, when, become, ...) applied to the included tasks." };

function action<N extends string>(name: N, schema: Record<string, unknown>, extra: Partial<Omit<ControllerAction, "name">> = {}): ControllerAction<N> {
  return {
    name,
    aliases: [`ansible.builtin.${name}`, `ansible.legacy.${name}`],
    schema: { $schema: "http://json-schema.org/draft-07/schema#", title: name, type: "object", ...schema },
    ...extra,
  };
}

const includeTasksSchema = {
  additionalProperties: false,
  properties: {
    file: { type: "string", description: "The task file, relative to the role's tasks/ or the playbook's directory." },
    apply: applyKeywords,
  },
  required: ["file"],
};

const roleSchema = {
  additionalProperties: false,
  properties: {
    name: { type: "string", description: "The role to run." },
    tasks_from: { type: "string", default: "main", description: "File under tasks/ to load instead of main." },
    vars_from: { type: "string", default: "main" },
    defaults_from: { type: "string", default: "main" },
    handlers_from: { type: "string", default: "main" },
    apply: applyKeywords,
    public: { type: "boolean" },
    allow_duplicates: { type: "boolean", default: true },
    rolespec_validate: { type: "boolean" },
  },
  required: ["name"],
};

const gatherSchema = {
  additionalProperties: false,
  properties: { gather_subset: stringOrList, gather_timeout: { type: "integer", minimum: 1 }, filter: stringOrList },
};

export const META_ACTIONS = [
  "flush_handlers",
  "noop",
  "end_play",
  "end_host",
  "end_batch",
  "clear_facts",
  "clear_host_errors",
  "refresh_inventory",
  "reset_connection",
  "role_complete",
];

/** Every controller-side action. */
export const CONTROLLER_ACTIONS = [
  action(
    "set_fact",
    {
      properties: { cacheable: { type: "boolean", default: false } },
      additionalProperties: true,
      minProperties: 1,
    },
    { keyValueOnly: true },
  ),
  action(
    "debug",
    {
      additionalProperties: false,
      properties: {
        msg: { description: "What to print (any value)." },
        var: { type: "string", description: "A variable name or expression to print." },
        verbosity: { type: "integer", minimum: 0, default: 0, description: "Only print at this -v level or higher." },
      },
      not: { required: ["msg", "var"] },
    },
    { keyValueOnly: true },
  ),
  action("assert", {
    additionalProperties: false,
    properties: {
      that: { anyOf: [{ type: "string" }, { type: "boolean" }, { type: "array", items: { type: ["string", "boolean"] } }] },
      fail_msg: {},
      msg: { description: "Alias of fail_msg." },
      success_msg: {},
      quiet: { type: "boolean", default: false },
    },
    required: ["that"],
  }),
  action(
    "fail",
    {
      additionalProperties: false,
      properties: { msg: { default: "Failed as requested from task" } },
    },
    { keyValueOnly: true },
  ),
  action(
    "meta",
    {
      additionalProperties: false,
      properties: { _raw_params: { type: "string", enum: META_ACTIONS } },
      required: ["_raw_params"],
    },
    { freeForm: "_raw_params" },
  ),
  action(
    "include_vars",
    {
      additionalProperties: false,
      properties: {
        file: { type: "string" },
        dir: { type: "string" },
        name: { type: "string", description: "Store the variables under this one name." },
        depth: { type: "integer" },
        files_matching: { type: "string" },
        ignore_files: { type: "array", items: { type: "string" } },
        extensions: { type: "array", items: { type: "string" } },
        hash_behaviour: { type: "string", enum: ["replace", "merge"] },
      },
      oneOf: [{ required: ["file"] }, { required: ["dir"] }],
    },
    { freeForm: "file" },
  ),
  action(
    "pause",
    {
      additionalProperties: false,
      properties: {
        seconds: { type: ["integer", "string"] },
        minutes: { type: ["integer", "string"] },
        prompt: { type: "string" },
        echo: { type: "boolean", default: true },
      },
      not: { required: ["seconds", "minutes"] },
    },
    { keyValueOnly: true },
  ),
  action(
    "wait_for_connection",
    {
      additionalProperties: false,
      properties: {
        delay: { type: ["integer", "string"], default: 0 },
        timeout: { type: ["integer", "string"], default: 600 },
        sleep: { type: ["integer", "string"], default: 1 },
        connect_timeout: { type: ["integer", "string"], default: 5 },
      },
    },
    { keyValueOnly: true },
  ),
  action("include_tasks", includeTasksSchema, { freeForm: "file" }),
  action("import_tasks", includeTasksSchema, { freeForm: "file" }),
  action("include_role", roleSchema, { keyValueOnly: true }),
  action("import_role", roleSchema, { keyValueOnly: true }),
  // Gathers the host's facts again (the plays' implicit gathering happens once per run), e.g.
  // after a task mounted a disk. Every fact is gathered (one command): the subsets are accepted
  // for Ansible's playbooks but do not narrow it.
  action("setup", gatherSchema, { keyValueOnly: true }),
  action("gather_facts", gatherSchema, { keyValueOnly: true }),
  action(
    "add_host",
    {
      additionalProperties: true,
      properties: { name: { type: "string" }, groups: stringOrList },
      required: ["name"],
    },
    { keyValueOnly: true },
  ),
  action(
    "group_by",
    {
      additionalProperties: false,
      properties: { key: { type: "string" }, parents: stringOrList },
      required: ["key"],
    },
    { keyValueOnly: true },
  ),
  // This runner's own (no Ansible alias): the checks of scripts/doctor.ts, run by
  // scripts/lib/run/actions/doctor.ts at the end of site.yml.
  action("doctor", { additionalProperties: false, properties: { strict: { type: ["boolean", "string"], default: false } } }, { aliases: [], keyValueOnly: true }),
] as const;

/** The canonical name of a controller action: the key of its runner in run/actions/index.ts. */
export type ControllerActionName = (typeof CONTROLLER_ACTIONS)[number]["name"];

const byName = new Map<string, ControllerAction<ControllerActionName>>();
for (const a of CONTROLLER_ACTIONS) for (const n of [a.name, ...a.aliases]) byName.set(n, a);

/** The controller action for a task key (short or FQCN), or undefined. */
export function getControllerAction(name: string): ControllerAction<ControllerActionName> | undefined {
  return byName.get(name);
}

/** Every accepted controller action name (for "did you mean"). */
export function controllerActionNames(): string[] {
  return [...byName.keys()];
}

/**
 * Normalises an action's arguments after validation where Ansible accepts several spellings:
 * add_host's host/hostname and group/groups, assert's `that` as a list and `msg` as fail_msg.
 */
export function normaliseActionArgs(action: string, args: Record<string, unknown>): Record<string, unknown> {
  const out = { ...args };
  if (action === "assert") {
    if (!Array.isArray(out.that)) out.that = [out.that];
    if (out.fail_msg === undefined && out.msg !== undefined) out.fail_msg = out.msg;
    delete out.msg;
  }
  if (action === "add_host") {
    for (const alias of ["host", "hostname"]) {
      if (out.name === undefined && out[alias] !== undefined) out.name = out[alias];
      delete out[alias];
    }
    if (out.groups === undefined && out.group !== undefined) out.groups = out.group;
    delete out.group;
    if (typeof out.groups === "string") out.groups = out.groups.split(",").map((g) => g.trim()).filter(Boolean);
  }
  if (action === "group_by" && typeof out.parents === "string") out.parents = [out.parents];
  return out;
}
