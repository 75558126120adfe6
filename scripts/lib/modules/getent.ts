/**
 * ansible.builtin.getent: entries of a name service database (passwd, group, hosts, services,
 * ...) as the fact getent_<database>, key -> the entry's other fields, as Ansible returns
 * them: split at ":" for passwd, group, shadow and gshadow, at whitespace otherwise, unless
 * `split` says. A missing key fails the task unless fail_key is false. Read-only; one round trip.
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { schemaHeader } from "./support/system.ts";
import { schemaPattern, type ValueRule } from "./support/values.ts";

interface GetentArgs {
  database: string;
  key?: string;
  split?: string;
  service?: string;
  fail_key: boolean;
}

const DATABASE: ValueRule = { what: "a name service database", allowed: "lowercase letters, digits and \"_\" (passwd, group, hosts, services, ...)", pattern: "^[a-z][a-z0-9_]*$" };
const KEY: ValueRule = { what: "a getent key", allowed: 'one line, not starting with "-"', pattern: "^[^-\\n\\r][^\\n\\r]*$" };
const COLON_DATABASES = new Set(["passwd", "shadow", "group", "gshadow"]);

/** getent's lines as Ansible's fact: key -> the other fields. */
export function parseGetent(text: string, database: string, split?: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const sep = split ?? (COLON_DATABASES.has(database) ? ":" : undefined);
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const fields = sep === undefined ? line.trim().split(/\s+/) : line.split(sep);
    out[fields[0]] = fields.slice(1);
  }
  return out;
}

export const getent: ModuleDefinition<GetentArgs> = {
  name: "getent",
  aliases: [],
  schema: {
    ...schemaHeader("getent", "Reads name service database entries into getent_<database> facts."),
    properties: {
      database: { type: "string", ...schemaPattern(DATABASE) },
      key: { type: ["string", "integer"], ...schemaPattern(KEY), description: "One entry (all when unset)." },
      split: { type: "string", minLength: 1, description: "Field separator (\":\" for passwd, group, shadow, gshadow; whitespace otherwise)." },
      service: { type: "string", ...schemaPattern(DATABASE), description: "Ask this NSS service only (getent -s)." },
      fail_key: { type: "boolean", default: true, description: "Fail when the key is missing." },
    },
    required: ["database"],
  },
  async plan(args, ctx) {
    const service = args.service ? sh`-s ${args.service} ` : "";
    const key = args.key === undefined ? "" : sh` ${String(args.key)}`;
    // getent has no "--" before its operands on every libc: the names are checked instead.
    const r = await ctx.run(`getent ${service}${sh`${args.database}`}${key}`, { become: false });
    if (r.rc === 2 && args.key !== undefined) {
      if (args.fail_key) throw new ModuleFailure(`getent: key ${JSON.stringify(String(args.key))} was not found in the ${args.database} database`, { rc: r.rc });
      return { changed: false, reason: "key not found", result: { ansible_facts: { [`getent_${args.database}`]: {} } } };
    }
    if (r.rc === 1) throw new ModuleFailure(`getent: missing arguments, or database ${JSON.stringify(args.database)} is unknown`, { rc: r.rc });
    if (r.rc === 3) throw new ModuleFailure("getent: enumeration is not supported for this database", { rc: r.rc });
    if (r.rc !== 0) throw new ModuleFailure(`getent ${args.database} failed: ${r.stderr.trim() || `rc ${r.rc}`}`, { rc: r.rc });
    const entries = parseGetent(r.stdout, args.database, args.split);
    return { changed: false, reason: `${Object.keys(entries).length} ${args.database} entries`, result: { ansible_facts: { [`getent_${args.database}`]: entries } } };
  },
};
