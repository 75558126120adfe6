/**
 * A transport runs commands on one target. Four verbs, as pyinfra's connectors: connect,
 * exec, (put and get are built on exec in remote-file helpers), close. Everything a module
 * does on a host goes through `exec`, so SSH, local and test fakes are interchangeable.
 */

export interface ExecResult {
  /** Exit status; -1 when the command was killed by a signal or timed out. */
  rc: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Bytes fed to the command's standard input (then closed). */
  stdin?: string | Uint8Array;
  /** Kill the command and resolve with rc -1 after this long (default: the transport's). */
  timeoutMs?: number;
  /** Run through `sudo -n -u <user>` (or with the become password on stdin). */
  become?: BecomeOptions;
  /** Environment for the command, exported in the remote shell (not sent via SSH env). */
  env?: Record<string, string>;
}

export interface BecomeOptions {
  user?: string;
  /** Fed on stdin to `sudo -S`, never put on a command line. */
  password?: string;
}

export interface Transport {
  /** The inventory name of the target. */
  readonly host: string;
  /** Opens the connection (idempotent). Throws UnreachableError with the reason. */
  connect(): Promise<void>;
  /** Runs one shell command (`sh -c` semantics on the target). Never throws for a non-zero rc. */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /**
   * Drops the connection and connects again, optionally to a new address (static-ip) and
   * waiting up to timeoutMs for the target to answer (after a reboot).
   */
  reconnect(options?: { address?: string; timeoutMs?: number }): Promise<void>;
  close(): Promise<void>;
}

/** The target could not be reached or authenticated: the host is marked unreachable. */
export class UnreachableError extends Error {
  constructor(
    readonly host: string,
    message: string,
  ) {
    super(message);
    this.name = "UnreachableError";
  }
}
