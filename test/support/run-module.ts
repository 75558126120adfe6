/**
 * Drives one module over a real Transport without the executor, for lab tests:
 * validate args as the executor does, plan, apply when changed (and not check mode).
 *
 *   const t = labTransport(lab, "node1");
 *   const first = await runModule(t, "hostname", { name: "n1" });   // changed
 *   const again = await runModule(t, "hostname", { name: "n1" });   // ok
 *
 * A ModuleFailure comes back as { failed: true, msg }; anything else throws.
 */
import { tmpdir } from "node:os";
import type { Transport } from "../../scripts/lib/transport/types.ts";
import { createTransport } from "../../scripts/lib/transport/connect.ts";
import { getModule } from "../../scripts/lib/modules/registry.ts";
import { ModuleFailure, type FileDiff } from "../../scripts/lib/modules/types.ts";
import { validateModuleArgs } from "../../scripts/lib/playbook/validate-args.ts";
import { TransportContext } from "./transport-context.ts";

export interface ModuleRun {
  changed: boolean;
  failed: boolean;
  skipped?: string;
  reason?: string;
  msg?: string;
  result: Record<string, unknown>;
  diff?: FileDiff[];
  /** Round trips of plan + apply. */
  commands: number;
  warnings: string[];
  elapsedMs: number;
}

/** Runs module `name` with `args` on the transport's host. */
export async function runModule(
  transport: Transport,
  name: string,
  args: Record<string, unknown>,
  options: { check?: boolean; diff?: boolean; baseDir?: string; vars?: Record<string, unknown> } = {},
): Promise<ModuleRun> {
  const module = getModule(name);
  if (!module) throw new Error(`No module named ${name}`);
  const valid = validateModuleArgs(module, structuredClone(args), { file: `<${name} test>` }, { templated: false });
  const ctx = new TransportContext(transport, { check: options.check, diff: options.diff ?? true, baseDir: options.baseDir ?? tmpdir(), vars: options.vars });
  const started = Date.now();
  try {
    const plan = await module.plan(valid, ctx);
    if (plan.skipped) return { changed: false, failed: false, skipped: plan.skipped, reason: plan.reason, result: plan.result ?? {}, commands: ctx.commandCount, warnings: ctx.warnings, elapsedMs: Date.now() - started };
    let msg = plan.msg;
    let result = plan.result ?? {};
    if (plan.changed && !ctx.check && module.apply) {
      const applied = await module.apply(plan, valid, ctx);
      if (applied) {
        msg = applied.msg ?? msg;
        result = { ...result, ...(applied.result ?? {}) };
      }
    }
    return { changed: plan.changed, failed: false, reason: plan.reason, msg, result, diff: plan.diff, commands: ctx.commandCount, warnings: ctx.warnings, elapsedMs: Date.now() - started };
  } catch (e) {
    if (e instanceof ModuleFailure) return { changed: false, failed: true, msg: e.message, result: e.result, commands: ctx.commandCount, warnings: ctx.warnings, elapsedMs: Date.now() - started };
    throw e;
  }
}

/** An SSH transport to a lab node as root with the lab's key and known_hosts. */
export function sshTransport(host: string, address: string, keyFile: string, knownHostsFile: string): Transport {
  return createTransport(host, {
    connection: "ssh",
    address,
    port: 22,
    user: "root",
    privateKeyFile: keyFile,
    knownHostsFiles: [knownHostsFile],
    acceptNewHostKeys: false,
    strictHostKeyChecking: true,
    connectTimeoutMs: 10_000,
    commandTimeoutMs: 0,
    useSshConfig: false,
    agentSocket: undefined,
  });
}
