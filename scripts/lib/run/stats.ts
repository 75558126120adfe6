/**
 * PLAY RECAP counters, counted as Ansible's strategy does: a changed task is also ok; an
 * ignored failure is ok + ignored; a failure a rescue section handles is rescued, not a failure.
 */
import type { HostStats, TaskResult } from "./events.ts";

/** Zeroed counters for one host. */
export function emptyStats(): HostStats {
  return { ok: 0, changed: 0, failures: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 };
}

/** Adds one task result (a whole loop counts once) to a host's counters. */
export function countResult(stats: HostStats, result: TaskResult): void {
  switch (result.status) {
    case "ok":
      stats.ok++;
      break;
    case "changed":
      stats.ok++;
      stats.changed++;
      break;
    case "skipped":
      stats.skipped++;
      break;
    case "unreachable":
      stats.unreachable++;
      break;
    case "failed":
      if (result.ignored) {
        stats.ok++;
        stats.ignored++;
        if (result.data?.changed === true) stats.changed++;
      } else if (result.rescued) stats.rescued++;
      else stats.failures++;
      break;
  }
}
