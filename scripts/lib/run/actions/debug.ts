/** debug: prints a message or a variable's value (only at -v levels >= verbosity). */
import { maskValue, secretStrings } from "../../shell/secret.ts";
import { secretUse } from "../../template/python.ts";
import { done, skipped } from "../outcome.ts";
import type { ControllerActionRunner } from "./types.ts";

export const debug: ControllerActionRunner = async (tr) => {
  const args = tr.task.args;
  const verbosity = Number(args.verbosity ?? 0);
  if (verbosity > tr.ps.run.options.verbosity) return skipped("verbosity threshold not met");
  if (typeof args.var === "string") {
    const name = args.var;
    let value: unknown;
    try {
      // `var: s.stdout` reads a Secret's text: the value shown is secret, as a template's would be.
      const before = secretUse.count;
      value = tr.templar.evaluate(name);
      if (secretUse.count !== before) value = secretStrings(value);
    } catch {
      value = "VARIABLE IS NOT DEFINED!";
    }
    return done(false, `${name}: ${show(value)}`, { [name]: value });
  }
  const msg = args.msg === undefined ? "Hello world!" : tr.templar.render(args.msg);
  return done(false, show(msg), { msg });
};

/** Strings as they are; anything else as JSON; secrets masked before serialising (Secrets show as ***). */
export function show(value: unknown): string {
  const shown = maskValue(value);
  if (typeof shown === "string") return shown;
  if (shown === undefined) return "";
  return JSON.stringify(shown);
}
