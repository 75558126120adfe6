/**
 * Re-running only the hosts that did not complete. After a run where a host failed or was
 * unreachable, the runner prints the flag that selects just those hosts, `--limit a,b`, and
 * the whole command with it. Ansible's retry files work too: with `retry_files_enabled` (off
 * by default in Ansible since 2.8, as here) `<playbook>.retry` is written beside the playbook
 * (or in `retry_files_save_path`) and the flag printed is `--limit @<file>`, which the
 * runner reads as ansible-playbook does.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { basename, extname, join, relative, isAbsolute } from "node:path";
import type { HostStats } from "../run/events.ts";
import { quote } from "../shell/quote.ts";
import { FLAGS } from "./args.ts";

/** The hosts to run again: failed or unreachable, sorted as Ansible's retry file. */
export function hostsToRetry(stats: Record<string, HostStats>): string[] {
  return Object.keys(stats)
    .filter((h) => stats[h].failures > 0 || stats[h].unreachable > 0)
    .sort();
}

/** argv without its --limit/-l flags and their values (other flags, clusters included, stay as typed). */
export function withoutLimit(argv: string[]): string[] {
  const byShort = new Map(FLAGS.filter((f) => f.short).map((f) => [f.short!, f]));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    }
    if (arg === "--limit") {
      i++;
      continue;
    }
    if (arg.startsWith("--limit=")) continue;
    if (arg.startsWith("--") || !arg.startsWith("-") || arg.length === 1) {
      out.push(arg);
      // A long flag's separate value is copied as it comes (it may start with "-l").
      const spec = FLAGS.find((f) => f.long === arg.slice(2));
      if (spec?.value && i + 1 < argv.length) out.push(argv[++i]);
      continue;
    }
    // A short cluster: drop `l` and its value, keep the rest.
    let kept = "-";
    for (let j = 1; j < arg.length; j++) {
      const spec = byShort.get(arg[j]);
      if (!spec?.value) {
        kept += arg[j];
        continue;
      }
      const rest = arg.slice(j + 1);
      if (spec.short === "l") {
        if (rest === "") i++;
      } else {
        kept += arg.slice(j);
        if (rest === "" && i + 1 < argv.length) {
          out.push(kept, argv[++i]);
          kept = "-";
        }
      }
      break;
    }
    if (kept !== "-") out.push(kept);
  }
  return out;
}

/** Writes Ansible's retry file (one host per line) whole or not at all; returns its path. */
export function writeRetryFile(playbookFile: string, hosts: string[], saveDir?: string): string {
  const dir = saveDir ?? join(playbookFile, "..");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${basename(playbookFile, extname(playbookFile))}.retry`);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, hosts.map((h) => `${h}\n`).join(""));
  renameSync(temp, file);
  return file;
}

/**
 * What to print: the flag, then the whole command (`npx zx run` with the arguments as typed,
 * each quoted for the shell, the old --limit replaced).
 */
export function retryAdvice(argv: string[], hosts: string[], options: { retryFile?: string; cwd: string }): string {
  const shown = options.retryFile && !isAbsolute(relative(options.cwd, options.retryFile)) && !relative(options.cwd, options.retryFile).startsWith("..") ? relative(options.cwd, options.retryFile) : options.retryFile;
  const limit = shown ? `@${shown}` : hosts.join(",");
  const command = ["npx", "zx", "run", ...withoutLimit(argv), "--limit", limit].map((w) => quote(w)).join(" ");
  const which = `${hosts.length} host${hosts.length === 1 ? "" : "s"} that did not complete (${hosts.join(", ")})`;
  return `\nTo run again on only the ${which}, add --limit ${quote(limit)}:\n    ${command}\n`;
}
