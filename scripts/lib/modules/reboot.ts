/**
 * ansible.builtin.reboot: reboots the target and returns once it is really back: the boot id
 * (/proc/sys/kernel/random/boot_id) differs from before AND test_command succeeds. The reboot
 * is issued detached (so our SSH command returns first), then ctx.reconnect is retried until
 * reboot_timeout. Non-idempotent (always changed); skipped in check mode.
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { schemaHeader } from "./support/system.ts";

interface RebootArgs {
  reboot_timeout: number;
  connect_timeout?: number;
  pre_reboot_delay: number;
  post_reboot_delay: number;
  test_command: string;
  msg: string;
  boot_time_command: string;
  reboot_command?: string;
  search_paths?: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const reboot: ModuleDefinition<RebootArgs> = {
  name: "reboot",
  aliases: [],
  nonIdempotent: true,
  schema: {
    ...schemaHeader("reboot", "Reboots the machine and waits for it to come back."),
    properties: {
      reboot_timeout: { type: "integer", minimum: 1, default: 600, description: "Seconds to wait for the host to come back and pass test_command." },
      connect_timeout: { type: "integer", minimum: 1, description: "Seconds per connection attempt." },
      pre_reboot_delay: { type: "integer", minimum: 0, default: 0 },
      post_reboot_delay: { type: "integer", minimum: 0, default: 0 },
      test_command: { type: "string", default: "whoami" },
      msg: { type: "string", default: "Reboot initiated by Ansible" },
      boot_time_command: { type: "string", default: "cat /proc/sys/kernel/random/boot_id" },
      reboot_command: { type: "string", description: "Command that reboots (default: systemctl reboot, else reboot)." },
      search_paths: { type: "array", items: { type: "string" }, description: "Accepted for compatibility." },
    },
  },
  async plan(_args, ctx) {
    if (ctx.check) return { changed: false, skipped: "reboot skipped in check mode", reason: "check mode" };
    return { changed: true, msg: "rebooted" };
  },
  async apply(_plan, args, ctx) {
    const started = Date.now();
    const bootId = await ctx.run(args.boot_time_command);
    const before = bootId.stdout.trim();
    if (bootId.rc !== 0 || !before) throw new ModuleFailure(`Cannot read the boot id before rebooting: ${bootId.stderr.trim() || "empty"}`);
    const command = args.reboot_command ?? "systemctl reboot || reboot";
    // Detached, after our command has returned: otherwise the SSH channel dies mid-answer.
    const fire = sh`nohup sh -c ${`sleep ${1 + args.pre_reboot_delay}; ${command}`} >/dev/null 2>&1 &` + " echo issued";
    const issued = await ctx.run(fire, { timeoutMs: 15_000 });
    if (issued.rc !== 0) throw new ModuleFailure(`Cannot issue the reboot: ${issued.stderr.trim() || `rc ${issued.rc}`}`);
    await sleep((1 + args.pre_reboot_delay) * 1000);
    const deadline = started + args.reboot_timeout * 1000;
    let lastError = "";
    let after = before;
    let back = false;
    while (Date.now() < deadline) {
      try {
        await ctx.reconnect({ timeoutMs: Math.max(1000, deadline - Date.now()) });
        const r = await ctx.run(args.boot_time_command, { timeoutMs: (args.connect_timeout ?? 10) * 1000 });
        after = r.stdout.trim();
        if (r.rc === 0 && after && after !== before) {
          const test = await ctx.run(args.test_command, { timeoutMs: 60_000 });
          if (test.rc === 0) { back = true; break; }
          lastError = `test_command "${args.test_command}" failed: ${test.stderr.trim() || `rc ${test.rc}`}`;
        } else {
          lastError = "the host has not rebooted yet (same boot id)";
        }
      } catch (e) {
        lastError = (e as Error).message;
      }
      await sleep(1000);
    }
    if (!back) {
      throw new ModuleFailure(`Timed out after ${args.reboot_timeout}s waiting for the host to reboot: ${lastError}`, { rebooted: after !== before, elapsed: Math.round((Date.now() - started) / 1000) });
    }
    if (args.post_reboot_delay > 0) await sleep(args.post_reboot_delay * 1000);
    return { msg: "rebooted", result: { rebooted: true, elapsed: Math.round((Date.now() - started) / 1000) } };
  },
};
