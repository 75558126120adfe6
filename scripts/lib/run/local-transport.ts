/**
 * The controller itself as a target (`connection: local`, `delegate_to: localhost`): commands
 * run with `sh -c` here, with the same contract as the SSH transport (stdin fed then closed,
 * env exported inside the command, become through sudo, rc -1 on timeout, never throws on rc).
 */
import { spawn } from "node:child_process";
import { userInfo } from "node:os";
import type { ExecOptions, ExecResult, Transport } from "../transport/types.ts";
import { withEnv, wrapBecome } from "../transport/command.ts";

/** Runs commands on the controller. */
export class LocalTransport implements Transport {
  constructor(readonly host = "localhost") {}
  async connect(): Promise<void> {}
  async reconnect(): Promise<void> {}
  async close(): Promise<void> {}

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const plan = wrapBecome(withEnv(command, options.env), options.become, currentUser());
    // A become password goes first on stdin (sudo -S reads one line), then the command's input.
    const stdin = plan.password !== undefined ? Buffer.concat([Buffer.from(plan.password + "\n"), toBuffer(options.stdin)]) : toBuffer(options.stdin);
    return new Promise((resolve) => {
      const child = spawn("sh", ["-c", plan.command], { stdio: ["pipe", "pipe", "pipe"] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer = options.timeoutMs
        ? setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
          }, options.timeoutMs)
        : undefined;
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.stderr.on("data", (b: Buffer) => err.push(b));
      child.on("error", (e) => resolve({ rc: 127, stdout: "", stderr: String(e.message) }));
      child.on("close", (code) => {
        if (timer) clearTimeout(timer);
        resolve({ rc: timedOut || code === null ? -1 : code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
      });
      child.stdin.on("error", () => {});
      child.stdin.end(stdin);
    });
  }
}

function toBuffer(v: string | Uint8Array | undefined): Buffer {
  if (v === undefined) return Buffer.alloc(0);
  return typeof v === "string" ? Buffer.from(v) : Buffer.from(v);
}

let user: string | undefined;
function currentUser(): string {
  user ??= userInfo().username;
  return user;
}
