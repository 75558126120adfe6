/**
 * Builds the exact remote command line for one exec: environment exported inside the command
 * (sshd refuses most `env` requests, and sudo would reset them anyway), then become wrapping
 * applied once, around the finished command. Pure functions, shared by the SSH and local
 * transports.
 */
import { quote } from "../shell/quote.ts";
import type { BecomeOptions } from "./types.ts";

/** Printed by sudo -S as its prompt (to stderr), so we know when to send the password. */
export const SUDO_PROMPT_MARKER = "[sudo-prompt:7f3a]";
/** Printed to stderr by the become'd shell before the command runs: sudo is done with stdin. */
export const SUDO_READY_MARKER = "[sudo-ready:7f3a]";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `export K='v'; cmd` for each entry (names checked: a bad name would break the shell). */
export function withEnv(command: string, env: Record<string, string> | undefined): string {
  if (!env || Object.keys(env).length === 0) return command;
  const exports = Object.entries(env).map(([name, value]) => {
    if (!ENV_NAME.test(name)) throw new Error(`invalid environment variable name: ${JSON.stringify(name)}`);
    return `export ${name}=${quote(value)}`;
  });
  return `${exports.join("; ")}; ${command}`;
}

/** What become needs for one exec: the command to send, and how stdin must be handled. */
export interface BecomePlan {
  command: string;
  /** The password to write when sudo prompts (SUDO_PROMPT_MARKER on stderr), if any. */
  password?: string;
}

/**
 * Wraps `command` in sudo for `become`. Without a password: `sudo -n` (fails at once instead
 * of hanging on a prompt). With one: `sudo -S` with our marker as the prompt; the shell under
 * sudo prints a ready marker first, so the caller sends the password only if sudo asks and
 * sends the command's own stdin only once sudo has let go of it (NOPASSWD and cached
 * credentials included). `connectedUser` root and become user root: no sudo at all.
 */
export function wrapBecome(command: string, become: BecomeOptions | undefined, connectedUser: string): BecomePlan {
  if (!become) return { command };
  const user = become.user || "root";
  // Already that user (root connecting as root, the usual Pi image case): sudo adds nothing.
  if (user === connectedUser) return { command };
  if (become.password === undefined || become.password === "") {
    return { command: `sudo -n -u ${quote(user)} -- sh -c ${quote(command)}` };
  }
  const inner = `printf '%s' ${quote(SUDO_READY_MARKER)} >&2; ${command}`;
  return {
    command: `sudo -S -p ${quote(SUDO_PROMPT_MARKER)} -u ${quote(user)} -- sh -c ${quote(inner)}`,
    password: become.password,
  };
}

/** Recognizes sudo refusing for lack of a password and says what to do. */
export function explainSudoFailure(stderr: string, user: string): string | undefined {
  if (/a password is required|a terminal is required|no tty present/i.test(stderr)) {
    return `become (sudo to ${user}) needs a password: pass --ask-become-pass (-K) or set ansible_become_password, or allow NOPASSWD in sudoers`;
  }
  if (/incorrect password|Sorry, try again/i.test(stderr)) {
    return `become (sudo to ${user}): incorrect become password`;
  }
  if (/is not in the sudoers file|is not allowed to execute/i.test(stderr)) {
    return `become (sudo to ${user}) refused by sudoers: ${stderr.trim().split("\n")[0]}`;
  }
  if (/sudo: (command )?not found|sudo: not found/.test(stderr)) {
    return `become needs sudo, which is not installed on the target`;
  }
  return undefined;
}

/**
 * Drives `sudo -S` with our markers on one running command: `feed` every stderr chunk while
 * `pending`; it writes the password when sudo prompts, then calls `sendStdin` once sudo has
 * handed over (ready marker), and returns the stderr text that belongs to the user.
 */
export class SudoPrompter {
  pending = true;
  /** Set when sudo asked twice (wrong password): the caller should stop the command. */
  failed = false;
  private buffer = "";
  private prompts = 0;

  constructor(
    private readonly password: string,
    private readonly write: (text: string) => void,
    private readonly sendStdin: () => void,
  ) {}

  /** Consumes a stderr chunk; returns the part to keep as the command's stderr. */
  feed(chunk: Buffer): string {
    this.buffer += chunk.toString("utf8");
    let kept = "";
    for (;;) {
      const p = this.buffer.indexOf(SUDO_PROMPT_MARKER);
      const r = this.buffer.indexOf(SUDO_READY_MARKER);
      if (p >= 0 && (r < 0 || p < r)) {
        kept += this.buffer.slice(0, p);
        this.buffer = this.buffer.slice(p + SUDO_PROMPT_MARKER.length);
        if (++this.prompts > 1) {
          this.failed = true;
          this.pending = false;
          kept += this.buffer + "sudo: incorrect password\n";
          this.buffer = "";
          return kept;
        }
        this.write(this.password + "\n");
        continue;
      }
      if (r >= 0) {
        kept += this.buffer.slice(0, r) + this.buffer.slice(r + SUDO_READY_MARKER.length);
        this.buffer = "";
        this.pending = false;
        this.sendStdin();
        return kept;
      }
      // Keep a possible marker prefix for the next chunk; the rest is sudo's own output.
      const keepFrom = Math.max(0, this.buffer.length - SUDO_PROMPT_MARKER.length);
      kept += this.buffer.slice(0, keepFrom);
      this.buffer = this.buffer.slice(keepFrom);
      return kept;
    }
  }

  /** Whatever is left when the command ends. */
  flush(): string {
    const rest = this.buffer;
    this.buffer = "";
    return rest;
  }
}

/**
 * Makes the target itself kill the command after `timeoutMs`: sshd ignores SSH "signal"
 * requests and closing a channel without a pty does not stop the process, so a client-side
 * timer alone would leave it running. coreutils/busybox `timeout` kills the whole process
 * group; where it is missing the command runs unguarded (the client still gives up).
 */
export function withRemoteTimeout(command: string, timeoutMs: number | undefined): string {
  if (!timeoutMs || timeoutMs <= 0) return command;
  const secs = (Math.ceil(timeoutMs / 10) / 100).toString();
  return `if command -v timeout >/dev/null 2>&1; then exec timeout -s KILL ${secs} sh -c ${quote(command)}; else ${command}
fi`;
}
