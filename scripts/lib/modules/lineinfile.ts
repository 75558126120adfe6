/**
 * ansible.builtin.lineinfile: ensure one line is present (or lines absent) in a text file.
 * `editLines` is Ansible's present()/absent() algorithm, line for line, as a pure function;
 * the module around it probes once and writes atomically.
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import type { EditOutcome, TextEditArgs, TextEditState } from "./support/text-edit.ts";
import { FILE_ATTRIBUTE_PROPERTIES, applyTextEdit, planTextEdit, revealSecrets, readLines } from "./support/text-edit.ts";
import { RULES, requireValue, schemaPattern } from "./support/values.ts";
import { Secret } from "../shell/secret.ts";
import { expandTemplate, pyRegex } from "./support/pyregex.ts";

export interface LineinfileArgs extends TextEditArgs {
  line?: string;
  regexp?: string;
  search_string?: string;
  state?: "present" | "absent";
  insertafter?: string;
  insertbefore?: string;
  backrefs?: boolean;
  firstmatch?: boolean;
}

const schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "lineinfile",
  description: "Ensures a particular line is in a file, or replaces an existing line using a regular expression.",
  type: "object",
  additionalProperties: false,
  properties: {
    path: { type: "string", aliases: ["dest", "destfile", "name"], description: "The file to modify." },
    // Ansible writes a "line" holding newlines as several lines that never match it again
    // (changed on every run); one line only here, blockinfile writes blocks.
    line: { type: "string", aliases: ["value"], ...schemaPattern(RULES.singleLine), description: "The line to insert/replace into the file (one line; use blockinfile for several)." },
    regexp: { type: "string", aliases: ["regex"], description: "Python regular expression to look for in every line." },
    search_string: { type: "string", description: "Literal string to look for in every line." },
    state: { type: "string", enum: ["present", "absent"], default: "present" },
    insertafter: { type: "string", description: "EOF, BOF or a regex: insert after the last matching line." },
    insertbefore: { type: "string", description: "BOF or a regex: insert before the last matching line." },
    create: { type: "boolean", default: false, description: "Create the file when missing." },
    backrefs: { type: "boolean", default: false, description: "Expand \\1 in line from regexp; do nothing when regexp does not match." },
    firstmatch: { type: "boolean", default: false, description: "insertafter/insertbefore work with the first matching line." },
    backup: { type: "boolean", default: false },
    validate: { type: "string", description: "Command to validate the file before use (%s is the temp file)." },
    others: { type: "object", description: "Accepted for compatibility; ignored." },
    ...FILE_ATTRIBUTE_PROPERTIES,
  },
  allOf: [
    { required: ["path"] },
    { not: { required: ["insertafter", "insertbefore"] } },
    { not: { required: ["regexp", "search_string"] } },
    { not: { required: ["backrefs", "search_string"] } },
  ],
};

/** Aliases -> canonical names (Ansible's dest/destfile/name, value, regex). */

