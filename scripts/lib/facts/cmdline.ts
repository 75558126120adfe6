/**
 * Ansible's kernel command line facts, from /proc/cmdline: `cmdline` (each key once, the last
 * value wins) and `proc_cmdline` (a repeated key keeps every value, as a list). A bare word
 * (`quiet`) is true. Tokens split as Ansible's shlex.split(posix=False): on blanks outside
 * quotes, quotes kept.
 */
import { lines, type Fact } from "./types.ts";

export interface CmdlineFacts extends Record<string, unknown> {
  cmdline: Record<string, string | true>;
  proc_cmdline: Record<string, string | true | Array<string | true>>;
}

export const cmdlineFact: Fact<CmdlineFacts> = {
  name: "cmdline",
  command: "cat /proc/cmdline",
  parse(output) {
    const cmdline: CmdlineFacts["cmdline"] = {};
    const procCmdline: CmdlineFacts["proc_cmdline"] = {};
    for (const token of (lines(output)[0] ?? "").match(/(?:"[^"]*"?|'[^']*'?|\S)+/g) ?? []) {
      const eq = token.indexOf("=");
      const key = eq < 0 ? token : token.slice(0, eq);
      const value: string | true = eq < 0 ? true : token.slice(eq + 1);
      cmdline[key] = value;
      const seen = procCmdline[key];
      // Ansible keeps a bare word repeated as its last value; only key=value pairs collect.
      if (seen === undefined || value === true) procCmdline[key] = value;
      else procCmdline[key] = Array.isArray(seen) ? [...seen, value] : [seen, value];
    }
    return { cmdline, proc_cmdline: procCmdline };
  },
};
