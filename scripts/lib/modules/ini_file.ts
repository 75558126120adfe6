/**
 * community.general.ini_file: an option (one value, or several with `values`) set in or
 * removed from a section of an INI file, or a whole section removed, with Ansible's exact
 * line rules so a file both tools manage never flips: "option = value" ("option=value" with
 * no_extra_spaces), a commented-out "#option" line reused in place, other occurrences of the
 * option dropped (exclusive), new lines after the section's last non-blank line, a new section
 * at the end of the file (after a blank line when the file was empty, as Ansible writes it).
 * One read, one atomic write (text-edit.ts).
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import type { EditOutcome, TextEditArgs, TextEditState } from "./support/text-edit.ts";
import { FILE_ATTRIBUTE_PROPERTIES, applyTextEdit, planTextEdit, readLines, revealSecrets } from "./support/text-edit.ts";
import { RULES, schemaPattern } from "./support/values.ts";

interface IniFileArgs extends TextEditArgs {
  section?: string | null;
  option?: string;
  value?: string | number | boolean;
  values?: Array<string | number | boolean>;
  state: "present" | "absent";
  exclusive: boolean;
  no_extra_spaces: boolean;
  allow_no_value: boolean;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");

/** Groups: 1 the option, 2 "=" or nothing, 3 the value (Ansible's match_opt / match_active_opt). */
function optionMatcher(option: string, inactiveToo: boolean): RegExp {
  return new RegExp(`^${inactiveToo ? "[#;]?" : ""}[ \\t]*(${escape(option)})[ \\t]*(=|(?=\\n?$))[ \\t]*(.*)`);
}

/** A Python-style bool/number as Ansible's str() turns it into text. */
function text(v: string | number | boolean): string {
  return typeof v === "boolean" ? (v ? "True" : "False") : String(v);
}

