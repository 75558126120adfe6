/**
 * The INI dialect of ansible.cfg (Python's configparser as Ansible sets it up): `[section]`,
 * `key = value` or `key: value`, keys case-insensitive, whole-line comments with `#` or `;`,
 * inline comments only with ` ;`, indented lines continue the previous value.
 */
import { UserError } from "../errors.ts";

export interface IniEntry {
  section: string;
  key: string;
  value: string;
  line: number;
}

/** Every entry in file order; a line that is none of the above is a UserError naming it. */
export function parseIni(text: string, file: string): IniEntry[] {
  const entries: IniEntry[] = [];
  let section: string | undefined;
  let last: IniEntry | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const line = i + 1;
    if (/^\s*([#;].*)?$/.test(raw)) {
      if (raw.trim() === "") last = undefined;
      continue;
    }
    if (/^\s/.test(raw) && last) {
      last.value = `${last.value}\n${stripInlineComment(raw).trim()}`.trim();
      continue;
    }
    const header = /^\[([^\]]+)\]\s*$/.exec(raw);
    if (header) {
      section = header[1].trim();
      last = undefined;
      continue;
    }
    const pair = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw.trim());
    if (!pair) {
      throw new UserError(`ansible.cfg: cannot read ${JSON.stringify(raw.trim())}`, { where: { file, line }, hint: "Write `key = value` under a [section] header." });
    }
    if (section === undefined) {
      throw new UserError(`ansible.cfg: ${JSON.stringify(pair[1])} is set before any [section] header`, { where: { file, line }, hint: "Put settings under [defaults] (or another section)." });
    }
    last = { section, key: pair[1].toLowerCase(), value: stripInlineComment(pair[2]).trim(), line };
    entries.push(last);
  }
  return entries;
}

function stripInlineComment(value: string): string {
  const m = /\s;/.exec(value);
  return m ? value.slice(0, m.index) : value;
}
