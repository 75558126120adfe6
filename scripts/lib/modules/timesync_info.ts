/**
 * timesync_info: which time servers a node uses, read in ONE round trip and never changed.
 * chrony when its configuration file is there and chronyc is installed (`sources`: the servers
 * `chronyc -n sources` lists), else systemd-timesyncd (`configured`: the NTP= of its drop-in,
 * `in_use`: the server it talks to, `synchronized`: timedatectl's NTPSynchronized). For the
 * ntp role's report; a server that cannot be reached is reported, never a failure.
 */
import type { ModuleDefinition } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { RULES, schemaPattern } from "./support/values.ts";
import { probeValues, probeSection, requireSuccess, schemaHeader } from "./support/system.ts";

interface TimesyncInfoArgs {
  chrony_config: string;
  timesyncd_config: string;
}

export interface TimesyncInfo {
  source: "chrony" | "timesyncd";
  /** chrony's sources (addresses, -n: not resolved); [] for timesyncd. */
  sources: string[];
  /** timesyncd only ("" otherwise or when not said). */
  configured: string;
  in_use: string;
  synchronized: string;
}

/** The probe; both paths go in as quoted values. */
export function timesyncProbe(chronyConfig: string, timesyncdConfig: string): string {
  return [
    sh`c=${chronyConfig}; t=${timesyncdConfig}`,
    'if [ -f "$c" ] && command -v chronyc >/dev/null; then',
    // A chrony that is installed but not running (a container, a stopped unit) answers "506
    // Cannot talk to daemon" and exits 1: no sources, which the report says, not a failure.
    "  echo source=chrony; echo @@sources; chronyc -n sources 2>/dev/null || :",
    "else",
    "  echo source=timesyncd",
    '  echo "configured=$(sed -n \'s/^NTP=//p\' -- "$t" 2>/dev/null)"',
    '  echo "in_use=$(timedatectl show-timesync --property=ServerName --value 2>/dev/null)"',
    '  echo "synchronized=$(timedatectl show --property=NTPSynchronized --value 2>/dev/null)"',
    "fi",
  ].join("\n");
}

/** Pure: the probe's output -> the time source and its servers. */
export function parseTimesyncProbe(stdout: string): TimesyncInfo {
  const v = probeValues(stdout.split("\n@@sources\n")[0]);
  const text = (key: string) => (v.get(key) ?? "").trim();
  if (text("source") === "chrony") {
    // `^* 10.0.0.1  2  6  377  34  +12us[ +15us] +/- 20ms`: "^" marks a server (not a peer or refclock).
    const sources = probeSection(stdout, "sources")
      .split("\n")
      .map((line) => /^\^.\s*(\S+)/.exec(line)?.[1])
      .filter((s): s is string => s !== undefined);
    return { source: "chrony", sources, configured: "", in_use: "", synchronized: "" };
  }
  return { source: "timesyncd", sources: [], configured: text("configured"), in_use: text("in_use"), synchronized: text("synchronized") };
}

const ABSOLUTE = { type: "string", ...schemaPattern(RULES.absolutePath) };

export const timesyncInfo: ModuleDefinition<TimesyncInfoArgs> = {
  name: "timesync_info",
  aliases: [],
  schema: {
    ...schemaHeader("timesync_info", "Reads which time servers the node uses (chrony's sources, or timesyncd's configured and current server); changes nothing."),
    properties: {
      chrony_config: { ...ABSOLUTE, description: "chrony's configuration file that makes chrony the source (e.g. /etc/chrony/conf.d/pi-cluster.conf)." },
      timesyncd_config: { ...ABSOLUTE, description: "timesyncd's drop-in whose NTP= is reported as configured." },
    },
    required: ["chrony_config", "timesyncd_config"],
  },
  async plan(args, ctx) {
    const r = requireSuccess(await ctx.run(timesyncProbe(args.chrony_config, args.timesyncd_config)), `Cannot read the time servers of ${ctx.host}`);
    const info = parseTimesyncProbe(r.stdout);
    const reason = info.source === "chrony" ? `chrony: ${info.sources.join(", ") || "no sources"}` : `timesyncd: ${info.in_use || "no server"}`;
    return { changed: false, reason, result: { ...info } };
  },
};
