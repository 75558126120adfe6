/**
 * The executor: runs a loaded playbook over the inventory and reports through events.
 *
 * Strategy: FREE-RUNNING per host (Ansible's `free`, not its default `linear`). Each host of a
 * batch walks the play's tasks on its own, in order, up to --forks hosts at a time, so a fast
 * host never waits for a slow one and a no-op task costs one round trip on each host, nothing
 * more. Where Ansible's semantics need hosts to meet, we meet:
 * - run_once: the first host to reach the task runs it; the others wait for that result and
 *   take it as theirs (register, set_fact, notify).
 * - any_errors_fatal / max_fail_percentage / meta end_play: a shared stop flag; every host
 *   stops before its next task (tasks in flight finish), later batches are skipped; after
 *   any_errors_fatal, max_fail_percentage or a batch where every host failed, later plays too.
 * - serial: a batch ends when all its hosts end; then handlers; then the next batch.
 * - handlers: at the end of each batch, in handler order, each handler on all notified hosts
 *   in parallel. `meta: flush_handlers` flushes the reaching host's own handlers (per host, as
 *   the free strategy does).
 * Events: task-start is sent by the first host reaching a task; host results interleave.
 *
 * Variables: see vars.ts (a flat per-play/role base cached per host; per-task copies are
 * shallow). Templates compile once (the template engine caches compiled text).
 */
import { selectHosts } from "../inventory/inventory.ts";
import { UserError } from "../errors.ts";
import type { Play, Playbook } from "../playbook/types.ts";
import { Templar } from "../template/templar.ts";
import { dirname, resolve } from "node:path";
import { ConnectionPool, defaultTransportFactory } from "./connections.ts";
import type { RunOptions, RunSummary } from "./options.ts";
import type { HostPlay, HostState, PlayState, RunState } from "./state.ts";
import { emptyStats } from "./stats.ts";
import { runTask } from "./task.ts";
import { hostPlayFor } from "./task-item.ts";
import { afterTask, flushHandlers, rootScope, runItems } from "./walk.ts";
import { magicVars, makeHostvars } from "./vars.ts";
import type { Task } from "../playbook/types.ts";
import { batchesOf } from "./serial.ts";
import { overlayInventory } from "./inventory-overlay.ts";

/**
 * Runs every play of `playbook` and returns the per-host stats and the outcome flags.
 * Never throws for a host's failure (those are results); throws only for a mistake in the
 * play itself that no host could run (e.g. a bad host pattern).
 */
export async function runPlaybook(playbook: Playbook, options: RunOptions): Promise<RunSummary> {
  const inventory = overlayInventory(options.inventory);
  const run: RunState = {
    options,
    inventory,
    ensureHost: (name) => {
      let state = run.hosts.get(name);
      if (!state) run.hosts.set(name, (state = newHostState(run, name)));
      return state;
    },
    playbookDir: resolve(dirname(playbook.file)),
    hosts: new Map(),
    stats: {},
    pool: new ConnectionPool(options.createTransport ?? defaultTransportFactory, options.connection),
    interrupted: false,
    stepDone: false,
    stepAnswers: new WeakMap(),
  };
  try {
    for (const play of playbook.plays) {
      if (options.signal?.aborted) run.interrupted = true;
      if (run.interrupted) break;
      // any_errors_fatal, max_fail_percentage or a whole batch failing ends the playbook.
      if (!(await runPlay(run, play))) break;
    }
  } finally {
    await run.pool.closeAll();
  }
  if (options.signal?.aborted) run.interrupted = true;
  if (options.startAtTask && run.hosts.size > 0 && ![...run.hosts.values()].some((h) => h.started)) {
    // ansible-playbook says so too (and still exits 0): nothing ran, most likely a typo.
    options.sink({ type: "warning", message: `No matching task "${options.startAtTask}" found: nothing ran. Note: --start-at-task can only follow static includes.` });
  }
  options.sink({ type: "recap", stats: run.stats });
  const all = Object.values(run.stats);
  return {
    stats: run.stats,
    failed: all.some((s) => s.failures > 0),
    unreachable: all.some((s) => s.unreachable > 0),
    interrupted: run.interrupted,
  };
}

function newHostState(run: RunState, name: string): HostState {
  let inventoryVars: Record<string, unknown> | undefined;
  return {
    name,
    // Read from the inventory only when the host is first used.
    get inventoryVars() {
      inventoryVars ??= run.inventory.hostVars(name);
      return inventoryVars;
    },
    hostVars: {},
    version: 0,
    out: false,
    started: !run.options.startAtTask,
    bases: new Map(),
  };
}

/** The hosts of a play: `hosts:` (templated with extra vars) and --limit, without hosts already out. */
function playHosts(run: RunState, play: Play): string[] {
  const inv = run.inventory;
  const pattern = hostsPattern(run, play);
  let hosts: string[];
  try {
    hosts = selectHosts(inv, pattern, { baseDir: play.baseDir });
  } catch (e) {
    // A bad pattern (e.g. an invalid ~regex) is shown at the play's `hosts:`.
    if (e instanceof UserError && !e.where) throw new UserError(e.message, { where: play.where, hint: e.hint, exitCode: e.exitCode });
    throw e;
  }
  if (run.options.limit) {
    const allowed = new Set(selectHosts(inv, run.options.limit, { baseDir: process.cwd() }));
    hosts = hosts.filter((h) => allowed.has(h));
  }
  for (const h of hosts) run.ensureHost(h);
  return hosts.filter((h) => !run.hosts.get(h)!.out);
}

