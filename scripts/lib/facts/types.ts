/**
 * A fact, as pyinfra's: a shell fragment run on the target plus a PURE parser of what it
 * printed. gather.ts runs every fragment in ONE remote command and hands each parser its own
 * section, so parsers are tested on captured output alone (test/unit/facts/<fact>/*.json).
 */
export interface Fact<T extends Record<string, unknown> = Record<string, unknown>> {
  /** Section name in the gathered output (also the test folder name). */
  name: string;
  /** POSIX sh fragment; runs with stderr discarded; must never change anything. */
  command: string;
  /** Pure: the section's text -> facts under Ansible's names. */
  parse(output: string): T;
}

/** Lines of a section, without the trailing empty line. */
export function lines(output: string): string[] {
  const all = output.split("\n");
  if (all.length > 0 && all[all.length - 1] === "") all.pop();
  return all;
}

/** `Key : value` or `Key=value` pairs (cpuinfo, meminfo, os-release) into a map. */
export function keyValues(output: string, separator: RegExp): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines(output)) {
    const m = separator.exec(line);
    if (!m || m.index === 0) continue;
    const key = line.slice(0, m.index).trim();
    if (!out.has(key)) out.set(key, line.slice(m.index + m[0].length).trim());
  }
  return out;
}
