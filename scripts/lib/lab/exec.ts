/**
 * Runs host commands for the lab (ip, losetup, debootstrap, ...) without a shell: arguments
 * are passed as an array, so nothing needs quoting.
 */
import { spawn } from "node:child_process";

/** What a finished host command produced. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@link run}. */
export interface RunOptions {
  /** Throw when the exit code is not 0 (default true). */
  check?: boolean;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Called with each chunk of output (for progress displays). */
  onOutput?: (chunk: string) => void;
  /** Text written to stdin. */
  input?: string;
}

/** A host command that failed: the message names the command and carries its stderr. */
export class CommandError extends Error {
  constructor(readonly argv: string[], readonly result: CommandResult) {
    super(`${argv.join(" ")} exited with ${result.code}: ${(result.stderr || result.stdout).trim().slice(-2000)}`);
    this.name = "CommandError";
  }
}

/** Runs `argv[0]` with the rest as arguments; resolves with its output. */
export function run(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      env: { ...process.env, ...options.env },
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      options.onOutput?.(d);
    });
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      options.onOutput?.(d);
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const result = { code: code ?? (signal ? 128 : 1), stdout, stderr };
      if (result.code !== 0 && options.check !== false) reject(new CommandError(argv, result));
      else resolve(result);
    });
  });
}

/** Runs a command and ignores its failure (for best-effort clean-up). */
export async function tryRun(argv: string[]): Promise<CommandResult> {
  try {
    return await run(argv, { check: false });
  } catch (e) {
    return { code: 127, stdout: "", stderr: String(e) };
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
