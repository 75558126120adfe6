/**
 * One long-lived `sh` per SSH connection that runs commands one after another. An exec
 * channel costs the target a new sshd session (fork, environment, login shell) for every
 * command: ~4 ms here, most of a no-op task's cost. Through this shell a command costs a
 * subshell fork: ~0.2 ms. The SSH transport uses it for plain commands (no stdin, no sudo
 * password, not too long) when it is idle, and exec channels for everything else.
 *
 * Each command runs as `( eval '<command>' ) </dev/null` followed by end markers carrying a
 * random nonce, on stdout with the exit status and on stderr: the subshell keeps `exit`, `cd`,
 * `set -e` and syntax errors from touching the shell, and </dev/null keeps the command from
 * reading the stream of commands that follow it.
 */
import { randomBytes } from "node:crypto";
import type { ClientChannel } from "ssh2";
import type { ExecResult } from "./types.ts";
import { quote } from "../shell/quote.ts";

/** Longer commands go through an exec channel (the shell reads its input in small pieces). */
export const MAX_SHELL_COMMAND_BYTES = 16 * 1024;

/** The text written to the shell for one command (pure, for tests). */
export function shellFrame(command: string, nonce: string): string {
  return `( eval ${quote(command)}\n) </dev/null\nprintf '\\n@@PI_END_${nonce} %d\\n' "$?"\nprintf '\\n@@PI_END_${nonce}\\n' >&2\n`;
}

/** Finds the end marker at the end of a stream's text; returns the output before it and the status. */
export function parseFrameEnd(text: string, nonce: string, withStatus: boolean): { output: string; rc?: number } | undefined {
  const pattern = withStatus ? new RegExp(`\\n@@PI_END_${nonce} (\\d+)\\n$`) : new RegExp(`\\n@@PI_END_${nonce}\\n$`);
  const m = pattern.exec(text);
  if (!m) return undefined;
  return { output: text.slice(0, m.index), rc: withStatus ? Number(m[1]) : undefined };
}

interface Pending {
  resolve: (r: ExecResult) => void;
  reject: (e: Error) => void;
  stdout: Buffer[];
  stderr: Buffer[];
  timer?: NodeJS.Timeout;
}

export class PersistentShell {
  readonly #channel: ClientChannel;
  readonly #nonce = randomBytes(8).toString("hex");
  #pending?: Pending;
  #closed = false;

  constructor(channel: ClientChannel) {
    this.#channel = channel;
    channel.on("data", (b: Buffer) => this.#received("stdout", b));
    channel.stderr.on("data", (b: Buffer) => this.#received("stderr", b));
    channel.on("error", () => {});
    channel.on("close", () => this.#onClose());
  }

  /** Free to take a command now. */
  get idle(): boolean {
    return !this.#closed && this.#pending === undefined;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs one command. A timeout gives rc -1 and closes the shell (its state is unknown then);
   * a shell that dies under a command gives that command rc -1 and "no exit status".
   */
  run(command: string, timeoutMs?: number): Promise<ExecResult> {
    if (!this.idle) return Promise.reject(new Error("persistent shell busy or closed"));
    return new Promise((resolve, reject) => {
      const pending: Pending = { resolve, reject, stdout: [], stderr: [] };
      if (timeoutMs && timeoutMs > 0) {
        pending.timer = setTimeout(() => {
          this.#finish({ rc: -1, stdout: Buffer.concat(pending.stdout).toString("utf8"), stderr: `${Buffer.concat(pending.stderr).toString("utf8")}command timed out after ${timeoutMs / 1000} s\n` });
          this.close();
        }, timeoutMs);
      }
      this.#pending = pending;
      this.#channel.write(shellFrame(command, this.#nonce));
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#channel.close();
  }

  #received(stream: "stdout" | "stderr", b: Buffer): void {
    const p = this.#pending;
    if (!p) return;
    p[stream].push(b);
    // The markers end each stream's text: cheap to test the tail before decoding everything.
    const out = parseFrameEnd(tail(p.stdout), this.#nonce, true);
    if (!out) return;
    const err = parseFrameEnd(tail(p.stderr), this.#nonce, false);
    if (!err) return;
    const stdout = parseFrameEnd(Buffer.concat(p.stdout).toString("utf8"), this.#nonce, true)!;
    const stderr = parseFrameEnd(Buffer.concat(p.stderr).toString("utf8"), this.#nonce, false)!;
    this.#finish({ rc: stdout.rc!, stdout: stdout.output, stderr: stderr.output });
  }

  #finish(result: ExecResult): void {
    const p = this.#pending;
    if (!p) return;
    this.#pending = undefined;
    if (p.timer) clearTimeout(p.timer);
    p.resolve(result);
  }

  #onClose(): void {
    this.#closed = true;
    const p = this.#pending;
    if (!p) return;
    this.#pending = undefined;
    if (p.timer) clearTimeout(p.timer);
    p.reject(new ShellClosedError(Buffer.concat(p.stdout).toString("utf8"), Buffer.concat(p.stderr).toString("utf8")));
  }
}

/** The shell's channel closed while a command ran (connection lost, or the shell itself died). */
export class ShellClosedError extends Error {
  constructor(
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super("the remote shell closed while the command ran");
  }
}

/** The last 64 bytes or more of a stream: enough to hold an end marker. */
function tail(chunks: Buffer[]): string {
  let i = chunks.length;
  let size = 0;
  while (i > 0 && size < 64) size += chunks[--i].length;
  return Buffer.concat(chunks.slice(i)).toString("utf8");
}
