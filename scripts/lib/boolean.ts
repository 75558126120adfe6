/**
 * Ansible's yes/no words, the one list every reader of a boolean uses (keywords, module
 * options, connection and become variables, ansible.cfg, the `bool` filter): the words of
 * module_utils/parsing/convert_bool.py, any case, surrounding blanks ignored. YAML's own
 * booleans (yaml/load.ts) are a different, narrower list: the plain scalars PyYAML reads as
 * booleans.
 */
const TRUE_WORDS = new Set(["y", "yes", "on", "1", "true", "t"]);
const FALSE_WORDS = new Set(["n", "no", "off", "0", "false", "f"]);

/**
 * true or false for a boolean, 1 or 0, or one of Ansible's words; undefined for anything else
 * (each caller decides: an error, a default, or false).
 *
 *   parseBoolean("Yes") === true; parseBoolean(0) === false; parseBoolean("maybe") === undefined
 */
export function parseBoolean(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value === 1 ? true : value === 0 ? false : undefined;
  if (typeof value !== "string") return undefined;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}
