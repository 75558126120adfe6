/**
 * Keeps a file's own formatting through an edit made on its parsed YAML Document. The yaml
 * library re-renders a whole document (it normalises spacing before comments and inside
 * `[a, b]`), so writing its output would touch lines nobody meant to change. Instead:
 * render the untouched document (`before`) and the edited one (`after`), diff the two, and
 * apply only that difference to the original text; every line the edit did not touch keeps
 * its original bytes.
 */
import { diffLines } from "../report/diff.ts";

function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Original lines paired with the rendered lines they stand for (one chunk per pairing). */
interface Chunk {
  original: string[];
  rendered: number[];
}

/** Pairs the original's lines with the untouched rendering's lines (equal runs line by line, cosmetic differences as blocks). */
function align(original: string[], before: string[]): Chunk[] {
  const chunks: Chunk[] = [];
  let pendingOriginal: string[] = [];
  let pendingRendered: number[] = [];
  const flush = () => {
    if (pendingOriginal.length === pendingRendered.length) {
      pendingOriginal.forEach((line, i) => chunks.push({ original: [line], rendered: [pendingRendered[i]] }));
    } else if (pendingOriginal.length > 0 || pendingRendered.length > 0) {
      chunks.push({ original: pendingOriginal, rendered: pendingRendered });
    }
    pendingOriginal = [];
    pendingRendered = [];
  };
  let r = 0;
  for (const op of diffLines(original, before)) {
    if (op.kind === "=") {
      flush();
      chunks.push({ original: [op.line], rendered: [r++] });
    } else if (op.kind === "-") pendingOriginal.push(op.line);
    else pendingRendered.push(r++);
  }
  flush();
  return chunks;
}

/**
 * The original text with the change from `before` to `after` (two renderings of the same
 * document, before and after an edit) applied.
 *
 * @example applyRenderedChange("a: [1]   # x\nb: 2\n", "a: [ 1 ] # x\nb: 2\n", "a: [ 1 ] # x\nb: 3\n") // "a: [1]   # x\nb: 3\n"
 */
export function applyRenderedChange(original: string, before: string, after: string): string {
  if (before === after) return original;
  // A file with Windows line ends keeps them (the renderings use \n).
  if (original.includes("\r\n")) return applyRenderedChange(original.replace(/\r\n/g, "\n"), before, after).replace(/\n/g, "\r\n");
  if (original === before) return after;
  const source = splitLines(original);
  const r0 = splitLines(before);
  const r1 = splitLines(after);
  const kept: boolean[] = new Array(r0.length).fill(false);
  const insertedBefore: string[][] = Array.from({ length: r0.length + 1 }, () => []);
  // A run of n deleted lines met by n inserted ones is n lines changed in place.
  const replaced = new Map<number, string>();
  let r = 0;
  let deleted: number[] = [];
  let inserted: string[] = [];
  const endRun = () => {
    if (deleted.length > 0 && deleted.length === inserted.length) deleted.forEach((i, k) => replaced.set(i, inserted[k]));
    else insertedBefore[deleted[0] ?? r].push(...inserted);
    deleted = [];
    inserted = [];
  };
  for (const op of diffLines(r0, r1)) {
    if (op.kind === "=") {
      endRun();
      kept[r++] = true;
    } else if (op.kind === "-") deleted.push(r++);
    else inserted.push(op.line);
  }
  endRun();
  const chunks = align(source, r0);
  // A line deleted in one place and inserted in another (a host moved with its variables) is
  // written as the original wrote it, when it moved as is.
  const movedOriginal = new Map<string, string[]>();
  for (const chunk of chunks) {
    const [i] = chunk.rendered;
    if (chunk.rendered.length === 1 && chunk.original.length === 1 && !kept[i] && !replaced.has(i)) {
      const list = movedOriginal.get(r0[i]) ?? [];
      list.push(chunk.original[0]);
      movedOriginal.set(r0[i], list);
    }
  }
  const asWritten = (lines: string[]) => lines.map((line) => movedOriginal.get(line)?.shift() ?? line);
  for (const list of insertedBefore) list.splice(0, list.length, ...asWritten(list));
  const out: string[] = [];
  for (const chunk of chunks) {
    if (chunk.rendered.length === 0) {
      out.push(...chunk.original);
      continue;
    }
    const [first, ...rest] = chunk.rendered;
    out.push(...insertedBefore[first]);
    const untouched = chunk.rendered.every((i) => kept[i]) && rest.every((i) => insertedBefore[i].length === 0);
    if (untouched) out.push(...chunk.original);
    else {
      for (const i of chunk.rendered) {
        if (i !== first) out.push(...insertedBefore[i]);
        const changed = replaced.get(i);
        if (changed !== undefined) out.push(chunk.original.length === 1 && chunk.rendered.length === 1 ? restyle(chunk.original[0], r0[i], changed) : changed);
        else if (kept[i]) out.push(r0[i]);
      }
    }
  }
  out.push(...insertedBefore[r0.length]);
  const endsWithNewline = original === "" ? after.endsWith("\n") : original.endsWith("\n");
  return out.length === 0 ? "" : out.join("\n") + (endsWithNewline ? "\n" : "");
}

/**
 * A line changed in place keeps the original's spacing before its comment (the yaml library
 * writes one space): `serial: 6b7e4a23        # last 8 hex` stays aligned after the value changes.
 */
function restyle(original: string, rendered: string, changed: string): string {
  const gap = /^(.*?\S)(\s+)(#.*)$/;
  const o = gap.exec(original);
  const r = gap.exec(rendered);
  const c = gap.exec(changed);
  if (!o || !r || !c || o[1] !== r[1] || o[3] !== r[3] || r[3] !== c[3]) return changed;
  const column = o[1].length + o[2].length;
  return `${c[1]}${" ".repeat(Math.max(1, column - c[1].length))}${c[3]}`;
}
