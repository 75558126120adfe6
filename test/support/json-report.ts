/**
 * The --json report a run writes (Ansible's json callback shape, scripts/lib/report/json.ts),
 * typed with the keys the suites assert on, and read back after a run.
 */
import { existsSync, readFileSync } from "node:fs";

/** One host's result of one task (a loop's items under `results`). */
export interface HostResult {
  changed?: boolean;
  failed?: boolean;
  skipped?: boolean;
  unreachable?: boolean;
  msg?: unknown;
  results?: HostResult[];
}

export interface JsonReport {
  plays: Array<{ play: { name: string }; tasks: Array<{ task: { name: string }; hosts: Record<string, HostResult> }> }>;
  stats: Record<string, { ok: number; changed: number; failures: number; unreachable: number; skipped: number }>;
}

/** The report a run wrote to `file`; undefined when it wrote none (it ended before). */
export function readJsonReport(file: string): JsonReport | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as JsonReport) : undefined;
}
