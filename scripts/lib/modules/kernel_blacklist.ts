/**
 * community.general.kernel_blacklist: a `blacklist NAME` line present in (or absent from)
 * blacklist_file, /etc/modprobe.d/blacklist-ansible.conf by default, as Ansible's module keeps
 * it. One read, one atomic write (text-edit.ts); the file is created when missing.
 */
import type { ModuleDefinition } from "./types.ts";
import type { EditOutcome, TextEditArgs, TextEditState } from "./support/text-edit.ts";
import { applyTextEdit, planTextEdit, readLines } from "./support/text-edit.ts";
import { RULES, schemaPattern } from "./support/values.ts";

interface KernelBlacklistArgs {
  name: string;
  state: "present" | "absent";
  blacklist_file: string;
}

/** The blacklist file with NAME's line added (at the end) or every such line removed. */
export function editBlacklist(before: string, name: string, present: boolean): EditOutcome {
  const lines = readLines(before);
  const pattern = new RegExp(`^blacklist\\s+${name.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&")}$`);
  // As Ansible: the line stripped, comments never count.
  const isOurs = (l: string) => pattern.test(l.trim());
  const has = lines.some(isOurs);
  if (present === has) return { exit: `${name} ${has ? "blacklisted" : "not blacklisted"}` };
  if (present) return { after: `${before}${before !== "" && !before.endsWith("\n") ? "\n" : ""}blacklist ${name}\n`, msg: `${name} blacklisted` };
  return { after: lines.filter((l) => !isOurs(l)).join(""), msg: `${name} no longer blacklisted` };
}

export const kernelBlacklist: ModuleDefinition<KernelBlacklistArgs, TextEditState> = {
  name: "kernel_blacklist",
  aliases: ["community.general.kernel_blacklist"],
  schema: {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "kernel_blacklist",
    description: "Blacklists a kernel module in a modprobe.d file.",
    type: "object",
    additionalProperties: false,
    properties: {
      name: { type: "string", ...schemaPattern(RULES.kernelModule) },
      state: { type: "string", enum: ["present", "absent"], default: "present" },
      blacklist_file: { type: "string", default: "/etc/modprobe.d/blacklist-ansible.conf", pattern: "^/", patternErrorMessage: "must be an absolute path" },
    },
    required: ["name"],
  },
  async plan(args, ctx) {
    const a: TextEditArgs = { path: args.blacklist_file, create: true };
    return planTextEdit(ctx, a, (before) => editBlacklist(before ?? "", args.name, args.state === "present"), {
      missing: () => (args.state === "present" ? "create" : { exit: `${args.name} not blacklisted` }),
    });
  },
  async apply(plan, args, ctx) {
    return applyTextEdit(ctx, { path: args.blacklist_file, create: true }, plan);
  },
};
