/** meta: flush_handlers, end_host, end_play, ... The walker acts on the returned `meta`. */
import { done } from "../outcome.ts";
import type { ControllerActionRunner } from "./types.ts";

export const meta: ControllerActionRunner = async (tr) => {
  const what = String(tr.templar.render(tr.task.args._raw_params ?? "noop"));
  const out = done(false, what === "noop" ? undefined : what, {});
  out.meta = what;
  return out;
};
