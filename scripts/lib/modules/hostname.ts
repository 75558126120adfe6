/**
 * ansible.builtin.hostname: the static (/etc/hostname) and running hostname, one probe.
 * use: systemd (hostnamectl), debian/file (/etc/hostname + `hostname`), or auto: hostnamectl
 * when systemd runs the target, with the file method as fallback when hostnamectl fails
 * (e.g. hostnamed cannot start).
 */
import type { ModuleDefinition, Probe } from "./types.ts";
import { readProbe } from "./probe.ts";
import { sh } from "../shell/quote.ts";
import { requireSuccess, schemaHeader, probeValues } from "./support/system.ts";

interface HostnameArgs {
  name: string;
  use?: "systemd" | "debian" | "file" | "generic" | "auto";
}

/** The running hostname, the one in /etc/hostname, and whether hostnamectl can set them (systemd runs). */
export const HOSTNAME_PROBE: Probe<undefined, { running: string; static: string; systemd: boolean }> = {
  name: "hostname",
  command: () => "echo running=$(hostname); echo static=$(cat /etc/hostname 2>/dev/null); if [ -d /run/systemd/system ] && command -v hostnamectl >/dev/null; then echo systemd=yes; fi",
  parse(r) {
    const v = probeValues(requireSuccess(r, "Cannot read the hostname").stdout);
    return { running: v.get("running") ?? "", static: (v.get("static") ?? "").trim(), systemd: v.get("systemd") === "yes" };
  },
};

export const hostname: ModuleDefinition<HostnameArgs, { command: string }> = {
  name: "hostname",
  aliases: [],
  schema: {
    ...schemaHeader("hostname", "Sets the system's hostname (running and persistent)."),
    properties: {
      name: { type: "string", minLength: 1, pattern: "^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$", patternErrorMessage: 'must be a host name (letters, digits, "-" and ".", starting and ending with a letter or digit)', description: "The hostname." },
      use: { type: "string", enum: ["systemd", "debian", "file", "generic", "auto"], description: "Strategy (auto-detected when unset)." },
    },
    required: ["name"],
  },
  async plan(args, ctx) {
    const { running, static: stat, systemd } = await readProbe(ctx, HOSTNAME_PROBE, undefined, { become: false });
    // As Ansible's hostname module: prefixed names, namespaced as ansible_facts.hostname when merged.
    const result = { name: args.name, ansible_facts: { ansible_hostname: args.name.split(".")[0], ansible_nodename: args.name } };
    if (running === args.name && stat === args.name) return { changed: false, reason: `hostname is ${args.name}`, result };
    const useSystemd = args.use === "systemd" || ((args.use === undefined || args.use === "auto") && systemd);
    const file = sh`printf '%s\\n' ${args.name} > /etc/hostname.new && mv -f /etc/hostname.new /etc/hostname && hostname ${args.name}`;
    const command = useSystemd ? sh`hostnamectl set-hostname ${args.name}` + (args.use === "systemd" ? "" : ` || { ${file}; }`) : file;
    const what = [running !== args.name ? `running ${running}` : "", stat !== args.name ? `static ${stat || "(none)"}` : ""].filter(Boolean).join(", ");
    return { changed: true, msg: `hostname set to ${args.name} (was ${what})`, state: { command }, result, diff: [{ before: `hostname = ${running}\n`, after: `hostname = ${args.name}\n`, before_header: "hostname", after_header: "hostname" }] };
  },
  async apply(plan, args, ctx) {
    requireSuccess(await ctx.run(plan.state!.command), `Cannot set the hostname to ${args.name}`);
    return { msg: plan.msg };
  },
};
