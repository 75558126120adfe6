/**
 * POSIX shell quoting for remote commands. Targets run dash as /bin/sh (Raspberry Pi OS,
 * Debian), so we only ever emit single quotes: never bash's $'...'.
 */
import { Secret } from "./secret.ts";

/** Quotes one value for a POSIX shell: `it's` becomes `'it'\''s'`. */
export function quote(value: string | number | Secret): string {
  const s = value instanceof Secret ? value.reveal() : String(value);
  if (s !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** A value interpolated into `sh` as-is, for trusted fragments built by `sh` itself. */
export class RawShell {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Marks a fragment as already-quoted shell (e.g. the result of another `sh`). */
export function raw(text: string): RawShell {
  return new RawShell(text);
}

type Interpolated = string | number | Secret | RawShell | ReadonlyArray<string | number | Secret>;

/**
 * Builds a remote command: every interpolated value is quoted; arrays become
 * space-separated quoted words. Example: sh`mkdir -p ${dir} && chmod ${mode} ${dir}`.
 */
export function sh(strings: TemplateStringsArray, ...values: Interpolated[]): string {
  let out = strings[0];
  values.forEach((value, i) => {
    if (value instanceof RawShell) out += value.text;
    else if (Array.isArray(value)) out += value.map((v) => quote(v)).join(" ");
    else out += quote(value as string | number | Secret);
    out += strings[i + 1];
  });
  return out;
}
