/**
 * Regular expressions from playbooks run on the controller (lineinfile, replace, the regex
 * filters and tests), where a catastrophic pattern such as `^(a+)+$` would stall the whole run
 * for minutes and ignore Ctrl-C (Ansible runs them on the target, where only that host stalls).
 *
 * Two bounds, chosen so that normal patterns cost nothing:
 * - V8 switches a pattern its linear-time engine can run to that engine once it has
 *   backtracked too much (flags set below): nested quantifiers then take linear time.
 * - Patterns that engine cannot run (backreferences, lookaround, the `i`, `u` and `d` flags)
 *   are matched inside `vm` with a time limit and Ctrl-C handling: a pattern that runs too
 *   long fails that task with a clear message, and Ctrl-C interrupts it and reaches the runner.
 */
import vm from "node:vm";
import v8 from "node:v8";
import { UserError } from "./errors.ts";

/** How long one match of a pattern the linear engine cannot run may take. */
export const REGEX_TIME_LIMIT_MS = 5000;

let linearEngine = false;
try {
  v8.setFlagsFromString("--enable-experimental-regexp-engine");
  v8.setFlagsFromString("--enable-experimental-regexp-engine-on-excessive-backtracks");
  new RegExp("a", "l");
  linearEngine = true;
} catch {
  // Not V8 flags we can set here (another runtime): every pattern takes the time-limited path.
}

/** Whether V8's linear-time engine can run this pattern (then it falls back to it by itself). */
function runsInLinearTime(source: string, flags: string): boolean {
  if (!linearEngine) return false;
  try {
    new RegExp(source, flags.replace(/[gy]/g, "") + "l");
    return true;
  } catch {
    return false;
  }
}

const context = vm.createContext({});
const callInContext = new vm.Script("run()", { filename: "regular expression" });

/** Runs `match` with the time limit; Ctrl-C during it interrupts it and is passed on. */
function limited<T>(re: RegExp, subject: string, match: () => T): T {
  context.run = match;
  try {
    return callInContext.runInContext(context, { timeout: REGEX_TIME_LIMIT_MS, breakOnSigint: true }) as T;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ERR_SCRIPT_EXECUTION_TIMEOUT") {
      throw new UserError(
        `Regular expression /${re.source}/${re.flags} took more than ${REGEX_TIME_LIMIT_MS / 1000} s on a text of ${subject.length} characters and was stopped`,
        { hint: "The pattern backtracks catastrophically (nested repetition such as (a+)+, or overlapping alternatives): simplify it or anchor it." },
      );
    }
    if (code === "ERR_SCRIPT_EXECUTION_INTERRUPTED") {
      // breakOnSigint held back the runner's own SIGINT handler: deliver the signal to it again.
      process.kill(process.pid, "SIGINT");
      throw new UserError(`Interrupted while matching the regular expression /${re.source}/${re.flags}`);
    }
    throw e;
  } finally {
    context.run = undefined;
  }
}

/** A RegExp whose every match (exec, and so test, replace, match, split) is time-limited. */
class TimeLimitedRegExp extends RegExp {
  override exec(subject: string): RegExpExecArray | null {
    return limited(this, String(subject), () => super.exec(subject));
  }
  static override get [Symbol.species](): RegExpConstructor {
    return TimeLimitedRegExp as unknown as RegExpConstructor;
  }
}

/** `new RegExp(source, flags)` for a pattern from a playbook: bounded in time as described above. */
export function boundedRegExp(source: string, flags = ""): RegExp {
  const re = new RegExp(source, flags); // throws a SyntaxError for an invalid pattern, as before
  return runsInLinearTime(source, flags) ? re : new TimeLimitedRegExp(source, flags);
}
