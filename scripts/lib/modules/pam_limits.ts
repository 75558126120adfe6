/**
 * community.general.pam_limits: one `domain type item value` line of
 * /etc/security/limits.conf (or `dest`, e.g. a file in limits.d), replaced in place or
 * appended, tab-separated as Ansible writes it; use_max / use_min keep the larger / smaller
 * of the current and wanted values (unlimited counts as the largest). A missing file is
 * created. One read, one atomic write (text-edit.ts).
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import type { EditOutcome, TextEditArgs, TextEditState } from "./support/text-edit.ts";
import { FILE_ATTRIBUTE_PROPERTIES, applyTextEdit, planTextEdit, readLines } from "./support/text-edit.ts";
import { RULES, schemaPattern, type ValueRule } from "./support/values.ts";

const ITEMS = ["core", "data", "fsize", "memlock", "nofile", "rss", "stack", "cpu", "nproc", "as", "maxlogins", "maxsyslogins", "priority", "locks", "sigpending", "msgqueue", "nice", "rtprio", "chroot"];

interface PamLimitsArgs extends TextEditArgs {
  domain: string;
  limit_type: "soft" | "hard" | "-";
  limit_item: string;
  value: string;
  use_max: boolean;
  use_min: boolean;
  comment: string;
}

const DOMAIN: ValueRule = { what: "a limits.conf domain", allowed: 'a user, @group, %group, "*", or a uid/gid range, without spaces or "#"', pattern: "^[^\\s#]+$" };
const VALUE: ValueRule = { what: "a limit value", allowed: "an integer, unlimited or infinity", pattern: "^(-?[0-9]+|unlimited|infinity)$" };

const unlimited = (v: string) => v === "unlimited" || v === "infinity" || v === "-1";

/** The limits file with the wanted limit (Ansible's rules for use_max / use_min). */
export function editLimits(before: string, a: PamLimitsArgs): EditOutcome {
  let found = false;
  let changed = false;
  const out: string[] = [];
  const bounded = !["nice", "priority"].includes(a.limit_item);
  const format = (value: string, comment: string) => `${a.domain}\t${a.limit_type}\t${a.limit_item}\t${value}${comment ? `\t#${comment}` : ""}\n`;
  for (const line of readLines(before)) {
    const body = line.replace(/\s+/g, " ").trim();
    if (line.startsWith("#") || body === "") {
      out.push(line);
      continue;
    }
    const hash = line.indexOf("#");
    const fields = (hash < 0 ? body : line.slice(0, hash).replace(/\s+/g, " ").trim()).split(" ");
    if (found || fields.length !== 4 || fields[0] !== a.domain || fields[1] !== a.limit_type || fields[2] !== a.limit_item) {
      out.push(line);
      continue;
    }
    found = true;
    const current = fields[3];
    let value = a.value;
    if (value !== current && (a.use_max || a.use_min)) {
      const cu = bounded && unlimited(current);
      const vu = bounded && unlimited(value);
      if (a.use_max) value = cu ? current : vu ? value : String(Math.max(Number(value), Number(current)));
      else value = cu && vu ? current : cu ? value : vu ? current : String(Math.min(Number(value), Number(current)));
    }
    if (value === current) out.push(line);
    else {
      changed = true;
      out.push(format(value, a.comment || (hash < 0 ? "" : line.slice(hash + 1).replace(/\n$/, ""))));
    }
  }
  if (!found) {
    if (before !== "" && !before.endsWith("\n")) out.push("\n");
    out.push(format(a.value, a.comment));
    return { after: out.join(""), msg: `${a.domain} ${a.limit_type} ${a.limit_item} ${a.value} added` };
  }
  return changed ? { after: out.join(""), msg: `${a.domain} ${a.limit_type} ${a.limit_item} changed` } : { exit: `${a.domain} ${a.limit_type} ${a.limit_item} already set` };
}

export const pamLimits: ModuleDefinition<PamLimitsArgs, TextEditState> = {
  name: "pam_limits",
  aliases: ["community.general.pam_limits"],
  schema: {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "pam_limits",
    description: "Sets one PAM limit in /etc/security/limits.conf (or dest).",
    type: "object",
    additionalProperties: false,
    properties: {
      domain: { type: "string", ...schemaPattern(DOMAIN) },
      limit_type: { type: "string", enum: ["soft", "hard", "-"] },
      limit_item: { type: "string", enum: ITEMS },
      value: { type: ["string", "integer"], ...schemaPattern(VALUE) },
      use_max: { type: "boolean", default: false },
      use_min: { type: "boolean", default: false },
      comment: { type: "string", default: "", ...schemaPattern(RULES.singleLine) },
      path: { type: "string", aliases: ["dest"], default: "/etc/security/limits.conf", description: "The limits file." },
      backup: { type: "boolean", default: false },
      ...FILE_ATTRIBUTE_PROPERTIES,
    },
    required: ["domain", "limit_type", "limit_item", "value"],
  },
  async plan(args, ctx) {
    const a = { ...args, value: String(args.value), create: true };
    if (a.use_max && a.use_min) throw new ModuleFailure("pam_limits: use_min and use_max cannot be used at the same time");
    return planTextEdit(ctx, a, (before) => editLimits(before ?? "", a), { missing: () => "create" });
  },
  async apply(plan, args, ctx) {
    return applyTextEdit(ctx, { ...args, create: true }, plan);
  },
};
