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
 *   That costs ~0.1 ms per match, so simple patterns skip it (see backtracksLittle).
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

/**
 * Whether a pattern cannot backtrack much: no backreference, no repeated group, at most one
 * unbounded repetition (`*`, `+`, `{n,}`) and four choices (`?`, `{n,m}`, `|`), repetitions
 * of a single character or class only. One attempt then costs at most 16 times the text's length, a
 * search at most that times the length: `(?i)^\s*PermitRootLogin` is such a pattern, `(a+)+`,
 * `\s*x\s*=`, `a?a?a?a?a?aaaaa` and `(a|a)(a|a)(a|a)(a|a)(a|a)` are not. Conservative: when unsure, it says no.
 */
export function backtracksLittle(source: string): boolean {
  let unbounded = 0;
  let optional = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    let atomEnd = i; // the last character of the atom starting at i
    if (c === "\\") {
      const next = source[i + 1] ?? "";
      if (/[1-9]/.test(next) || next === "k") return false; // a backreference
      atomEnd = i + 1;
      if (next === "u" || next === "x" || next === "p" || next === "P" || next === "c") return false; // multi-character escapes: unsure
    } else if (c === "[") {
      let j = i + 1;
      if (source[j] === "^") j++;
      if (source[j] === "]") j++;
      while (j < source.length && source[j] !== "]") j += source[j] === "\\" ? 2 : 1;
      atomEnd = j;
    } else if (c === ")") {
      if (/^[*+?{]/.test(source.slice(i + 1))) return false; // a repeated group
      continue;
    } else if (c === "|") {
      optional++; // a choice, like an optional repetition
      continue;
    } else if (c === "(" || c === "^" || c === "$") {
      continue;
    }
    const rest = source.slice(atomEnd + 1);
    const q = /^(?:[*+]|\{\d+,\}|\{\d+(?:,\d+)?\}|\?)/.exec(rest);
    if (q && (q[0] === "*" || q[0] === "+" || q[0].endsWith(",}"))) unbounded++;
    else if (q && !/^\{(\d+)\}$/.test(q[0])) optional++;
    i = atomEnd + (q ? q[0].length : 0);
    if (q && source[i + 1] === "?") i++; // lazy modifier
  }
  return unbounded <= 1 && optional <= 4;
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
  return runsInLinearTime(source, flags) || backtracksLittle(source) ? re : new TimeLimitedRegExp(source, flags);
}
