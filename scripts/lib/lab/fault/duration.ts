/** `--for` values: 10s, 500ms, 2m, or plain seconds. */
import { UserError, ExitCode } from "../../errors.ts";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** Milliseconds in `text`, or a clear error quoting it. */
export function parseDuration(text: string, flag = "--for"): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] ?? "s"] : NaN;
  if (!(ms > 0) || ms > 24 * 3600_000) {
    throw new UserError(`${flag} "${text}" is not a duration`, { hint: `e.g. ${flag} 10s, ${flag} 500ms or ${flag} 2m (at most a day)`, exitCode: ExitCode.badOptions });
  }
  return Math.round(ms);
}
