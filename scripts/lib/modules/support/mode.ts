/**
 * File modes as Ansible accepts them: octal strings ("0644", "644"), numbers (YAML 1.1 reads
 * an unquoted `0644` as 420, which is the right value; an unquoted `644` stays decimal 644,
 * exactly as Ansible takes it), and symbolic modes ("u=rw,g=r,o=r", "u+x", "a+rX").
 */
import { UserError } from "../../errors.ts";

/**
 * Normalises a mode to 4 octal digits ("0644").
 * @param current the file's current mode (4 digits), for symbolic changes like "u+x".
 * @param isDirectory makes the symbolic `X` add execute (as chmod does for directories).
 * @example parseMode("u=rw,g=r,o=r") // "0644"; parseMode(420) // "0644"; parseMode("u+x", "0644") // "0744"
 */
export function parseMode(mode: string | number, current?: string, isDirectory = false): string {
  if (typeof mode === "number") {
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw badMode(mode);
    return format(mode);
  }
  const text = mode.trim();
  if (/^0?[0-7]{1,4}$/.test(text) || /^0o[0-7]{1,4}$/i.test(text)) {
    return format(parseInt(text.replace(/^0o/i, ""), 8));
  }
  return format(applySymbolic(text, current ? parseInt(current, 8) : 0, isDirectory));
}

function format(value: number): string {
  return value.toString(8).padStart(4, "0");
}

function badMode(mode: unknown): UserError {
  return new UserError(`Invalid mode ${JSON.stringify(mode)}`, {
    hint: 'use a quoted octal string such as "0644" or a symbolic mode such as "u=rw,g=r,o=r"',
  });
}

const WHO_BITS: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o1007 };

/** chmod(1)'s symbolic grammar: [ugoa]*[-+=][rwxXstugo]* clauses separated by commas. */
function applySymbolic(text: string, start: number, isDirectory: boolean): number {
  let mode = start;
  for (const clause of text.split(",")) {
    const m = /^([ugoa]*)((?:[-+=][rwxXstugo]*)+)$/.exec(clause);
    if (!m) throw badMode(text);
    let who = m[1].replaceAll("a", "ugo");
    // No "who" means all (umask is not applied: Ansible behaves the same for modules).
    if (who === "") who = "ugo";
    for (const op of m[2].matchAll(/([-+=])([rwxXstugo]*)/g)) {
      const perms = permBits(op[2], who, mode, isDirectory);
      let mask = 0;
      for (const w of new Set(who)) mask |= WHO_BITS[w];
      if (op[1] === "+") mode |= perms & mask;
      else if (op[1] === "-") mode &= ~(perms & mask);
      else mode = (mode & ~mask) | (perms & mask);
    }
  }
  return mode;
}

function permBits(perms: string, who: string, mode: number, isDirectory: boolean): number {
  let bits = 0;
  const anyExecute = (mode & 0o111) !== 0;
  for (const p of perms) {
    if (p === "r") bits |= 0o444;
    else if (p === "w") bits |= 0o222;
    else if (p === "x") bits |= 0o111;
    else if (p === "X") bits |= isDirectory || anyExecute ? 0o111 : 0;
    else if (p === "s") bits |= (who.includes("u") ? 0o4000 : 0) | (who.includes("g") ? 0o2000 : 0);
    else if (p === "t") bits |= 0o1000;
    else {
      // Copy another class's bits ("g=u"): spread them over every class.
      const shift = p === "u" ? 6 : p === "g" ? 3 : 0;
      const copied = (mode >> shift) & 7;
      bits |= (copied << 6) | (copied << 3) | copied;
    }
  }
  return bits;
}
