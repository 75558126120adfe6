/**
 * Ansible's host ranges in inventory names: `pi-[01:08]`, `node[a:c]`, `web[1:10:2]`.
 * Leading zeros keep the width, as Ansible's expand_hostname_range.
 */
import { UserError, type SourcePosition } from "../errors.ts";

const RANGE = /\[([0-9a-zA-Z]+):([0-9a-zA-Z]+)(?::(\d+))?\]/;

/** Expands every range in `name` (left to right); a name without ranges gives itself. */
export function expandHostRange(name: string, where?: SourcePosition): string[] {
  const m = RANGE.exec(name);
  if (!m) return [name];
  const [whole, start, end, strideText] = m;
  const head = name.slice(0, m.index);
  const tail = name.slice(m.index + whole.length);
  const stride = strideText ? Number(strideText) : 1;
  const bad = (why: string) =>
    new UserError(`Invalid host range "${whole}" in "${name}": ${why}`, { where, hint: "Write a range as [01:08] or [a:f], optionally with a stride [1:9:2]." });
  if (stride < 1) throw bad("the stride must be at least 1");
  const values: string[] = [];
  if (/^\d+$/.test(start) && /^\d+$/.test(end)) {
    const width = start.length > 1 && start.startsWith("0") ? start.length : 0;
    const from = Number(start);
    const to = Number(end);
    if (from > to) throw bad("the start is after the end");
    for (let i = from; i <= to; i += stride) values.push(width ? String(i).padStart(width, "0") : String(i));
  } else if (/^[a-zA-Z]$/.test(start) && /^[a-zA-Z]$/.test(end)) {
    const from = start.charCodeAt(0);
    const to = end.charCodeAt(0);
    if (from > to) throw bad("the start is after the end");
    for (let c = from; c <= to; c += stride) values.push(String.fromCharCode(c));
  } else {
    throw bad("both ends must be numbers or both single letters");
  }
  const tails = expandHostRange(tail, where);
  return values.flatMap((v) => tails.map((t) => head + v + t));
}
