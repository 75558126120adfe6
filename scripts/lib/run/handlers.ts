/**
 * Handlers: run at the end of the play (batch) and at meta: flush_handlers, once each, in the
 * order of the handlers section, only on hosts that were notified (and are not failed).
 * Hosts run each handler in parallel; handlers are walked in order, and a handler notified by
 * an earlier one still runs in the same flush.
 */
import type { Task } from "../playbook/types.ts";
import type { HostPlay, PlayState } from "./state.ts";
import { announce, runTask } from "./task.ts";
import { afterTask, hostDone, rootScope } from "./walk.ts";

/** Runs the pending handlers of these hosts. */
export async function flushHandlers(ps: PlayState, hosts: HostPlay[]): Promise<void> {
  for (let round = 0; round < 10; round++) {
    let ran = false;
    for (const handler of [...ps.handlers]) {
      const targets = hosts.filter((hp) => hp.notified.has(handler) && !hostDone(ps, hp));
      if (targets.length === 0) continue;
      ran = true;
      for (const hp of targets) hp.notified.delete(handler);
      announce(ps, handler, true, targets.map((hp) => hp.state.name));
      await Promise.all(targets.map((hp) => runHandler(ps, hp, handler)));
      // A handler may run again at a later flush: announce it afresh then.
      ps.announced.delete(handler);
    }
    if (!ran || !hosts.some((hp) => hp.notified.size > 0 && !hostDone(ps, hp))) return;
  }
}

async function runHandler(ps: PlayState, hp: HostPlay, handler: Task): Promise<void> {
  const scope = rootScope();
  scope.role = handler.role;
  const outcome = await runTask(ps, hp, handler, scope, true);
  await afterTask(ps, hp, handler, scope, outcome);
}
