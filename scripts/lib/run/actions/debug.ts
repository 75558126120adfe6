/** debug: prints a message or a variable's value (only at -v levels >= verbosity). */
import { Secret } from "../../shell/secret.ts";
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
      value = tr.templar.evaluate(name);
    } catch {
      value = "VARIABLE IS NOT DEFINED!";
    }
    return done(false, `${name}: ${show(value)}`, { [name]: value });
  }
  const msg = args.msg === undefined ? "Hello world!" : tr.templar.render(args.msg);
  return done(false, show(msg), { msg });
};

/** Strings as they are; anything else as JSON (Secrets stay ***). */
export function show(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Secret) return "***";
  if (value === undefined) return "";
  return JSON.stringify(value);
}
