/**
 * Errors a user can fix. They carry where the mistake is (file:line:col, or host and task)
 * and are printed without a stack trace; anything else is a bug and keeps its stack under -vvv.
 */

/** A place in a source file (1-based line and column). */
export interface SourcePosition {
  file: string;
  line?: number;
  col?: number;
}

/** Exit codes of ansible-playbook, which we keep so scripts around us behave the same. */
export const ExitCode = {
  ok: 0,
  error: 1,
  hostFailed: 2,
  unreachableOrParse: 4,
  badOptions: 5,
  interrupted: 99,
} as const;

export function formatPosition(where: SourcePosition): string {
  let s = where.file;
  if (where.line !== undefined) s += `:${where.line}`;
  if (where.line !== undefined && where.col !== undefined) s += `:${where.col}`;
  return s;
}

export interface UserErrorOptions {
  /** Where the mistake is in the user's files. */
  where?: SourcePosition;
  /** What to do about it, one sentence. */
  hint?: string;
  /** Exit code when this error ends the run (default 4, as ansible-playbook for parse errors). */
  exitCode?: number;
}

/** A mistake in the user's input: printed as `file:line:col: message` plus a hint, no stack. */
export class UserError extends Error {
  readonly where?: SourcePosition;
  readonly hint?: string;
  readonly exitCode: number;
  constructor(message: string, options: UserErrorOptions = {}) {
    super(message);
    this.name = "UserError";
    this.where = options.where;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.unreachableOrParse;
  }

  /** The one-line (or two-line, with a hint) form shown to users. */
  format(): string {
    const prefix = this.where ? `${formatPosition(this.where)}: ` : "";
    return `${prefix}${this.message}${this.hint ? `\n  hint: ${this.hint}` : ""}`;
  }
}

/** Suggests the closest known name ("did you mean ...") by edit distance. */
export function didYouMean(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}
