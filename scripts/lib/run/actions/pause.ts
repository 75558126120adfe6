/** pause: waits seconds/minutes (interrupted by Ctrl-C). Prompts are not supported. */
import { done, failed } from "../outcome.ts";
import { sleep } from "../sleep.ts";
import type { ControllerActionRunner } from "./types.ts";

export const pause: ControllerActionRunner = async (tr) => {
  const args = tr.templar.render(tr.task.args) as Record<string, unknown>;
  if (args.prompt !== undefined && args.seconds === undefined && args.minutes === undefined) {
    return failed("pause with a prompt is not supported (this runner never reads the terminal during a run); give seconds or minutes");
  }
  const ms = args.minutes !== undefined ? Number(args.minutes) * 60_000 : Number(args.seconds ?? 0) * 1000;
  if (!Number.isFinite(ms) || ms < 0) return failed(`pause: not a duration: ${JSON.stringify(args.seconds ?? args.minutes)}`);
  const start = Date.now();
  await sleep(ms, tr.ps.run.options.signal);
  return done(false, `Paused for ${Math.round((Date.now() - start) / 100) / 10} s`, { start, stop: Date.now(), delta: Date.now() - start });
};
