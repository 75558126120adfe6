/**
 * Ansible's one-line argument syntax: `apt: name=foo state=present`, `command: ls -l
 * chdir=/tmp`, `debug: msg="hello world"`. Words are split on whitespace outside quotes and
 * outside Jinja2 `{{ }}`/`{% %}`/`{# #}`; `key=value` words become arguments (outer quotes
 * removed); what remains is the free-form text, kept verbatim (newlines of a shell script
 * included).
 */

interface Word {
  start: number;
  end: number;
  text: string;
}

/** Splits text into words with their offsets, keeping quoted and Jinja2 parts whole. */
export function splitWords(text: string): Word[] {
  const words: Word[] = [];
  let start = -1;
  let quote: string | null = null;
  let jinja = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const two = text.slice(i, i + 2);
    if (start < 0) {
      if (/\s/.test(c)) continue;
      start = i;
    }
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (two === "{{" || two === "{%" || two === "{#") {
      jinja++;
      i++;
      continue;
    }
    if (jinja > 0 && (two === "}}" || two === "%}" || two === "#}")) {
      jinja--;
      i++;
      continue;
    }
    if (jinja > 0) continue;
    if (c === '"' || c === "'") {
      quote = c;
      continue;
    }
    if (/\s/.test(c)) {
      words.push({ start, end: i, text: text.slice(start, i) });
      start = -1;
    }
  }
  if (start >= 0) words.push({ start, end: text.length, text: text.slice(start) });
  return words;
}

/** Removes one pair of matching outer quotes (and backslash escapes inside double quotes). */
export function unquote(value: string): string {
  if (value.length >= 2 && value[0] === value[value.length - 1] && (value[0] === '"' || value[0] === "'")) {
    const inner = value.slice(1, -1);
    return value[0] === '"' ? inner.replace(/\\(["\\])/g, "$1") : inner;
  }
  return value;
}

const KEY_VALUE = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

export interface FreeFormResult {
  /** The key=value pairs found. */
  args: Record<string, string>;
  /** What is left (verbatim, trimmed); "" when everything was key=value. */
  raw: string;
}

/**
 * Parses a one-line argument string. With `onlyKeys`, only those keys are taken out as
 * arguments (command/shell: `chdir=`, `creates=`, ...), every other word stays in `raw`, as
 * Ansible does for free-form modules.
 */
export function parseFreeForm(text: string, onlyKeys?: ReadonlySet<string>): FreeFormResult {
  const args: Record<string, string> = {};
  let raw = "";
  let last = 0;
  for (const word of splitWords(text)) {
    const m = KEY_VALUE.exec(word.text);
    if (!m || (onlyKeys && !onlyKeys.has(m[1]))) continue;
    args[m[1]] = unquote(m[2]);
    raw += text.slice(last, word.start);
    last = word.end;
  }
  raw += text.slice(last);
  return { args, raw: raw.trim() };
}
