/**
 * `connection: local`: commands run on the controller with `sh -c`, with the SSH transport's
 * semantics (stdin written then closed, rc -1 on timeout, never throws for a non-zero rc,
 * env exported in the command, become through sudo unless already that user).
 */
import { spawn } from "node:child_process";
import { userInfo } from "node:os";
import type { ExecOptions, ExecResult, Transport } from "./types.ts";
import { explainSudoFailure, SudoPrompter, withEnv, wrapBecome } from "./command.ts";

export interface LocalTransportOptions {
  /** Default per-command limit (default: none). */
  commandTimeoutMs?: number;
}

/** Runs commands on this machine. */
export class LocalTransport implements Transport {
  private readonly user = userInfo().username;

  constructor(
    readonly host = "localhost",
    private readonly options: LocalTransportOptions = {},
  ) {}

  async connect(): Promise<void> {}
  async reconnect(): Promise<void> {}
  async close(): Promise<void> {}

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const full = withEnv(command, options.env);
    const plan = wrapBecome(full, options.become, this.user);
    const timeoutMs = options.timeoutMs ?? this.options.commandTimeoutMs;
    return new Promise((resolve) => {
      // detached: the command gets its own process group, so a timeout kills its children too.
      const child = spawn("sh", ["-c", plan.command], { stdio: ["pipe", "pipe", "pipe"], detached: true });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      let spawnError: Error | undefined;
      const killGroup = () => {
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {
          child.kill("SIGKILL");
        }
      };
      const timer =
        timeoutMs && timeoutMs > 0
          ? setTimeout(() => {
              timedOut = true;
              killGroup();
            }, timeoutMs)
          : undefined;
      const sendStdin = () => child.stdin.end(options.stdin !== undefined ? Buffer.from(options.stdin as Uint8Array) : undefined);
      const sudo = plan.password !== undefined ? new SudoPrompter(plan.password, (t) => child.stdin.write(t), sendStdin) : undefined;
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.stderr.on("data", (b: Buffer) => {
        if (sudo?.pending) {
          err.push(Buffer.from(sudo.feed(b)));
          if (sudo.failed) killGroup();
        } else err.push(b);
      });
      child.stdin.on("error", () => {});
      child.on("error", (e) => (spawnError = e));
      child.on("close", (code, signal) => {
        if (timer) clearTimeout(timer);
        if (sudo) err.push(Buffer.from(sudo.flush()));
        let stderr = Buffer.concat(err).toString("utf8");
        const stdout = Buffer.concat(out).toString("utf8");
        if (spawnError) stderr += `cannot run sh: ${spawnError.message}\n`;
        if (timedOut) return resolve({ rc: -1, stdout, stderr: stderr + `command timed out after ${timeoutMs! / 1000} s\n` });
        if (code === null && signal) stderr += `killed by signal ${signal}\n`;
        const rc = code ?? -1;
        if (options.become && plan.command !== full && rc !== 0) {
          const explained = explainSudoFailure(stderr, options.become.user || "root");
          if (explained) stderr = `${explained}\n${stderr}`;
        }
        resolve({ rc, stdout, stderr });
      });
      if (!sudo) sendStdin();
    });
  }
}
