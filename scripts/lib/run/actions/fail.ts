/** fail: fails the task with a message. */
import { failed } from "../outcome.ts";
import { show } from "./debug.ts";
import type { ControllerActionRunner } from "./types.ts";

export const fail: ControllerActionRunner = async (tr) => {
  const msg = tr.task.args.msg === undefined ? "Failed as requested from task" : show(tr.templar.render(tr.task.args.msg));
  return failed(msg);
};
