/** assert: every `that` condition must hold, else the task fails with fail_msg. */
import { done, failed } from "../outcome.ts";
import { show } from "./debug.ts";
import type { ControllerActionRunner } from "./types.ts";

export const assertAction: ControllerActionRunner = async (tr) => {
  const args = tr.task.args;
  const that = (Array.isArray(args.that) ? args.that : [args.that]) as Array<string | boolean>;
  for (const condition of that) {
    if (!tr.templar.isTrue([condition])) {
      const custom = args.fail_msg ?? args.msg;
      const msg = custom === undefined ? "Assertion failed" : show(tr.templar.render(custom));
      return failed(msg, { assertion: condition, evaluated_to: false });
    }
  }
  const msg = args.success_msg === undefined ? "All assertions passed" : show(tr.templar.render(args.success_msg));
  return done(false, args.quiet === true ? undefined : msg, { msg });
};
