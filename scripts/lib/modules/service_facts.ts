/**
 * ansible.builtin.service_facts: every systemd service as ansible_facts.services, keyed by unit
 * name: { name, state, status, source: "systemd" }, read as Ansible's systemd scanner does:
 * `systemctl list-units` gives the loaded services (state "running" or "stopped"; status the
 * active state, or the bad load/active state: not-found, masked, failed), `list-unit-files`
 * adds the unit file state as status and the services not loaded, whose state is their
 * ActiveState. Read-only; ONE round trip (Ansible runs `systemctl show` once per unloaded unit
 * file; here they run inside the same remote command).
 */
import type { ModuleDefinition } from "./types.ts";
import { requireSuccess, schemaHeader, probeSection } from "./support/system.ts";

export interface ServiceFact {
  name: string;
  state: string;
  status: string;
  source: "systemd";
}

const BAD_STATES = new Set(["not-found", "masked", "failed"]);

// Names come from systemctl itself; each one goes to `systemctl show` as a quoted operand after --.
const PROBE = [
  "export LC_ALL=C SYSTEMD_COLORS=0",
  "if ! command -v systemctl >/dev/null 2>&1 || [ ! -d /run/systemd/system ]; then echo @@nosystemd; exit 0; fi",
  "units=$(systemctl list-units --no-pager --type service --all) || exit 1",
  "echo @@units",
  'printf \'%s\\n\' "$units"',
  "echo @@files",
  "systemctl list-unit-files --no-pager --type service --all | while read -r unit status _; do",
  '  case "$unit" in *.service) ;; *) continue ;; esac',
  '  case "$units" in *" $unit "*) echo "$unit $status" ;; *) echo "$unit $status $(systemctl show --property=ActiveState -- "$unit" 2>/dev/null)" ;; esac',
  "done",
].join("\n");

/** `systemctl list-units` lines, as Ansible reads them. */
export function parseUnits(text: string, services: Record<string, ServiceFact> = {}): Record<string, ServiceFact> {
  for (const line of text.split("\n")) {
    if (!line.includes(".service")) continue;
    let fields = line.trim().split(/\s+/);
    // A leading status mark ("●", "*") is not a column.
    if (!fields[0].includes(".service")) fields = fields.slice(1);
    if (fields.length < 4) continue;
    const bad = fields.slice(1, 4).find((f) => BAD_STATES.has(f));
    const name = fields[0];
    services[name] = { name, state: fields[3] === "running" ? "running" : "stopped", status: bad ?? fields[2], source: "systemd" };
  }
  return services;
}

/** Our `list-unit-files` lines: "unit status [ActiveState=x]" (the last only for units list-units did not show). */
export function parseUnitFiles(text: string, services: Record<string, ServiceFact>): Record<string, ServiceFact> {
  for (const line of text.split("\n")) {
    const [name, status, active] = line.trim().split(/\s+/);
    if (!name?.endsWith(".service") || status === undefined) continue;
    const known = services[name];
    if (!known) {
      const state = active?.startsWith("ActiveState=") && active.length > 12 ? active.slice(12) : "unknown";
      services[name] = { name, state, status, source: "systemd" };
    } else if (!BAD_STATES.has(known.status)) known.status = status;
  }
  return services;
}

export const serviceFacts: ModuleDefinition<Record<string, never>> = {
  name: "service_facts",
  aliases: [],
  schema: { ...schemaHeader("service_facts", "Returns the state of every systemd service as ansible_facts.services."), properties: {} },
  async plan(_args, ctx) {
    const r = requireSuccess(await ctx.run(PROBE, { become: false }), "Cannot list the services with systemctl");
    if (r.stdout.includes("@@nosystemd")) {
      ctx.warn("service_facts: systemd is not running on this host; no services were listed");
      return { changed: false, reason: "no systemd", result: { ansible_facts: { services: {} } } };
    }
    const services = parseUnitFiles(probeSection(r.stdout, "files"), parseUnits(probeSection(r.stdout, "units")));
    return { changed: false, reason: `${Object.keys(services).length} services`, result: { ansible_facts: { services } } };
  },
};
