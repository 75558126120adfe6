/** wait_for_connection: after `delay`, reconnect until a command answers or `timeout` passes. */
import { done, failed } from "../outcome.ts";
import { sleep } from "../sleep.ts";
import type { ControllerActionRunner } from "./types.ts";

export const waitForConnection: ControllerActionRunner = async (tr) => {
  const args = tr.templar.render(tr.task.args) as Record<string, unknown>;
  const delay = Number(args.delay ?? 0) * 1000;
  const timeout = Number(args.timeout ?? 600) * 1000;
  const pauseMs = Number(args.sleep ?? 1) * 1000;
  const signal = tr.ps.run.options.signal;
  await sleep(delay, signal);
  const start = Date.now();
  let last = "";
  while (Date.now() - start < timeout && !signal?.aborted) {
    try {
      const t = await tr.transport();
      await t.reconnect({ timeoutMs: Math.max(1000, timeout - (Date.now() - start)) });
      const r = await t.exec("true", { timeoutMs: 10_000 });
      if (r.rc === 0) return done(false, `Connected after ${Math.round((Date.now() - start) / 1000)} s`, { elapsed: Math.round((Date.now() - start) / 1000) });
      last = r.stderr.trim();
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(pauseMs, signal);
  }
  return failed(`timed out waiting for connection after ${Math.round(timeout / 1000)} s${last ? `: ${last}` : ""}`, { elapsed: Math.round((Date.now() - start) / 1000) });
};
