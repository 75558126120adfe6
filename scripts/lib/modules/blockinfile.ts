/**
 * ansible.builtin.blockinfile: a block of lines between two marker lines. `editBlock` is
 * Ansible's algorithm as a pure function (markers found -> block replaced in place; else
 * inserted after/before the last line matching insertafter/insertbefore, or at EOF/BOF).
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import type { EditOutcome, TextEditArgs, TextEditState } from "./support/text-edit.ts";
import { FILE_ATTRIBUTE_PROPERTIES, applyTextEdit, planTextEdit, revealSecrets } from "./support/text-edit.ts";
import { pyRegex } from "./support/pyregex.ts";
import { RULES, schemaPattern } from "./support/values.ts";

export interface BlockinfileArgs extends TextEditArgs {
  block?: string;
  marker?: string;
  marker_begin?: string;
  marker_end?: string;
  state?: "present" | "absent";
  insertafter?: string;
  insertbefore?: string;
  prepend_newline?: boolean;
  append_newline?: boolean;
}

const schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "blockinfile",
  description: "Inserts, updates or removes a block of lines surrounded by marker lines.",
  type: "object",
  additionalProperties: false,
  properties: {
    path: { type: "string", aliases: ["dest", "destfile", "name"], description: "The file to modify." },
    block: { type: "string", aliases: ["content"], default: "", description: "The text to insert between the markers." },
    // The markers are lines the next run searches for: a newline would never match again.
    marker: { type: "string", default: "# {mark} ANSIBLE MANAGED BLOCK", ...schemaPattern(RULES.singleLine), description: "Marker line template; {mark} becomes marker_begin/marker_end." },
    marker_begin: { type: "string", default: "BEGIN", ...schemaPattern(RULES.singleLine) },
    marker_end: { type: "string", default: "END", ...schemaPattern(RULES.singleLine) },
    state: { type: "string", enum: ["present", "absent"], default: "present" },
    insertafter: { type: "string", description: "EOF or a regex: insert after the last matching line." },
    insertbefore: { type: "string", description: "BOF or a regex: insert before the last matching line." },
    create: { type: "boolean", default: false },
    backup: { type: "boolean", default: false },
    validate: { type: "string", description: "Command to validate the file before use (%s is the temp file)." },
    prepend_newline: { type: "boolean", default: false },
    append_newline: { type: "boolean", default: false },
    ...FILE_ATTRIBUTE_PROPERTIES,
  },
  allOf: [
    { required: ["path"] },
    { not: { required: ["insertafter", "insertbefore"] } },
  ],
};


/** Python's str.splitlines(True) for the line kinds config files have. */
function splitLinesKeepEnds(text: string): string[] {
  return text.match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
}

/** Ansible's blockinfile algorithm. `original` undefined means the file does not exist. */
export function editBlock(original: string | undefined, args: BlockinfileArgs): { after: string; msg: string } {
  const lines = splitLinesKeepEnds(original ?? "");
  const present = (args.state ?? "present") === "present";
  let insertafter = args.insertafter;
  const insertbefore = args.insertbefore;
  if (insertbefore === undefined && insertafter === undefined) insertafter = "EOF";
  let insertRe: ReturnType<typeof pyRegex> | undefined;
  if (insertafter !== undefined && insertafter !== "EOF") insertRe = pyRegex(insertafter);
  else if (insertbefore !== undefined && insertbefore !== "BOF") insertRe = pyRegex(insertbefore);

  const marker = args.marker ?? "# {mark} ANSIBLE MANAGED BLOCK";
  const marker0 = marker.replaceAll("{mark}", args.marker_begin ?? "BEGIN") + "\n";
  const marker1 = marker.replaceAll("{mark}", args.marker_end ?? "END") + "\n";
  let block = args.block ?? "";
  let blockLines: string[] = [];
  if (present && block) {
    if (!block.endsWith("\n")) block += "\n";
    blockLines = [marker0, ...splitLinesKeepEnds(block), marker1];
  }

  let n0: number | undefined;
  let n1: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === marker0) n0 = i;
    if (lines[i] === marker1) n1 = i;
  }
  if (n0 === undefined || n1 === undefined) {
    n0 = undefined;
    if (insertRe) {
      let found: number | undefined;
      if (insertRe.multiline) {
        // (?m) patterns are searched in the whole text, as Ansible does.
        const text = original ?? "";
        const m = insertRe.regex.exec(text);
        if (m) found = (text.slice(0, insertafter !== undefined ? m.index + m[0].length : m.index).match(/\n/g) ?? []).length;
      } else {
        for (let i = 0; i < lines.length; i++) if (insertRe.regex.test(lines[i].replace(/\n$/, ""))) found = i;
      }
      if (found === undefined) n0 = lines.length;
      else n0 = insertafter !== undefined ? found + 1 : found;
    } else if (insertbefore !== undefined) {
      n0 = 0; // BOF
    } else {
      n0 = lines.length; // EOF
    }
  } else if (n0 < n1) {
    lines.splice(n0, n1 - n0 + 1);
  } else {
    lines.splice(n1, n0 - n1 + 1);
    n0 = n1;
  }
  if (n0 > 0 && n0 - 1 < lines.length && !lines[n0 - 1].endsWith("\n")) lines[n0 - 1] += "\n";
  if (args.prepend_newline && present && n0 !== 0 && lines[n0 - 1] !== "\n") {
    lines.splice(n0, 0, "\n");
    n0 += 1;
  }
  lines.splice(n0, 0, ...blockLines);
  if (args.append_newline && present) {
    const after = n0 + blockLines.length;
    if (after < lines.length && lines[after] !== "\n") lines.splice(after, 0, "\n");
  }
  const result = lines.join("");
  let msg = "";
  if (original === result) msg = "";
  else if (original === undefined) msg = "File created";
  else if (blockLines.length === 0) msg = "Block removed";
  else msg = "Block inserted";
  return { after: result, msg };
}

export const blockinfile: ModuleDefinition<BlockinfileArgs, TextEditState> = {
  name: "blockinfile",
  aliases: [],
  secretArgs: ["block", "insertafter", "insertbefore"],
  schema,
  async plan(received, ctx) {
    const args = revealSecrets(received);
    const present = (args.state ?? "present") === "present";
    return planTextEdit(
      ctx,
      args,
      (before): EditOutcome => {
        const { after, msg } = editBlock(before, args);
        return { after, msg: msg || (present ? "block present" : "block absent") };
      },
      {
        missing: () => {
          if (!present) return { exit: `File ${args.path} not present` };
          if (!args.create) throw new ModuleFailure(`Path ${args.path} does not exist !`, { rc: 257 });
          return "create";
        },
      },
    );
  },
  apply(plan, args, ctx) {
    return applyTextEdit(ctx, revealSecrets(args), plan);
  },
};