/** Ansible's lineinfile present(): returns the new text and "line added"/"line replaced"/"". */
export function presentLines(before: string | undefined, args: LineinfileArgs): { after: string; msg: string } {
  const lines = readLines(before ?? "");
  const line = args.line!;
  const { regexp, search_string: search, backrefs, firstmatch } = args;
  let insertafter = args.insertafter;
  const insertbefore = args.insertbefore;
  if (insertbefore === undefined && insertafter === undefined) insertafter = "EOF";
  const re = regexp !== undefined ? pyRegex(regexp).regex : undefined;
  let insRe: RegExp | undefined;
  if (insertafter !== undefined && insertafter !== "BOF" && insertafter !== "EOF") insRe = pyRegex(insertafter).regex;
  else if (insertbefore !== undefined && insertbefore !== "BOF") insRe = pyRegex(insertbefore).regex;

  // Python matches against the line with its "\n"; `$` matches before it, so we search
  // the line without it, which gives the same answers.
  const body = (l: string) => l.replace(/\n$/, "");
  const stripped = (l: string) => l.replace(/[\r\n]+$/, "");
  const index = [-1, -1];
  let match: RegExpExecArray | boolean | null = null;
  let exactLineMatch = false;

  if (re) {
    for (let i = 0; i < lines.length; i++) {
      const m = re.exec(body(lines[i]));
      if (m) {
        index[0] = i;
        match = m;
        if (firstmatch) break;
      }
    }
  }
  if (search !== undefined) {
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].includes(search)) {
        index[0] = i;
        match = true;
        if (firstmatch) break;
      }
    }
  }
  if (!match) {
    for (let i = 0; i < lines.length; i++) {
      if (line === stripped(lines[i])) {
        index[0] = i;
        exactLineMatch = true;
      } else if (insRe && insRe.test(body(lines[i]))) {
        if (insertafter) {
          index[1] = i + 1;
          if (firstmatch) break;
        }
        if (insertbefore) {
          index[1] = i;
          if (firstmatch) break;
        }
      }
    }
  }

  let msg = "";
  const endsWithNewline = () => lines.length > 0 && /[\n\r]$/.test(lines[lines.length - 1]);
  if (index[0] !== -1) {
    let newLine = backrefs && match && typeof match !== "boolean" ? expandTemplate(line, match) : line;
    if (!newLine.endsWith("\n")) newLine += "\n";
    if (regexp === undefined && search === undefined && !match && !exactLineMatch) {
      // Unreachable in practice (index[0] is set only by a match); kept as Ansible has it.
    } else if (lines[index[0]] !== newLine) {
      lines[index[0]] = newLine;
      msg = "line replaced";
    }
  } else if (backrefs) {
    // Not safe to generate the line without the regexp's groups: do nothing.
  } else if (insertbefore === "BOF" || insertafter === "BOF") {
    lines.unshift(line + "\n");
    msg = "line added";
  } else if (insertafter === "EOF" || index[1] === -1) {
    if (lines.length > 0 && !endsWithNewline()) lines.push("\n");
    lines.push(line + "\n");
    msg = "line added";
  } else if (insertafter && index[1] !== -1) {
    if (lines.length === index[1]) {
      if (stripped(lines[index[1] - 1]) !== line) {
        lines.push(line + "\n");
        msg = "line added";
      }
    } else if (line !== stripped(lines[index[1]])) {
      lines.splice(index[1], 0, line + "\n");
      msg = "line added";
    }
  } else {
    lines.splice(index[1], 0, line + "\n");
    msg = "line added";
  }
  return { after: lines.join(""), msg };
}

/** Ansible's lineinfile absent(): removes every matching line. */
export function absentLines(before: string, args: LineinfileArgs): { after: string; msg: string; found: number } {
  const re = args.regexp !== undefined ? pyRegex(args.regexp).regex : undefined;
  let found = 0;
  const kept = readLines(before).filter((l) => {
    const hit = re ? re.test(l.replace(/\n$/, "")) : args.search_string !== undefined ? l.includes(args.search_string) : args.line === l.replace(/[\r\n]+$/, "");
    if (hit) found++;
    return !hit;
  });
  return { after: kept.join(""), msg: found > 0 ? `${found} line(s) removed` : "", found };
}

function checkArgs(args: LineinfileArgs): void {
  if (args.backrefs && args.regexp === undefined) throw new ModuleFailure("regexp is required with backrefs=true");
  const state = args.state ?? "present";
  if (state === "present" && args.line === undefined) throw new ModuleFailure("line is required with state=present");
  if (state === "absent" && args.line === undefined && args.regexp === undefined && args.search_string === undefined) {
    throw new ModuleFailure("One of line, search_string, or regexp is required with state=absent");
  }
}

export const lineinfile: ModuleDefinition<LineinfileArgs, TextEditState> = {
  name: "lineinfile",
  aliases: [],
  secretArgs: ["line", "regexp", "search_string", "insertafter", "insertbefore"],
  schema,
  async plan(received, ctx) {
    const args = revealSecrets(received);
    checkArgs(args);
    // The schema sees a secret line only as a placeholder: check its text here.
    if (args.line !== undefined) requireValue("lineinfile", "line", args.line, RULES.singleLine, { secret: (received.line as unknown) instanceof Secret });
    if (args.regexp === "" || args.search_string === "") {
      ctx.warn(`The ${args.regexp === "" ? "regular expression" : "search string"} is an empty string, which will match every line in the file.`);
    }
    const present = (args.state ?? "present") === "present";
    return planTextEdit(
      ctx,
      args,
      (before): EditOutcome => {
        if (present) {
          const { after, msg } = presentLines(before, args);
          return { after, msg: msg || (args.backrefs && after === before ? "no line matched the regexp (backrefs)" : "line present") };
        }
        const { after, msg, found } = absentLines(before ?? "", args);
        return { after, msg: msg || "line absent", result: { found } };
      },
      {
        missing: () => {
          if (!present) return { exit: "file not present", result: { found: 0 } };
          if (!args.create) throw new ModuleFailure(`Destination ${args.path} does not exist !`, { rc: 257 });
          return "create";
        },
      },
    );
  },
  apply(plan, args, ctx) {
    return applyTextEdit(ctx, revealSecrets(args), plan);
  },
};
