/** serial: batches of a play's hosts (numbers, "30%", a list of growing sizes; the last repeats). */
import { UserError } from "../errors.ts";

/** Splits hosts into batches as `serial:` says (no serial: one batch of all). */
export function batchesOf(hosts: string[], serial: Array<number | string> | undefined): string[][] {
  if (!serial || serial.length === 0 || hosts.length === 0) return [hosts];
  const sizes = serial.map((s) => batchSize(s, hosts.length));
  const out: string[][] = [];
  let i = 0;
  let k = 0;
  while (i < hosts.length) {
    const size = sizes[Math.min(k, sizes.length - 1)];
    out.push(hosts.slice(i, i + size));
    i += size;
    k++;
  }
  return out;
}

function batchSize(s: number | string, total: number): number {
  if (typeof s === "number") return s <= 0 ? total : Math.floor(s);
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(s);
  if (!m) throw new UserError(`serial: "${s}" is not a number or a percentage`, { hint: "Write serial: 2, serial: \"30%\" or a list of those." });
  const n = Number(m[1]);
  const size = m[2] ? Math.floor((total * n) / 100) : Math.floor(n);
  return Math.max(1, size <= 0 ? 1 : size);
}
