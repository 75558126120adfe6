/**
 * ansible.builtin.service: the generic service module. When systemd is PID 1 on the target
 * (/run/systemd/system exists: systemd's own test) it is the systemd module, decided in the
 * same round trip as the unit probe; otherwise the `service` command and update-rc.d (SysV).
 */
import type { ModuleDefinition, Plan } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { sh, raw } from "../shell/quote.ts";
import { parseUnitStatus, planUnit, systemdProbe, systemd, type SystemdArgs } from "./systemd.ts";
import { requireSuccess, schemaHeader } from "./support/system.ts";
import { RULES, schemaPattern } from "./support/values.ts";

interface ServiceArgs {
  name: string;
  state?: "started" | "stopped" | "restarted" | "reloaded";
  enabled?: boolean;
  arguments?: string;
  pattern?: string;
  runlevel?: string;
  sleep?: number;
  use: string;
}

interface ServiceState {
  commands: string[];
}

function toSystemd(args: ServiceArgs): SystemdArgs {
  return { name: args.name, state: args.state, enabled: args.enabled, daemon_reload: false, daemon_reexec: false, scope: "system", no_block: false };
}

export const service: ModuleDefinition<ServiceArgs, ServiceState> = {
  name: "service",
  aliases: [],
  schema: {
    ...schemaHeader("service", "Controls services (systemd when it runs the target, else SysV init scripts)."),
    properties: {
      name: { type: "string", ...schemaPattern(RULES.serviceName), description: "Service name." },
      state: { type: "string", enum: ["started", "stopped", "restarted", "reloaded"] },
      enabled: { type: "boolean" },
      arguments: { type: "string", aliases: ["args"], description: "Extra arguments for the init script (SysV only)." },
      pattern: { type: "string", description: "Accepted for compatibility; ignored." },
      runlevel: { type: "string", description: "Accepted for compatibility; ignored." },
      sleep: { type: "integer", description: "Seconds between stop and start when restarting (SysV only)." },
      use: { type: "string", default: "auto", description: "auto, systemd or sysvinit." },
    },
    required: ["name"],
    anyOf: [{ required: ["state"] }, { required: ["enabled"] }],
  },
  async plan(args, ctx): Promise<Plan<ServiceState>> {
    const probe = [
      "if [ -d /run/systemd/system ]; then echo mgr=systemd",
      systemdProbe(toSystemd(args), ctx.check, args.name),
      "else echo mgr=sysv",
      sh`if [ -x /etc/init.d/${args.name} ]; then echo script=yes; service ${args.name} status >/dev/null 2>&1; echo status=$?; ls /etc/rc?.d/S??${args.name} >/dev/null 2>&1 && echo enabled=yes; fi`,
      "fi",
    ].join("\n");
    const r = requireSuccess(await ctx.run(probe), `Cannot query service ${args.name}`);
    const useSystemd = args.use === "systemd" || (args.use === "auto" && /^mgr=systemd$/m.test(r.stdout));
    if (useSystemd) return planUnit(toSystemd(args), args.name, parseUnitStatus(r.stdout), ctx.host, ctx.check);
    if (!/^script=yes$/m.test(r.stdout)) throw new ModuleFailure(`Could not find the requested service ${args.name}: host ${ctx.host}`);
    const running = /^status=0$/m.test(r.stdout);
    const enabled = /^enabled=yes$/m.test(r.stdout);
    const extra = raw(args.arguments ? ` ${sh`${args.arguments.split(/\s+/).filter(Boolean)}`}` : "");
    const commands: string[] = [];
    const done: string[] = [];
    if (args.enabled === true && !enabled) { commands.push(sh`update-rc.d ${args.name} defaults && update-rc.d ${args.name} enable`); done.push("enabled"); }
    if (args.enabled === false && enabled) { commands.push(sh`update-rc.d ${args.name} disable`); done.push("disabled"); }
    const action = args.state === "started" && !running ? "start" : args.state === "stopped" && running ? "stop" : args.state === "restarted" ? "restart" : args.state === "reloaded" ? (running ? "reload" : "start") : undefined;
    if (action) { commands.push(sh`service ${args.name} ${action}${extra}`); done.push(`${action}ed`.replace("stoped", "stopped").replace("started", "started")); }
    if (commands.length === 0) return { changed: false, reason: `${args.name} is ${[args.state ? (running ? "running" : "stopped") : "", args.enabled === undefined ? "" : enabled ? "enabled" : "disabled"].filter(Boolean).join(" and ")}` };
    return { changed: true, msg: `${args.name} ${done.join(", ")}`, state: { commands } };
  },
  async apply(plan, args, ctx) {
    return systemd.apply!(plan, toSystemd(args), ctx);
  },
};
