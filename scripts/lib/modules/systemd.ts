/**
 * ansible.builtin.systemd (systemd_service): unit state, enablement and masking from ONE
 * `systemctl show` probe. restarted/reloaded always change; everything else only when the
 * unit is not already so. daemon_reload/daemon_reexec run with the probe (outside check mode)
 * and, as in Ansible, do not by themselves count as a change.
 */
import type { ModuleContext, ModuleDefinition, Plan } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { sh, raw } from "../shell/quote.ts";
import { requireSuccess, schemaHeader, probeValues } from "./support/system.ts";

export interface SystemdArgs {
  name?: string;
  state?: "started" | "stopped" | "restarted" | "reloaded";
  enabled?: boolean;
  masked?: boolean;
  daemon_reload: boolean;
  daemon_reexec: boolean;
  scope: "system" | "user" | "global";
  no_block: boolean;
  force?: boolean;
}

export interface UnitStatus {
  LoadState: string;
  ActiveState: string;
  SubState: string;
  UnitFileState: string;
  Id: string;
}

interface SystemdState {
  commands: string[];
}

export const SYSTEMD_PROPERTIES = {
  name: { type: "string", aliases: ["service", "unit"], description: "Unit name (.service assumed when no suffix)." },
  state: { type: "string", enum: ["started", "stopped", "restarted", "reloaded"] },
  enabled: { type: "boolean", description: "Start at boot." },
  masked: { type: "boolean", description: "Masked (cannot be started at all)." },
  daemon_reload: { type: "boolean", default: false, aliases: ["daemon-reload"], description: "systemctl daemon-reload before anything else." },
  daemon_reexec: { type: "boolean", default: false, aliases: ["daemon-reexec"], description: "systemctl daemon-reexec before anything else." },
  scope: { type: "string", enum: ["system", "user", "global"], default: "system" },
  no_block: { type: "boolean", default: false, description: "Do not wait for the job to finish." },
  force: { type: "boolean", description: "Override existing symlinks when enabling." },
};

/** Parses `systemctl show -p ...` output. Pure. */
export function parseUnitStatus(stdout: string): UnitStatus {
  const v = probeValues(stdout);
  return {
    LoadState: v.get("LoadState") ?? "",
    ActiveState: v.get("ActiveState") ?? "",
    SubState: v.get("SubState") ?? "",
    UnitFileState: v.get("UnitFileState") ?? "",
    Id: v.get("Id") ?? "",
  };
}

/** Unit file states that `systemctl enable/disable` cannot change (no [Install] section, or generated). */
const NOT_TOGGLEABLE = new Set(["static", "indirect", "generated", "transient", "alias"]);
const ENABLED = new Set(["enabled", "enabled-runtime", "linked", "linked-runtime"]);

export function systemdProbe(args: SystemdArgs, check: boolean, name: string | undefined): string {
  const scope = args.scope === "system" ? "" : ` --${args.scope}`;
  const lines: string[] = [];
  if (!check && args.daemon_reexec) lines.push(`systemctl${scope} daemon-reexec || exit 1`);
  if (!check && args.daemon_reload) lines.push(`systemctl${scope} daemon-reload || exit 1`);
  if (name) lines.push(sh`systemctl${raw(scope)} show -p Id,LoadState,ActiveState,SubState,UnitFileState -- ${name}`);
  return lines.join("\n") || ":";
}

