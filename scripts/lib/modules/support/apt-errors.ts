/**
 * apt-get's failures, read for the one cause a user can act on without reading apt's output:
 * the package source (mirror, proxy, network) could not be reached. apt says so in several
 * ways, and `apt-get update` even exits 0 with only `W: Failed to fetch` lines, so that is
 * a failure too (as Ansible's apt module, which fails on a fetch error of update).
 */
import type { ExecResult } from "../../transport/types.ts";
import { maskSecrets } from "../../shell/secret.ts";
import { ModuleFailure } from "../types.ts";

/** apt's words for a source it could not reach (http, https and the proxy alike). */
const UNREACHABLE = /^(?:[WE]: Failed to fetch |E: Unable to fetch some archives|\s*(?:Could not connect to|Could not resolve|Temporary failure resolving|Unable to connect to|Connection timed out|Connection failed|Could not wait for server fd))/m;

/** The line where apt says a source was unreachable, or undefined when that is not the failure. Pure. */
export function unreachableSourceLine(output: string): string | undefined {
  const lines = output.split("\n").map((l) => l.trim());
  // apt's summary names the URL: prefer it to the bare connect error.
  const fetch = lines.find((l) => /^[WE]: Failed to fetch /.test(l));
  if (fetch) return fetch;
  return UNREACHABLE.test(output) ? lines.find((l) => UNREACHABLE.test(l)) : undefined;
}

/**
 * The run's result when apt-get succeeded; otherwise a ModuleFailure with apt's last lines
 * and, when the source was unreachable, what to check on `host`.
 * Example: `requireAptSuccess(await ctx.run(UPDATE), "apt-get update", ctx.host, { update: true })`.
 */
export function requireAptSuccess(r: ExecResult, what: string, host: string, options: { update?: boolean } = {}): ExecResult {
  const output = `${r.stdout}\n${r.stderr}`;
  const unreachable = unreachableSourceLine(output);
  // update exits 0 when an index could not be fetched; its W: line is then the failure.
  if (r.rc === 0 && !(options.update && unreachable)) return r;
  const detail = maskSecrets((r.stderr.trim() || r.stdout.trim()).split("\n").slice(-6).join("\n"));
  // On a line of its own: apt's last line ends with its own "?" or ".".
  const hint = unreachable
    ? `\n${host} could not reach its package source: check that host's network and DNS, ` +
      `its apt proxy (Acquire::http::Proxy in /etc/apt/apt.conf.d/), and the mirror in /etc/apt/sources.list and ` +
      `/etc/apt/sources.list.d/; then run "apt-get update" on ${host} by hand to see apt's whole answer, and run again`
    : "";
  throw new ModuleFailure(`${what} failed on ${host}: ${detail || `rc ${r.rc}`}${hint}`, {
    rc: r.rc,
    stdout: maskSecrets(r.stdout),
    stderr: maskSecrets(r.stderr),
  });
}
