/**
 * Secrets (tokens, passwords, datastore URLs) travel as Secret values. They print as `***`
 * everywhere; only `reveal()` gives the text, and only code that writes it to its target
 * (a 0600 file, a stdin) calls it. Templates that read a Secret give a Secret (see
 * template/templar.ts), so forms derived from one (`| upper`, `| b64encode`) are secret too.
 *
 * Code that reads a secret calls `markSecret(text)` (a Secret, its text remembered): the become
 * and connection passwords (run/vars.ts), decrypted vault values. Text rendered from a secret
 * is remembered too (`registerDerivedSecret`, 4+ characters). Text that comes from elsewhere
 * (a remote program's output, an error message) is masked where it contains one (`maskSecrets`):
 * - a secret of 4 or more characters wherever it occurs;
 * - a shorter one where it stands alone: the whole text, or a word not touching a letter or
 *   digit (masking every "ab" inside other words would make output unreadable).
 * A `new Secret(text)` alone is not remembered (what a no_log task registers is masked as a
 * value, but its words are not hunted in other output).
 *
 * Masking is for what is shown, never for data: writers call `maskValue` on the values they
 * print, before serialising them (JSON would otherwise escape a secret into a form that no
 * longer matches), and registered results keep the real text.
 */

/** Secrets at least this long are masked inside any text; shorter ones only as whole words. */
const SUBSTRING_MIN = 4;

const long = new Set<string>();
const short = new Set<string>();
let shortPattern: RegExp | undefined;

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return "***";
  }
  toJSON(): string {
    return "***";
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return "Secret(***)";
  }
}

/** Remembers a secret's text, so that any output echoing it is masked (see the module comment). */
export function registerSecret(value: string): void {
  if (value === "") return;
  if (value.length >= SUBSTRING_MIN) long.add(value);
  else if (!short.has(value)) {
    short.add(value);
    shortPattern = undefined;
  }
}

/**
 * Remembers text rendered from a secret (`{{ pw | b64encode }}`), so a program that echoes it
 * back is masked too. Only 4+ characters (a derived "yes" is not worth hiding in every line
 * of output), and not when it already contains a remembered secret (`https://pi:{{ pw }}@db`
 * is masked through the password: this keeps the list short in long loops).
 */
export function registerDerivedSecret(text: string): void {
  if (text.length >= SUBSTRING_MIN && !long.has(text) && maskSecrets(text) === text) long.add(text);
}

/**
 * Marks a value as secret (for code that reads secrets: the become password, vault values):
 * returns a Secret and remembers its text. Non-string values are returned as they are.
 */
export function markSecret<T>(value: T): Secret | T {
  if (value instanceof Secret) {
    registerSecret(value.reveal());
    return value;
  }
  if (typeof value !== "string") return value;
  registerSecret(value);
  return new Secret(value);
}

/** Replaces every remembered secret in text with *** (long ones anywhere, short ones as words). */
export function maskSecrets(text: string): string {
  let out = text;
  for (const s of long) if (out.includes(s)) out = out.split(s).join("***");
  if (short.size) {
    if (short.has(out)) return "***";
    shortPattern ??= new RegExp(
      `(?<![\\p{L}\\p{N}])(?:${[...short].sort((a, b) => b.length - a.length).map(escapeRegExp).join("|")})(?![\\p{L}\\p{N}])`,
      "gu",
    );
    out = out.replace(shortPattern, "***");
  }
  return out;
}

/**
 * A copy of a value for showing: Secrets become `***`, strings are masked with maskSecrets,
 * lists and mappings are copied with their values masked. The value itself is not changed.
 */
export function maskValue(value: unknown, seen: Set<object> = new Set()): unknown {
  if (typeof value === "string") return maskSecrets(value);
  if (value instanceof Secret) return "***";
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[circular]";
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => maskValue(v, seen));
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[maskSecrets(k)] = maskValue(v, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}

/**
 * A value whose every string is a Secret (lists and mappings copied): what a template gives
 * when it read a secret, and what a no_log task registers. Numbers and booleans stay plain,
 * so `result.rc == 0` and `password | length` still work as data.
 */
export function secretStrings(value: unknown): unknown {
  if (typeof value === "string") return new Secret(value);
  if (Array.isArray(value)) return value.map(secretStrings);
  if (value !== null && typeof value === "object" && !(value instanceof Secret)) {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = secretStrings(v);
    return out;
  }
  return value;
}

/**
 * A value with its Secrets replaced by their text (lists and mappings copied only when one
 * changed), each text remembered with registerDerivedSecret: for code that must act on the
 * real value (a module argument, a host name) while output still masks it.
 */
export function plainValue(value: unknown): unknown {
  if (value instanceof Secret) {
    const text = value.reveal();
    registerDerivedSecret(text);
    return text;
  }
  if (Array.isArray(value)) {
    const out = value.map(plainValue);
    return out.some((x, i) => x !== value[i]) ? out : value;
  }
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.entries(value);
    const out = entries.map(([k, v]) => [k, plainValue(v)] as const);
    return out.some(([, v], i) => v !== entries[i][1]) ? Object.fromEntries(out) : value;
  }
  return value;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
