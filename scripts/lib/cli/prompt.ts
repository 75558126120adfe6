/**
 * Asking the user on the terminal: the become password (-K) without echo, and --step's
 * yes/no/continue. Both need a TTY on stdin; without one the caller gets a UsageError.
 */
import { ExitCode, UserError } from "../errors.ts";

function needTty(what: string): void {
  if (!process.stdin.isTTY) {
    throw new UserError(`${what} needs a terminal on stdin`, {
      exitCode: ExitCode.badOptions,
      hint: "Run from a terminal, or set ansible_become_password in the inventory (vaulted) instead.",
    });
  }
}

/** Reads one line from the terminal without echoing it (for passwords). */
export async function readSecretLine(prompt: string): Promise<string> {
  needTty("Asking for a password");
  const stdin = process.stdin;
  // Echo off BEFORE the prompt shows: what is typed (or pasted) as soon as it appears is not echoed.
  stdin.setRawMode(true);
  process.stderr.write(prompt);
  stdin.resume();
  stdin.setEncoding("utf8");
  try {
    return await new Promise<string>((resolve, reject) => {
      let text = "";
      const onData = (chunk: string) => {
        for (const c of chunk) {
          if (c === "\r" || c === "\n" || c === "\u0004") {
            stdin.off("data", onData);
            process.stderr.write("\n");
            resolve(text);
            return;
          }
          if (c === "\u0003") {
            stdin.off("data", onData);
            process.stderr.write("\n");
            reject(new UserError("Interrupted", { exitCode: ExitCode.interrupted }));
            return;
          }
          if (c === "\u007f" || c === "\b") text = text.slice(0, -1);
          else text += c;
        }
      };
      stdin.on("data", onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}

/** Reads one visible line from the terminal. */
export async function readLine(prompt: string): Promise<string> {
  needTty("--step");
  const { createInterface } = await import("node:readline");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await new Promise<string>((resolve) => rl.question(prompt, resolve));
  } finally {
    rl.close();
  }
}

/** --step's question, Ansible's wording: (N)o/(y)es/(c)ontinue. */
export async function askStep(taskName: string): Promise<"yes" | "no" | "continue"> {
  const answer = (await readLine(`Perform task: TASK: ${taskName} (N)o/(y)es/(c)ontinue: `)).trim().toLowerCase();
  return answer.startsWith("y") ? "yes" : answer.startsWith("c") ? "continue" : "no";
}
