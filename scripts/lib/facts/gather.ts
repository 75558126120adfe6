/**
 * Fact gathering in ONE remote command: every fact's fragment runs in its own subshell
 * (stderr discarded, so a missing tool only empties its section) between section markers;
 * each section goes to that fact's pure parser. Names as Ansible's (ansible_facts.*).
 */
import type { ExecResult } from "../transport/types.ts";
import type { Fact } from "./types.ts";
import { systemFact } from "./system.ts";
import { osReleaseFact } from "./os-release.ts";
import { hardwareFact } from "./hardware.ts";
import { networkFact } from "./network.ts";
import { piFact } from "./pi.ts";
import { mountsFact } from "./mounts.ts";
import { dateTimeFact } from "./date_time.ts";
import { envFact } from "./env.ts";
import { dnsFact } from "./dns.ts";
import { lsbFact } from "./lsb.ts";
import { pkgMgrFact } from "./pkg_mgr.ts";
import { pythonFact } from "./python.ts";
import { virtualizationFact } from "./virtualization.ts";
import { memoryCgroupFact } from "./memory-cgroup.ts";
import { cmdlineFact } from "./cmdline.ts";

/** Every fact gathered, in output order. */
export const FACTS: Fact[] = [systemFact, osReleaseFact, hardwareFact, networkFact, piFact, mountsFact, dateTimeFact, envFact, dnsFact, lsbFact, pkgMgrFact, pythonFact, virtualizationFact, memoryCgroupFact, cmdlineFact];

const MARKER = "@@fact ";

/** The single command that prints every fact's section. */
export function gatherCommand(facts: Fact[] = FACTS): string {
  return facts.map((f) => `echo '${MARKER}${f.name}'; ( ${f.command} ) 2>/dev/null`).join("\n");
}

/** Splits gathered output into sections by name. Pure. */
export function splitSections(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  let current: string | undefined;
  let buffer: string[] = [];
  const flush = () => {
    if (current !== undefined) out.set(current, buffer.length ? buffer.join("\n") + "\n" : "");
  };
  for (const line of stdout.split("\n")) {
    if (line.startsWith(MARKER)) {
      flush();
      current = line.slice(MARKER.length).trim();
      buffer = [];
    } else if (current !== undefined) {
      buffer.push(line);
    }
  }
  if (buffer.length && buffer[buffer.length - 1] === "") buffer.pop();
  flush();
  return out;
}

/** Parses the whole gathered output into one facts object. Pure. */
export function parseFacts(stdout: string, facts: Fact[] = FACTS): Record<string, unknown> {
  const sections = splitSections(stdout);
  const result: Record<string, unknown> = {};
  for (const fact of facts) Object.assign(result, fact.parse(sections.get(fact.name) ?? ""));
  return result;
}

/**
 * Gathers the facts of one host in one round trip.
 * Example: `const facts = await gatherFacts((c) => transport.exec(c));`
 * Throws when the command itself cannot run (rc 127/-1 with nothing printed).
 */
export async function gatherFacts(run: (command: string) => Promise<ExecResult>): Promise<Record<string, unknown>> {
  const r = await run(gatherCommand());
  if (!r.stdout.includes(MARKER)) {
    throw new Error(`Fact gathering printed nothing (rc ${r.rc}): ${r.stderr.trim() || "no output"}`);
  }
  return parseFacts(r.stdout);
}
