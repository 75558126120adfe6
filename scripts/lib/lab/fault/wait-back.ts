/** Waiting, after a heal, until a node answers ssh again (and, after a boot, has finished booting). */
import { UserError, ExitCode } from "../../errors.ts";
import { waitForSsh } from "../ssh-ready.ts";
import { sshRun } from "../ssh-command.ts";
import type { FaultContext } from "./types.ts";

/** How long a healed node may take to answer (an arm64 node boots under qemu-user). */
const BACK_TIMEOUT_MS = { amd64: 120_000, arm64: 300_000 };

/** Resolves once sshd answers (and, with `booted`, boot has finished); a clear error after the bound. */
export async function waitUntilBack(ctx: FaultContext, opts: { booted?: boolean } = {}): Promise<void> {
  const { node, state } = ctx;
  const timeoutMs = BACK_TIMEOUT_MS[node.arch];
  if (!(await waitForSsh(node.address, timeoutMs))) {
    throw new UserError(`Node ${node.name} did not answer ssh on ${node.address} within ${timeoutMs / 1000}s after healing`, {
      hint: `see ${node.dir}/console.log and npm run lab -- status`,
      exitCode: ExitCode.error,
    });
  }
  if (!opts.booted) return;
  const r = await sshRun({ keyFile: state.keyFile, knownHostsFile: state.knownHostsFile, address: node.address, connectTimeout: 10 }, "systemctl is-system-running --wait");
  if (r.code === 255) throw new UserError(`Node ${node.name} answers but ssh fails: ${r.stderr.trim()}`, { exitCode: ExitCode.error });
  if (r.stdout.trim() !== "running") ctx.log(`${node.name}: system ${r.stdout.trim() || "state unknown"} after booting`);
}
