/**
 * community.general.timezone: the system time zone, one probe (timedatectl when it answers,
 * else the /etc/localtime link; /etc/timezone too where it exists, as Debian keeps it).
 * Apply: timedatectl set-timezone, falling back to relinking /etc/localtime atomically.
 */
import type { ModuleDefinition, Probe } from "./types.ts";
import { readProbe } from "./probe.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { requireSuccess, schemaHeader, probeValues } from "./support/system.ts";

interface TimezoneArgs {
  name: string;
  hwclock?: string;
}

/** What TIMEZONE_PROBE reads: the zone by each of its three records, and whether the wanted one exists. */
export interface TimezoneState {
  /** timedatectl's zone ("" without systemd). */
  timedatectl: string;
  /** The zone /etc/localtime links to ("" when it is no link). */
  link: string;
  /** /etc/timezone's zone, when that file exists. */
  file?: string;
  /** /usr/share/zoneinfo has the wanted zone. */
  known: boolean;
}

export const TIMEZONE_PROBE: Probe<{ name: string }, TimezoneState> = {
  name: "timezone",
  command: ({ name }) => [
    "echo tdc=$(timedatectl show -p Timezone --value 2>/dev/null)",
    "echo link=$(readlink /etc/localtime)",
    "if [ -f /etc/timezone ]; then echo file=$(cat /etc/timezone); fi",
    sh`if [ -f /usr/share/zoneinfo/${name} ]; then echo known=yes; fi`,
  ].join("; "),
  parse(r) {
    const v = probeValues(requireSuccess(r, "Cannot read the time zone").stdout);
    const state: TimezoneState = { timedatectl: v.get("tdc") ?? "", link: (v.get("link") ?? "").replace(/^.*zoneinfo\//, ""), known: v.get("known") === "yes" };
    if (v.has("file")) state.file = v.get("file");
    return state;
  },
};

export const timezone: ModuleDefinition<TimezoneArgs, { command: string }> = {
  name: "timezone",
  aliases: ["community.general.timezone"],
  schema: {
    ...schemaHeader("timezone", "Sets the system time zone."),
    properties: {
      name: { type: "string", pattern: "^[A-Za-z0-9_+][A-Za-z0-9_+-]*(/[A-Za-z0-9_+][A-Za-z0-9_+-]*)*$", patternErrorMessage: 'must be a zone name such as Asia/Tokyo (letters, digits, "_", "+" and "-", parts separated by "/", none starting with "-")', description: "Zone name, e.g. Asia/Tokyo or Etc/UTC." },
      hwclock: { type: "string", enum: ["local", "UTC"], description: "Accepted for compatibility; the hardware clock is left alone (a Pi has none)." },
    },
    required: ["name"],
  },
  async plan(args, ctx) {
    const { timedatectl, link, file, known } = await readProbe(ctx, TIMEZONE_PROBE, { name: args.name }, { become: false });
    const current = timedatectl || link;
    const stale = current !== args.name || link !== args.name || (file !== undefined && file !== args.name);
    const result = { name: args.name, previous: current };
    if (!stale) return { changed: false, reason: `time zone is ${args.name}`, result };
    if (!known) throw new ModuleFailure(`Unknown time zone ${args.name} (no /usr/share/zoneinfo/${args.name}; is tzdata installed?)`);
    const relink = sh`ln -sf ${`/usr/share/zoneinfo/${args.name}`} /etc/localtime.new && mv -Tf /etc/localtime.new /etc/localtime`;
    const etcTimezone = file !== undefined ? sh` && printf '%s\\n' ${args.name} > /etc/timezone.new && mv -f /etc/timezone.new /etc/timezone` : "";
    const command = `{ ${sh`timedatectl set-timezone ${args.name}`} 2>/dev/null || { ${relink}; }; }${etcTimezone}`;
    return { changed: true, msg: `time zone set to ${args.name} (was ${current || "unset"})`, state: { command }, result, diff: [{ before: `${current}\n`, after: `${args.name}\n`, before_header: "timezone", after_header: "timezone" }] };
  },
  async apply(plan, args, ctx) {
    requireSuccess(await ctx.run(plan.state!.command), `Cannot set the time zone to ${args.name}`);
    return { msg: plan.msg };
  },
};
