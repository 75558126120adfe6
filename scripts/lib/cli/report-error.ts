/**
 * How every script ends on an error: a user's mistake (UserError) prints as one message with
 * where it is and what to do, its file relative to the working directory as the user typed it,
 * and its exit code; the stack only at -vvv. Anything else is an internal error with its stack.
 * Everything printed is masked first: an error may quote a secret (a become password, a vault
 * value).
 */
import { isAbsolute, relative } from "node:path";
import { ExitCode, UserError } from "../errors.ts";
import { maskSecrets } from "../shell/secret.ts";

export interface ErrorOutput {
  write(text: string): unknown;
}

/** Writes the error to `stderr` and returns the exit code to end with. */
export function reportError(error: unknown, stderr: ErrorOutput, options: { cwd?: string; verbosity?: number } = {}): number {
  const write = (text: string) => stderr.write(maskSecrets(text));
  if (error instanceof UserError) {
    write(`${(options.cwd ? relativeWhere(error, options.cwd) : error).format()}\n`);
    if ((options.verbosity ?? 0) >= 3 && error.stack) write(`${error.stack}\n`);
    return error.exitCode;
  }
  const e = error instanceof Error ? error : new Error(String(error));
  write(`internal error: ${e.message}\n${e.stack ?? ""}\n`);
  return ExitCode.error;
}

/** Paths under the working directory are shown relative to it. */
function relativeWhere(error: UserError, cwd: string): UserError {
  const file = error.where?.file;
  if (!file || !isAbsolute(file)) return error;
  const rel = relative(cwd, file);
  if (rel.startsWith("..")) return error;
  return new UserError(error.message, { where: { ...error.where, file: rel }, hint: error.hint, exitCode: error.exitCode });
}