/** The INI edit, line for line as Ansible's ini_file does it. */
export function editIni(before: string | undefined, a: IniFileArgs): EditOutcome {
  const values: string[] = [];
  for (const v of a.value !== undefined ? [a.value] : (a.values ?? [])) if (!values.includes(text(v))) values.push(text(v));
  const option = a.option;
  const assign = (v: string) => (a.no_extra_spaces ? `${option}=${v}\n` : `${option} = ${v}\n`);
  const lines = readLines(before ?? "");
  let changed = false;
  let msg = "OK";
  if (lines.length === 0) lines.push("\n");
  if (!lines[lines.length - 1].endsWith("\n")) {
    lines[lines.length - 1] += "\n";
    changed = true;
  }
  // Sentinels: a section no file has at the top (the options before any section), "[" at the end.
  const TOP = "ad01e11446efb704fcdbdb21f2c43757423d91c5";
  lines.unshift(`[${TOP}]`);
  lines.push("[");
  const section = a.section ? a.section : TOP;
  let within = false;
  let start = 0;
  let end = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith(`[${section}]`)) {
      within = true;
      start = i;
    } else if (lines[i].startsWith("[") && within) {
      end = i;
      break;
    }
  }
  const head = lines.slice(0, start);
  let body = lines.slice(start, end);
  const tail = lines.slice(end);
  const touched = body.map(() => false);
  const any = option === undefined ? undefined : optionMatcher(option, true);
  const active = option === undefined ? undefined : optionMatcher(option, false);
  const put = (i: number, line: string) => {
    if (body[i] !== line) {
      changed = true;
      msg = "option changed";
    }
    body[i] = line;
    touched[i] = true;
  };
  let noValueLinePresent = false;

  if (a.state === "present" && option !== undefined) {
    for (let i = 0; i < body.length; i++) {
      const m = any!.exec(body[i]);
      if (!m) continue;
      if (values.length && values.includes(m[3])) {
        if (m[3] === "" && a.allow_no_value) {
          put(i, `${option}\n`);
          noValueLinePresent = true;
        } else put(i, assign(m[3]));
        values.splice(values.indexOf(m[3]), 1);
      } else if (!values.length && a.allow_no_value) {
        put(i, `${option}\n`);
        noValueLinePresent = true;
        break;
      }
    }
  }
  if (a.state === "present" && a.exclusive && !a.allow_no_value) {
    for (let i = 0; i < body.length && values.length; i++) if (!touched[i] && any!.test(body[i])) put(i, assign(values.shift()!));
    for (let i = body.length - 1; i > 0; i--) {
      if (!touched[i] && any!.test(body[i])) {
        body.splice(i, 1);
        touched.splice(i, 1);
        changed = true;
        msg = "option changed";
      }
    }
  }
  if (a.state === "present") {
    const blankOrComment = /^[ \t]*([#;].*)?$/;
    for (let i = body.length; i > 0; i--) {
      if (blankOrComment.test(body[i - 1].replace(/\n$/, ""))) continue;
      if (option !== undefined && values.length) {
        body.splice(i, 0, ...values.map(assign));
        msg = "option added";
        changed = true;
      } else if (option !== undefined && !values.length && a.allow_no_value && !noValueLinePresent) {
        body.splice(i, 0, `${option}\n`);
        msg = "option added";
        changed = true;
      }
      break;
    }
  }
  if (a.state === "absent") {
    if (option !== undefined) {
      const kept = body.filter((l) => !(active!.test(l) && (a.exclusive || values.includes(active!.exec(l)![3]))));
      if (a.exclusive || values.length) {
        if (kept.length !== body.length) {
          changed = true;
          msg = "option changed";
          body = kept;
        }
      }
    } else if (body.length) {
      body = [];
      msg = "section removed";
      changed = true;
    }
  }
  const out = [...head, ...body, ...tail].slice(1, -1);
  if (!within && a.state === "present") {
    out.push(`[${section}]\n`);
    msg = "section and option added";
    if (option !== undefined && values.length) out.push(...values.map(assign));
    else if (option !== undefined && a.allow_no_value) out.push(`${option}\n`);
    else msg = "only section added";
    changed = true;
  }
  if (!changed) return { exit: msg };
  return { after: out.join(""), msg };
}

export const iniFile: ModuleDefinition<IniFileArgs, TextEditState> = {
  name: "ini_file",
  aliases: ["community.general.ini_file"],
  schema: {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "ini_file",
    description: "Sets or removes an option (or a section) in an INI file.",
    type: "object",
    additionalProperties: false,
    properties: {
      path: { type: "string", aliases: ["dest"], description: "The INI file." },
      section: { type: ["string", "null"], ...schemaPattern(RULES.singleLine), description: "Section name; null or unset for options before any section." },
      option: { type: "string", ...schemaPattern(RULES.singleLine) },
      value: { type: ["string", "number", "boolean"], ...schemaPattern(RULES.singleLine) },
      values: { type: "array", items: { type: ["string", "number", "boolean"], ...schemaPattern(RULES.singleLine) } },
      state: { type: "string", enum: ["present", "absent"], default: "present" },
      exclusive: { type: "boolean", default: true, description: "Other values of the option are removed (present) or all of them (absent)." },
      no_extra_spaces: { type: "boolean", default: false },
      allow_no_value: { type: "boolean", default: false },
      create: { type: "boolean", default: true },
      backup: { type: "boolean", default: false },
      ...FILE_ATTRIBUTE_PROPERTIES,
    },
    required: ["path"],
    not: { required: ["value", "values"] },
  },
  async plan(args, ctx) {
    const a = revealSecrets(args);
    if (a.state === "present" && !a.allow_no_value && a.value === undefined && !a.values?.length && a.option !== undefined) {
      throw new ModuleFailure("ini_file: value (or values) must be given when state is present and allow_no_value is false");
    }
    return planTextEdit(ctx, a, (before) => editIni(before, a), {
      missing: () => {
        if (a.create) return "create";
        throw new ModuleFailure(`Destination ${a.path} does not exist!`, { rc: 257 });
      },
    });
  },
  async apply(plan, args, ctx) {
    return applyTextEdit(ctx, revealSecrets({ ...args, create: true }), plan);
  },
};
