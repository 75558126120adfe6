/**
 * Ansible's `comment` filter: text decorated as a comment block in one of its styles (plain #,
 * erlang %, c //, cblock /* *\/, xml <!-- -->), with its options: decoration, beginning, end,
 * prefix, prefix_count, postfix, postfix_count, newline.
 *
 * @example
 *   comment("Ansible managed", "cblock")   // "/*\n *\n * Ansible managed\n *\n *\/"
 */
import { TemplateError } from "./errors.ts";
import { pyStr } from "./python.ts";

const STYLES: Record<string, Record<string, string>> = {
  plain: { decoration: "# " },
  erlang: { decoration: "% " },
  c: { decoration: "// " },
  cblock: { beginning: "/*", decoration: " * ", end: " */" },
  xml: { beginning: "<!--", decoration: " - ", end: "-->" },
};

export function comment(value: unknown, style = "plain", options: Record<string, unknown> = {}): string {
  const styleOptions = STYLES[style];
  if (!styleOptions) throw new TemplateError(`comment: unknown style "${style}"`, { hint: `Use one of ${Object.keys(STYLES).join(", ")}.` });
  // The prefix and postfix lines default to the decoration without its trailing space.
  const frame = pyStr(options.decoration ?? styleOptions.decoration).trimEnd();
  const o: Record<string, unknown> = { newline: "\n", beginning: "", prefix: frame, prefix_count: 1, decoration: "", postfix: frame, postfix_count: 1, end: "", ...styleOptions, ...options };
  const nl = pyStr(o.newline);
  const decoration = pyStr(o.decoration);
  const prefix = pyStr(o.prefix);
  const beginning = o.beginning ? `${pyStr(o.beginning)}${nl}` : "";
  const prefixLines = prefix ? (prefix === nl ? nl : `${prefix}${nl}`).repeat(Math.max(0, Number(o.prefix_count))) : "";
  // Every line gets the decoration; a line left with only the decoration loses its trailing space.
  const text = (decoration + pyStr(value).split(nl).join(nl + decoration)).split(decoration + nl).join(decoration.trimEnd() + nl);
  const postfixLines = Array.from({ length: Math.max(0, Number(o.postfix_count)) }, () => nl + pyStr(o.postfix)).join("");
  const end = o.end ? `${nl}${pyStr(o.end)}` : "";
  return beginning + prefixLines + text + postfixLines + end;
}