/** Decides from a probed status; pure, shared with the service module. */
export function planUnit(args: SystemdArgs, name: string, status: UnitStatus, host: string, check = false): Plan<SystemdState> {
  const scope = args.scope === "system" ? "" : ` --${args.scope}`;
  const noBlock = args.no_block ? " --no-block" : "";
  const masked = status.LoadState === "masked" || status.UnitFileState === "masked" || status.UnitFileState === "masked-runtime";
  if (status.LoadState === "not-found" && args.masked !== true && !(args.masked === false)) {
    if (args.state !== undefined || args.enabled !== undefined) {
      // In check mode the package that brings the unit is usually installed by an earlier
      // task that did not run: say what would happen rather than fail the whole check run
      // (Ansible fails here, the most common reason a --check of a fresh node stops).
      if (check) {
        const would = [args.enabled === true ? "enabled" : "", args.state === "started" || args.state === "restarted" || args.state === "reloaded" ? "started" : ""].filter(Boolean);
        if (would.length) return { changed: true, msg: `${name} is not installed yet (an earlier task installs it): it would be ${would.join(" and ")}`, result: { name, status } };
        return { changed: false, reason: `${name} is not installed: nothing to stop or disable` };
      }
      // A unit nobody can find: Ansible's words.
      throw new ModuleFailure(`Could not find the requested service ${name}: host ${host}`, { status });
    }
  }
  const commands: string[] = [];
  const done: string[] = [];
  const result = { name, status, state: undefined as string | undefined, enabled: undefined as boolean | undefined };
  // Want unmasked but masked? (first: a masked unit can be neither enabled nor started)
  if (args.masked === false && masked) {
    commands.push(sh`systemctl${raw(scope)} unmask -- ${name}`);
    done.push("unmasked");
  }
  if (args.enabled !== undefined && !(args.masked === true)) {
    const isEnabled = ENABLED.has(status.UnitFileState);
    if (NOT_TOGGLEABLE.has(status.UnitFileState)) {
      // nothing to do: systemctl cannot enable/disable it (Ansible reports the same no-op)
    } else if (args.enabled && (!isEnabled || (masked && args.masked !== false))) {
      if (masked && args.masked !== false) throw new ModuleFailure(`Unit ${name} is masked: cannot enable it (set masked: false)`, { status });
      commands.push(sh`systemctl${raw(scope)} enable${raw(args.force ? " --force" : "")} -- ${name}`);
      done.push("enabled");
    } else if (!args.enabled && isEnabled) {
      commands.push(sh`systemctl${raw(scope)} disable -- ${name}`);
      done.push("disabled");
    }
    result.enabled = args.enabled;
  }
  if (args.masked === true && !masked) {
    commands.push(sh`systemctl${raw(scope)} mask -- ${name}`);
    done.push("masked");
  }
  if (args.state) {
    const running = status.ActiveState === "active" || status.ActiveState === "activating" || status.ActiveState === "reloading";
    const willBeMasked = args.masked === true || (masked && args.masked !== false);
    let action: string | undefined;
    if (args.state === "started" && !running) action = "start";
    else if (args.state === "stopped" && running) action = "stop";
    else if (args.state === "restarted") action = "restart";
    else if (args.state === "reloaded") action = running ? "reload" : "start";
    if (action && willBeMasked && action !== "stop") throw new ModuleFailure(`Unit ${name} is masked: cannot ${action} it`, { status });
    if (action) {
      commands.push(sh`systemctl${raw(scope + noBlock)} ${raw(action)} -- ${name}`);
      done.push(action === "start" ? "started" : action === "stop" ? "stopped" : action === "restart" ? "restarted" : "reloaded");
    }
    result.state = args.state;
  }
  if (commands.length === 0) {
    const parts = [
      args.state ? (args.state === "stopped" ? "stopped" : "running") : undefined,
      args.enabled === undefined ? undefined : NOT_TOGGLEABLE.has(status.UnitFileState) ? status.UnitFileState : args.enabled ? "enabled" : "disabled",
      args.masked === undefined ? undefined : args.masked ? "masked" : "not masked",
    ].filter(Boolean);
    return { changed: false, reason: parts.length ? `${name} is ${parts.join(" and ")}` : `${name} needs nothing`, result };
  }
  return { changed: true, msg: `${name} ${done.join(", ")}`, state: { commands }, result };
}

export async function planSystemd(args: SystemdArgs, ctx: ModuleContext): Promise<Plan<SystemdState>> {
  const name = args.name;
  const r = requireSuccess(await ctx.run(systemdProbe(args, ctx.check, name)), name ? `Cannot query unit ${name}` : "systemctl daemon-reload failed");
  if (!name) {
    const did = [args.daemon_reexec ? "daemon re-executed" : "", args.daemon_reload ? "daemon reloaded" : ""].filter(Boolean);
    if (did.length === 0) throw new ModuleFailure("systemd needs name, daemon_reload or daemon_reexec");
    return { changed: false, reason: ctx.check ? `${did.join(", ")} (skipped in check mode)` : did.join(", ") };
  }
  return planUnit(args, name, parseUnitStatus(r.stdout), ctx.host, ctx.check);
}

export const systemd: ModuleDefinition<SystemdArgs, SystemdState> = {
  name: "systemd",
  aliases: ["systemd_service", "ansible.builtin.systemd_service", "ansible.legacy.systemd_service"],
  schema: {
    ...schemaHeader("systemd", "Controls systemd units: state, enabled, masked, daemon-reload."),
    properties: SYSTEMD_PROPERTIES,
  },
  plan: planSystemd,
  async apply(plan, _args, ctx) {
    requireSuccess(await ctx.run(plan.state!.commands.join(" && ")), `systemctl failed (${plan.msg})`);
    return { msg: plan.msg };
  },
};
