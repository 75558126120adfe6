/**
 * ansible.builtin.replace: every match of a Python regular expression (MULTILINE) replaced,
 * optionally only in the section after `after` / before `before`. See support/pyregex.ts
 * for what of Python's regex syntax is translated and what is refused.
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import type { EditOutcome, TextEditArgs, TextEditState } from "./support/text-edit.ts";
import { FILE_ATTRIBUTE_PROPERTIES, applyTextEdit, planTextEdit, revealSecrets } from "./support/text-edit.ts";
import { expandTemplate, pyRegex } from "./support/pyregex.ts";

export interface ReplaceArgs extends TextEditArgs {
  regexp: string;
  replace?: string;
  after?: string;
  before?: string;
  encoding?: string;
}

const schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "replace",
  description: "Replaces all instances of a pattern within a file.",
  type: "object",
  additionalProperties: false,
  properties: {
    path: { type: "string", aliases: ["dest", "destfile", "name"], description: "The file to modify." },
    regexp: { type: "string", description: "Python regular expression (MULTILINE) to look for." },
    replace: { type: "string", default: "", description: "Replacement; may use \\1 and \\g<name> backreferences." },
    after: { type: "string", description: "Only replace after the first match of this pattern." },
    before: { type: "string", description: "Only replace before the first match of this pattern." },
    backup: { type: "boolean", default: false },
    validate: { type: "string", description: "Command to validate the file before use (%s is the temp file)." },
    encoding: { type: "string", enum: ["utf-8", "utf8"], default: "utf-8", description: "Only UTF-8 is supported." },
    others: { type: "object", description: "Accepted for compatibility; ignored." },
    ...FILE_ATTRIBUTE_PROPERTIES,
  },
  required: ["path", "regexp"],
};

/** Ansible's replace: returns the new text and "N replacements made" (or "" when none). */
export function replaceText(contents: string, args: ReplaceArgs): EditOutcome {
  let section = contents;
  let start = 0;
  let end = contents.length;
  let pattern: string | undefined;
  if (args.after && args.before) pattern = `${args.after}(?P<subsection>.*?)${args.before}`;
  else if (args.after) pattern = `${args.after}(?P<subsection>.*)`;
  else if (args.before) pattern = `(?P<subsection>.*)${args.before}`;
  if (pattern) {
    // re.DOTALL; the `d` flag gives the subsection's indices.
    const m = pyRegex(pattern, "sd").regex.exec(contents) as (RegExpExecArray & { indices?: { groups?: Record<string, [number, number]> } }) | null;
    if (!m) return { exit: `Pattern for before/after params did not match the given file: ${pattern}` };
    [start, end] = m.indices!.groups!.subsection;
    section = contents.slice(start, end);
  }
  const re = pyRegex(args.regexp, "gm").regex;
  let count = 0;
  const replaced = section.replace(re, (...groups: unknown[]) => {
    count++;
    // The callback gets (match, p1..pn, offset, string[, groups]): rebuild a match array.
    const hasNamed = typeof groups[groups.length - 1] === "object";
    const captures = groups.slice(0, hasNamed ? -3 : -2) as string[];
    const m = Object.assign([...captures], { groups: hasNamed ? (groups[groups.length - 1] as Record<string, string>) : undefined }) as unknown as RegExpMatchArray;
    return expandTemplate(args.replace ?? "", m);
  });
  if (count > 0 && replaced !== section) {
    return { after: contents.slice(0, start) + replaced + contents.slice(end), msg: `${count} replacements made`, result: { rc: 0 } };
  }
  return { after: contents, msg: "pattern not found or already replaced" };
}

export const replace: ModuleDefinition<ReplaceArgs, TextEditState> = {
  name: "replace",
  aliases: [],
  secretArgs: ["regexp", "replace", "after", "before"],
  schema,
  async plan(received, ctx) {
    const args = revealSecrets(received);
    return planTextEdit(ctx, args, (before) => replaceText(before ?? "", args), {
      missing: () => {
        throw new ModuleFailure(`Path ${args.path} does not exist !`, { rc: 257 });
      },
    });
  },
  apply(plan, args, ctx) {
    return applyTextEdit(ctx, revealSecrets(args), plan);
  },
};
