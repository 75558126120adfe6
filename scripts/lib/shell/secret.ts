/**
 * Secrets (tokens, passwords, datastore URLs) travel as Secret values. They print as `***`
 * everywhere; only `reveal()` gives the text, and only code that writes it to its target
 * (a 0600 file, a stdin) calls it. Every revealed value is also remembered so that
 * `maskSecrets` can scrub it out of any output that echoes it back (stderr, diffs).
 */

const known = new Set<string>();

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
    if (value.length >= 4) known.add(value);
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

/** Registers a value that must never be shown (e.g. a no_log task's arguments). */
export function registerSecret(value: string): void {
  if (value.length >= 4) known.add(value);
}

/** Replaces every known secret in text with ***. */
export function maskSecrets(text: string): string {
  let out = text;
  for (const s of known) if (out.includes(s)) out = out.split(s).join("***");
  return out;
}
