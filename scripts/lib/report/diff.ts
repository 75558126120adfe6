/**
 * Unified diffs for --diff (Ansible's layout: `--- before: path` / `+++ after: path`, hunks
 * with 3 lines of context), computed with a small Myers shortest-edit-script so nothing
 * outside this file is needed. Secrets are masked before anything is shown.
 */
import type { FileDiff } from "../modules/types.ts";
import { maskSecrets } from "../shell/secret.ts";
import { paint } from "./colors.ts";

type Op = { kind: "=" | "-" | "+"; line: string };

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Myers' O(ND) diff: the edit script turning a into b, as equal/delete/insert lines. */
export function diffLines(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Array<number>(2 * max + 3).fill(0);
  const trace: number[][] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  trace.push(v.slice());
  // Walk back through the saved frontiers to recover the path.
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 2; d >= 0; d--) {
    const vd = trace[d];
    const k = x - y;
    const prevK = k === -d || (k !== d && vd[offset + k - 1] < vd[offset + k + 1]) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : vd[offset + prevK];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY && x > 0 && y > 0 && a[x - 1] === b[y - 1]) {
      ops.push({ kind: "=", line: a[x - 1] });
      x--;
      y--;
    }
    if (d === 0) break;
    if (x === prevX) ops.push({ kind: "+", line: b[prevY] });
    else ops.push({ kind: "-", line: a[prevX] });
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    ops.push({ kind: "=", line: a[x - 1] });
    x--;
    y--;
  }
  return ops.reverse();
}

/**
 * A unified diff of two texts, or "" when they are equal.
 *
 * @example unifiedDiff("a\nb\n", "a\nc\n", { beforeHeader: "f", afterHeader: "f" })
 */
export function unifiedDiff(before: string, after: string, options: { beforeHeader?: string; afterHeader?: string; context?: number } = {}): string {
  if (before === after) return "";
  const context = options.context ?? 3;
  const a = splitLines(before);
  const b = splitLines(after);
  const ops = diffLines(a, b);
  const out = [`--- before${options.beforeHeader ? `: ${options.beforeHeader}` : ""}`, `+++ after${options.afterHeader ? `: ${options.afterHeader}` : ""}`];
  // Group changes into hunks with `context` equal lines around them.
  let i = 0;
  const aLine: number[] = [];
  const bLine: number[] = [];
  let ai = 0;
  let bi = 0;
  for (const op of ops) {
    aLine.push(ai);
    bLine.push(bi);
    if (op.kind !== "+") ai++;
    if (op.kind !== "-") bi++;
  }
  while (i < ops.length) {
    while (i < ops.length && ops[i].kind === "=") i++;
    if (i >= ops.length) break;
    let start = Math.max(0, i - context);
    let end = i;
    // Extend the hunk while the next change is within 2*context equal lines.
    for (;;) {
      while (end < ops.length && ops[end].kind !== "=") end++;
      let j = end;
      while (j < ops.length && ops[j].kind === "=") j++;
      if (j < ops.length && j - end <= 2 * context) end = j;
      else {
        end = Math.min(ops.length, end + context);
        break;
      }
    }
    const hunk = ops.slice(start, end);
    const aCount = hunk.filter((o) => o.kind !== "+").length;
    const bCount = hunk.filter((o) => o.kind !== "-").length;
    const aStart = aCount === 0 ? aLine[start] : aLine[start] + 1;
    const bStart = bCount === 0 ? bLine[start] : bLine[start] + 1;
    const range = (s: number, c: number) => (c === 1 ? `${s}` : `${s},${c}`);
    out.push(`@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@`);
    for (const o of hunk) out.push(`${o.kind === "=" ? " " : o.kind}${o.line}`);
    i = end;
    start = end;
  }
  const noNewline = (t: string) => t !== "" && !t.endsWith("\n");
  if (noNewline(before) !== noNewline(after)) out.push("\\ No newline at end of file");
  return out.join("\n") + "\n";
}

/** The diffs of a task result as text for the terminal (masked, coloured when asked). */
export function formatDiffs(diffs: FileDiff[], color = false): string {
  return diffs
    .map((d) => {
      const header = (h: string | undefined) => (h === undefined ? undefined : maskSecrets(h));
      const text = unifiedDiff(maskSecrets(d.before), maskSecrets(d.after), { beforeHeader: header(d.before_header), afterHeader: header(d.after_header) });
      if (!color) return text;
      return text
        .split("\n")
        .map((l) => (l.startsWith("+") && !l.startsWith("+++") ? paint(l, "green", true) : l.startsWith("-") && !l.startsWith("---") ? paint(l, "red", true) : l.startsWith("@@") ? paint(l, "cyan", true) : l))
        .join("\n");
    })
    .filter((t) => t !== "")
    .join("\n");
}
