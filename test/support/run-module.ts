/**
 * Drives one module over a real Transport without the executor, for lab tests: validate args
 * as the executor does, then the executor's own plan → apply step (planThenApply).
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
import { planThenApply } from "../../scripts/lib/modules/plan-apply.ts";
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
    const step = await planThenApply(module, valid, ctx);
    return { changed: step.changed, failed: false, skipped: step.skipped, reason: step.reason, msg: step.msg, result: step.result, diff: step.diff, commands: ctx.commandCount, warnings: ctx.warnings, elapsedMs: Date.now() - started };
  } catch (e) {
    if (e instanceof ModuleFailure) return { changed: e.result.changed === true, failed: true, msg: e.message, result: e.result, commands: ctx.commandCount, warnings: ctx.warnings, elapsedMs: Date.now() - started };
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
