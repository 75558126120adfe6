/**
 * The benchmark's results: medians per scenario, ratios, goals, as a terminal table and as
 * Markdown (test/bench/RESULTS.md).
 */
import type { Tool } from "./tools.ts";

/** Median of a non-empty list (mean of the middle two for an even count). */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Every sample of one scenario (hosts x tasks x first/no-op). */
export interface Scenario {
  hosts: number;
  tasks: number;
  kind: "first" | "noop";
  wall: Partial<Record<Tool, number[]>>;
  ownMs: number[];
  floorMs: number[];
}

/** One row of the table (medians in seconds). */
export interface Row {
  label: string;
  ansibleDefault?: number;
  ansibleBest?: number;
  ours: number;
  oursOwn?: number;
  floor?: number;
  ratioBest?: number;
  ratioDefault?: number;
  ownOverFloor?: number;
}

/** Medians and ratios of a scenario. */
export function rowOf(s: Scenario): Row {
  const m = (v?: number[]) => (v && v.length ? median(v) / 1000 : undefined);
  const ours = m(s.wall.ours)!;
  const ansibleBest = m(s.wall["ansible-best"]);
  const ansibleDefault = m(s.wall["ansible-default"]);
  const oursOwn = m(s.ownMs);
  const floor = m(s.floorMs);
  return {
    label: `${s.kind === "first" ? "first run" : "no-op"} ${s.hosts}x${s.tasks}`,
    ansibleDefault,
    ansibleBest,
    ours,
    oursOwn,
    floor,
    ratioBest: ansibleBest !== undefined ? ansibleBest / ours : undefined,
    ratioDefault: ansibleDefault !== undefined ? ansibleDefault / ours : undefined,
    ownOverFloor: oursOwn !== undefined && floor ? oursOwn / floor : undefined,
  };
}

const sec = (v?: number) => (v === undefined ? "-" : v.toFixed(2));
const times = (v?: number) => (v === undefined ? "-" : `${v.toFixed(1)}x`);

const HEADERS = ["scenario (hosts x tasks)", "ansible default s", "ansible best s", "ours s", "ours own s", "floor s", "best/ours", "default/ours", "own/floor"];

function cells(r: Row): string[] {
  return [r.label, sec(r.ansibleDefault), sec(r.ansibleBest), sec(r.ours), sec(r.oursOwn), sec(r.floor), times(r.ratioBest), times(r.ratioDefault), r.ownOverFloor === undefined ? "-" : r.ownOverFloor.toFixed(2)];
}

/** A plain-text table for the terminal. */
export function textTable(rows: Row[]): string {
  const all = [HEADERS, ...rows.map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")).join("\n");
}

/** The same table in Markdown. */
export function markdownTable(rows: Row[]): string {
  const line = (c: string[]) => `| ${c.join(" | ")} |`;
  return [line(HEADERS), line(HEADERS.map((_, i) => (i === 0 ? "---" : "---:"))), ...rows.map((r) => line(cells(r)))].join("\n");
}

/** A goal of issue 4 and whether it was met. */
export interface Goal {
  name: string;
  measured: string;
  pass: boolean | undefined;
}

/** Evaluates the goals from the rows (undefined: not measured in this run). */
export function goals(rows: Row[]): Goal[] {
  const row = (label: string) => rows.find((r) => r.label === label);
  const ratioGoal = (label: string, min: number): Goal => {
    const r = row(label)?.ratioBest;
    return { name: `${label}: ours >= ${min}x faster than Ansible best`, measured: times(r), pass: r === undefined ? undefined : r >= min };
  };
  const list: Goal[] = [ratioGoal("no-op 8x60", 30), ratioGoal("no-op 8x20", 15), ratioGoal("first run 8x20", 10), ratioGoal("first run 8x60", 10)];
  for (const label of ["no-op 8x20", "no-op 8x60"]) {
    const r = row(label)?.ownOverFloor;
    list.push({ name: `${label}: runner's own time <= 2x floor`, measured: r === undefined ? "-" : `${r.toFixed(2)}x`, pass: r === undefined ? undefined : r <= 2 });
  }
  return list;
}

/** "PASS", "MISS" or "not measured". */
export function verdict(g: Goal): string {
  return g.pass === undefined ? "not measured" : g.pass ? "PASS" : "MISS";
}