const GATHER_FACTS: Omit<Task, "where" | "baseDir"> = { kind: "task", module: "gather_facts", action: "gather_facts", name: "Gathering Facts", args: {}, tags: ["always"], implicit: true };

/** `hosts:` rendered with the extra vars (`hosts: "{{ target }}"` with `-e target=pis`). */
function hostsPattern(run: RunState, play: Play): string {
  return /\{\{|\{%/.test(play.hosts) ? String(new Templar({ ...run.options.extraVars }, { where: `play '${play.name}' hosts` }).render(play.hosts)) : play.hosts;
}

/**
 * `serial:` with its templates rendered, as Ansible does before any host is chosen: from the
 * play's vars and the extra vars (no host's variables exist yet).
 */
function playSerial(run: RunState, play: Play): Array<number | string> | undefined {
  if (!play.serial?.some((s) => typeof s === "string" && /\{\{|\{%/.test(s))) return play.serial;
  const templar = new Templar({ ...play.vars, ...play.varsFiles, ...run.options.extraVars }, { where: `play '${play.name}' serial` });
  return play.serial.flatMap((s) => {
    const value = typeof s === "string" ? templar.render(s) : s;
    const values = Array.isArray(value) ? value : [value];
    return values.map((v) => {
      if (typeof v === "number" || /^\s*\d+\s*$/.test(String(v))) return Number(v);
      if (/^\s*\d+(\.\d+)?\s*%\s*$/.test(String(v))) return String(v);
      throw new UserError(`"serial" must be a number, a percentage or a list of those, got ${JSON.stringify(v)} from ${JSON.stringify(s)}`, {
        where: play.where,
        hint: "Give the variable a number (-e name=2) or a percentage (-e name=30%).",
      });
    });
  });
}

/** Runs one play; false when the playbook must stop here (as ansible-playbook's break_play). */
async function runPlay(run: RunState, play: Play): Promise<boolean> {
  const options = run.options;
  const hosts = playHosts(run, play);
  // A play named after its templated hosts: the banner shows the rendered pattern, as Ansible's.
  const shown = play.name === play.hosts && play.hosts !== hostsPattern(run, play) ? { ...play, name: hostsPattern(run, play) } : play;
  options.sink({ type: "play-start", play: shown, hosts });
  for (const h of hosts) run.stats[h] ??= emptyStats();
  const gather: Task | undefined = play.gatherFacts ? { ...GATHER_FACTS, where: play.where, baseDir: play.baseDir } : undefined;
  let goOn = true;
  for (const batch of batchesOf(hosts, playSerial(run, play))) {
    if (options.signal?.aborted) run.interrupted = true;
    if (run.interrupted) break;
    const ps: PlayState = {
      run,
      play,
      batch,
      playHosts: hosts,
      hosts: new Map(),
      handlers: [...play.handlers],
      announced: new WeakSet(),
      once: new WeakMap(),
      stopped: false,
      abortPlay: false,
      hostvars: {},
    };
    ps.hostvars = makeHostvars(ps, (h) => hostPlayFor(ps, h));
    for (const h of batch) {
      const hp: HostPlay = { state: run.hosts.get(h)!, notified: new Set(), failed: false, unreachable: false, ended: false, magic: {}, varsCache: new WeakMap() };
      hp.magic = magicVars(ps, h);
      ps.hosts.set(h, hp);
    }
    const batchHosts = batch.map((h) => ps.hosts.get(h)!);
    await inParallel(batchHosts, options.forks || 50, async (hp) => {
      try {
        if (gather) {
          const scope = rootScope();
          const outcome = await runTask(ps, hp, gather, scope);
          await afterTask(ps, hp, gather, scope, outcome);
        }
        await runItems(ps, hp, play.items, rootScope());
      } catch (e) {
        // A bug of ours must not take the other hosts down: this host fails, loudly.
        hp.failed = true;
        run.stats[hp.state.name].failures++;
        options.sink({ type: "warning", host: hp.state.name, message: `Internal error on host ${hp.state.name}: ${(e as Error)?.stack ?? String(e)}` });
      }
    });
    // End of the batch: pending handlers (not on failed or unreachable hosts).
    // Not after end_play, any_errors_fatal or max_fail_percentage (Ansible runs none then either);
    // hosts that ended (meta: end_host) run none.
    if (!run.interrupted && !options.signal?.aborted && !ps.abortPlay) {
      ps.stopped = false;
      await flushHandlers(ps, batchHosts.filter((hp) => !hp.failed && !hp.unreachable && !hp.ended));
    }
    for (const hp of batchHosts) if (hp.failed || hp.unreachable) hp.state.out = true;
    // A batch where every host failed ends the play (as Ansible's serial does).
    const allDown = batchHosts.every((hp) => hp.failed || hp.unreachable);
    if (options.signal?.aborted) run.interrupted = true;
    if (ps.endPlaybook || (allDown && batchHosts.length > 0)) goOn = false;
    if (ps.abortPlay || (allDown && batchHosts.length > 0) || run.interrupted) break;
  }
  options.sink({ type: "play-end", play });
  return goOn;
}

/** Runs `work` for each item, at most `limit` at a time. */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit || 1, items.length)) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await work(item);
    }
  });
  await Promise.all(workers);
}
