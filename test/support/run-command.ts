/**
 * Runs a command of the test suites (`npx zx run ...`, `./kubeconfig`, ansible-playbook) to its
 * end with a bound on its time: past `timeoutMs` it is sent `killSignal` (SIGINT by default,
 * the runner's own interrupt, so it still writes its report) and its result comes back as for
 * any other exit. Output is kept apart and interleaved as it arrived (`output`). NO_COLOR is
 * set: the suites read the plain text.
 */
import { spawn } from "node:child_process";

export interface CommandResult {
  /** The exit code; null when a signal ended the command. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr in the order they came. */
  output: string;
  seconds: number;
}

export interface RunCommandOptions {
  cwd: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  timeoutMs: number;
  killSignal?: NodeJS.Signals;
  /** "ignore": the command's stdin is not a terminal nor a pipe (a prompt is not asked). */
  stdin?: "pipe" | "ignore";
}

export function runCommand(command: string, args: readonly string[], options: RunCommandOptions): Promise<CommandResult> {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: "1", ...options.env },
      stdio: [options.stdin ?? "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let output = "";
    // stdio pins both to pipes.
    child.stdout!.on("data", (d) => {
      stdout += d;
      output += d;
    });
    child.stderr!.on("data", (d) => {
      stderr += d;
      output += d;
    });
    const timer = setTimeout(() => child.kill(options.killSignal ?? "SIGINT"), options.timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr, output, seconds: (Date.now() - started) / 1000 });
    });
  });
}
