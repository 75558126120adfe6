/**
 * A Transport that runs commands on this machine with `sh -c` (dash on Debian), for tests
 * that need a real POSIX target without SSH. Same contract as the SSH transport: stdin fed
 * then closed, rc -1 on timeout, never throws for a non-zero rc.
 */
import { spawn } from "node:child_process";
import type { ExecOptions, ExecResult, Transport } from "../../scripts/lib/transport/types.ts";

export class LocalShellTransport implements Transport {
  constructor(readonly host = "localhost") {}
  async connect(): Promise<void> {}
  async reconnect(): Promise<void> {}
  async close(): Promise<void> {}

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const child = spawn("sh", ["-c", command], { env: { ...process.env, ...(options.env ?? {}) }, stdio: ["pipe", "pipe", "pipe"] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer = options.timeoutMs ? setTimeout(() => { timedOut = true; child.kill("SIGKILL"); }, options.timeoutMs) : undefined;
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.stderr.on("data", (b: Buffer) => err.push(b));
      child.on("error", reject);
      child.on("close", (code) => {
        if (timer) clearTimeout(timer);
        resolve({ rc: timedOut || code === null ? -1 : code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
      });
      child.stdin.on("error", () => {});
      child.stdin.end(options.stdin ?? "");
    });
  }
}
