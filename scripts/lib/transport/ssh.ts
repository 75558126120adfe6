/**
 * SSH transport on the `ssh2` package (pure JS, one TCP connection per host, many channels).
 *
 * Why ssh2 and not ssh2-promise (or spawning `ssh`): ssh2-promise ignores exit codes, treats
 * any stderr output as failure, waits ~50 s on a refused port and is unmaintained; spawning
 * the ssh binary costs a process per command and a handshake unless ControlMaster sockets are
 * managed. With ssh2 we hold one authenticated connection per host for the whole run and open
 * a cheap channel per command (~1 ms on loopback with TCP_NODELAY; Nagle's algorithm alone
 * adds ~45 ms per exec), cap concurrent channels below OpenSSH's MaxSessions (10), and keep
 * exit code, stdout and stderr apart. Host keys are checked by our own known_hosts code
 * (known-hosts.ts) through ssh2's hostVerifier. Plain commands (no stdin, no sudo password)
 * skip even the channel: they run in one long-lived remote shell (persistent-shell.ts), which
 * spares the target a new sshd session per command.
 */
import { connect as tcpConnect, type Socket } from "node:net";
import { readFileSync, existsSync } from "node:fs";
import type { Duplex } from "node:stream";
import ssh2 from "ssh2";
import type { ExecOptions, ExecResult, Transport } from "./types.ts";
import { UnreachableError } from "./types.ts";
import { explainSudoFailure, SudoPrompter, withEnv, withRemoteTimeout, wrapBecome } from "./command.ts";
import { Semaphore } from "./semaphore.ts";
import { MAX_SHELL_COMMAND_BYTES, PersistentShell, ShellClosedError } from "./persistent-shell.ts";

/** Decides whether the key presented by address:port is acceptable: true, or the reason to refuse. */
export type HostKeyCheck = (key: Buffer, address: string, port: number) => Promise<true | string>;

/** Everything SshTransport needs to reach and authenticate one target. */
export interface SshTransportOptions {
  /** Inventory name (messages, UnreachableError.host). */
  host: string;
  /** Address to connect to (ansible_host / HostName). */
  address: string;
  port: number;
  user: string;
  /** Key files to try in order; missing files are skipped (unless listed in requiredKeyFiles). */
  keyFiles?: string[];
  /** Key files the user named explicitly: a missing or unreadable one is an error. */
  requiredKeyFiles?: string[];
  /** ssh-agent socket (SSH_AUTH_SOCK); undefined = none. */
  agent?: string;
  /** Password authentication, only when given. */
  password?: string;
  /** Host key check; without one every key is accepted (tests only). */
  checkHostKey?: HostKeyCheck;
  /** TCP connect + SSH handshake limit (default 10 s). */
  connectTimeoutMs?: number;
  /** Default per-command limit (default: none). */
  commandTimeoutMs?: number;
  /** SSH keepalive interval, OpenSSH's ServerAliveInterval (default 15 s; 0 = none). */
  keepaliveIntervalMs?: number;
  /** Keepalives that may go unanswered before the connection counts as dead (ServerAliveCountMax, default 3). */
  keepaliveCountMax?: number;
  /** Concurrent channels on the connection (default 6, below OpenSSH's MaxSessions 10). */
  maxChannels?: number;
  /** ProxyJump: the target is reached through a channel of this host's connection. */
  jump?: SshTransportOptions;
  /** Run plain commands through one long-lived remote shell (default true; persistent-shell.ts). */
  persistentShell?: boolean;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** The second line of every lost-connection message: what to do once the node is back. */
const RERUN_HINT = "The command may have finished on the node or not: files the runner writes are replaced whole or left as they were. When the node answers again, run again (a playbook run prints the --limit that retries only such hosts after its recap).";
const CHANNEL_RETRIES = 40;

function seconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

function displayPath(path: string): string {
  const home = process.env.HOME;
  return home && path.startsWith(home + "/") ? "~" + path.slice(home.length) : path;
}

/** An authentication attempt for ssh2's authHandler array, with its description for errors. */
interface AuthAttempt {
  method: Record<string, unknown>;
  label: string;
}

/** One host over SSH: one connection, up to `maxChannels` commands at once. */
export class SshTransport implements Transport {
  readonly host: string;
  private client?: ssh2.Client;
  private connecting?: Promise<void>;
  private jumpTransport?: SshTransport;
  private readonly channels: Semaphore;
  private options: SshTransportOptions;
  /**
   * The host key this host proved in this run: a reconnect at a new address (static-ip switch)
   * that presents the same key is the same machine, even though known_hosts lacks the address.
   */
  private verifiedHostKey?: Buffer;
  /** Bumped by close(): a handshake finishing after close() must not resurrect the connection. */
  private generation = 0;
  /** Channel opens the server refused and we retried (MaxSessions reached): for diagnostics. */
  channelRetries = 0;
  /** The connection's long-lived shell for plain commands, and the connection it runs on. */
  private shell?: { client: ssh2.Client; shell: PersistentShell };
  private shellOpening?: Promise<PersistentShell | undefined>;
  /** Set when this server would not give us a shell: exec channels only from then on. */
  private shellRefused = false;
  /** Commands run through the shell rather than an exec channel: for diagnostics and tests. */
  shellRuns = 0;
  /** Why the connection of this client went away, when we know: it fell silent (keepalives unanswered) or a socket error. */
  private readonly lost = new WeakMap<ssh2.Client, { silent: boolean; reason: string }>();

  constructor(options: SshTransportOptions) {
    this.options = options;
    this.host = options.host;
    this.channels = new Semaphore(options.maxChannels ?? 6);
  }

  /** The address:port currently targeted. */
  get target(): string {
    return `${this.options.address}:${this.options.port}`;
  }

  connect(): Promise<void> {
    if (this.client) return Promise.resolve();
    if (!this.connecting) {
      this.connecting = this.open().finally(() => (this.connecting = undefined));
    }
    return this.connecting;
  }

  private async openSocket(timeoutMs: number): Promise<Duplex> {
    const { address, port } = this.options;
    if (this.options.jump) {
      this.jumpTransport ??= new SshTransport(this.options.jump);
      try {
        await this.jumpTransport.connect();
      } catch (e) {
        throw new UnreachableError(this.host, `via jump host ${this.options.jump.host}: ${(e as Error).message}`);
      }
      const jumpHost = this.options.jump.host;
      // The jump host's own TCP connect may take minutes to fail: our connect timeout applies.
      let timer: ReturnType<typeof setTimeout> | undefined;
      let gaveUp = false;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          gaveUp = true;
          reject(new UnreachableError(this.host, `timed out after ${seconds(timeoutMs)} connecting to ${address}:${port} via jump host ${jumpHost}`));
        }, timeoutMs);
      });
      const forwarded = this.jumpTransport.forwardOut(address, port).catch((e: Error) => {
        throw new UnreachableError(this.host, `jump host ${jumpHost} could not reach ${address}:${port}: ${e.message}`);
      });
      try {
        return await Promise.race([forwarded, timeout]);
      } finally {
        clearTimeout(timer);
        // A channel that opens after we gave up is closed, not leaked.
        forwarded.then(
          (stream) => gaveUp && stream.destroy(),
          () => {},
        );
      }
    }
    return new Promise<Socket>((resolve, reject) => {
      const socket = tcpConnect({ host: address, port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new UnreachableError(this.host, `timed out after ${seconds(timeoutMs)} connecting to ${address}:${port}\n${connectTimeoutHint(timeoutMs)}`));
      }, timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.removeAllListeners("error");
        resolve(socket);
      });
      socket.once("error", (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        reject(new UnreachableError(this.host, describeSocketError(e, address, port)));
      });
    });
  }

  /** Builds the ordered list of authentication attempts (agent, key files, password). */
  private authAttempts(): { attempts: AuthAttempt[]; skipped: string[] } {
    const { user } = this.options;
    const attempts: AuthAttempt[] = [];
    const required = new Set(this.options.requiredKeyFiles ?? []);
    const files = [...(this.options.requiredKeyFiles ?? []), ...(this.options.keyFiles ?? [])];
    const seen = new Set<string>();
    // Default keys we could not use, named in the failure message (an encrypted id_ed25519
    // not loaded in the agent is the classic "why does ssh work and this not").
    const skipped: string[] = [];
    if (this.options.agent) attempts.push({ method: { type: "agent", username: user, agent: this.options.agent }, label: "agent" });
    for (const file of files) {
      if (seen.has(file)) continue;
      seen.add(file);
      if (!existsSync(file)) {
        if (required.has(file)) throw new UnreachableError(this.host, `private key file ${displayPath(file)} does not exist`);
        continue;
      }
      let key: Buffer;
      try {
        key = readFileSync(file);
      } catch (e) {
        throw new UnreachableError(this.host, `cannot read private key file ${displayPath(file)}: ${(e as Error).message}`);
      }
      const parsed = ssh2.utils.parseKey(key);
      if (parsed instanceof Error) {
        if (/encrypted|passphrase/i.test(parsed.message)) {
          if (required.has(file)) {
            throw new UnreachableError(this.host, `private key ${displayPath(file)} is encrypted with a passphrase: load it into ssh-agent (ssh-add ${displayPath(file)}) and run again`);
          }
          skipped.push(`${displayPath(file)} skipped: encrypted, not in the agent (ssh-add ${displayPath(file)})`);
          continue;
        }
        if (required.has(file)) throw new UnreachableError(this.host, `cannot parse private key ${displayPath(file)}: ${parsed.message}`);
        skipped.push(`${displayPath(file)} skipped: ${parsed.message}`);
        continue;
      }
      attempts.push({ method: { type: "publickey", username: user, key }, label: `key ${displayPath(file)}` });
    }
    const password = this.options.password;
    if (password !== undefined) {
      attempts.push({ method: { type: "password", username: user, password }, label: "password" });
      // Servers with PasswordAuthentication off but keyboard-interactive on ask the same question.
      attempts.push({
        method: {
          type: "keyboard-interactive",
          username: user,
          prompt: (_name: string, _instructions: string, _lang: string, prompts: unknown[], finish: (answers: string[]) => void) => finish(prompts.map(() => password)),
        },
        label: "keyboard-interactive",
      });
    }
    return { attempts, skipped };
  }

  private async open(): Promise<void> {
    try {
      await this.handshake();
    } catch (e) {
      // The jump host's connection was opened for this target only: left open, it would keep
      // the process alive after the run (and hold a session on the jump host).
      const jump = this.jumpTransport;
      this.jumpTransport = undefined;
      await jump?.close();
      throw e;
    }
  }

  private async handshake(): Promise<void> {
    const timeoutMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const started = Date.now();
    const generation = this.generation;
    const { attempts, skipped } = this.authAttempts();
    const { address, port, user } = this.options;
    const skippedNote = skipped.length ? `; ${skipped.join("; ")}` : "";
    if (attempts.length === 0) {
      throw new UnreachableError(this.host, `no way to authenticate as ${user} to ${address}:${port}: no ssh-agent (SSH_AUTH_SOCK), no usable key file (~/.ssh/id_ed25519, id_ecdsa, id_rsa) and no password${skippedNote}`);
    }
    const sock = await this.openSocket(timeoutMs);
    const client = new ssh2.Client();
    let hostKeyRefusal: string | undefined;
    const check = this.options.checkHostKey;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (message: string) => {
        if (settled) return;
        settled = true;
        client.end();
        sock.destroy();
        reject(new UnreachableError(this.host, message));
      };
      client.once("ready", () => {
        settled = true;
        resolve();
      });
      client.on("error", (e: Error & { level?: string }) => {
        if (hostKeyRefusal) return fail(hostKeyRefusal);
        if (e.level === "client-authentication") {
          return fail(`authentication failed for user ${user} on ${address}:${port} (tried ${attempts.map((a) => a.label).join(", ")}${skippedNote})`);
        }
        if (e.level === "client-timeout") return fail(`timed out after ${seconds(timeoutMs)} during the SSH handshake with ${address}:${port}: its sshd accepts connections but does not answer\n${connectTimeoutHint(timeoutMs)}`);
        fail(`SSH connection to ${address}:${port} failed: ${e.message}`);
      });
      client.once("close", () => fail(hostKeyRefusal ?? `connection to ${address}:${port} closed during the SSH handshake`));
      client.connect({
        sock: sock as Socket,
        username: user,
        readyTimeout: Math.max(1000, timeoutMs - (Date.now() - started)),
        keepaliveInterval: this.keepaliveIntervalMs,
        keepaliveCountMax: this.keepaliveCountMax,
        authHandler: attempts.map((a) => a.method) as never,
        hostVerifier: check
          ? (key: Buffer, verify: (ok: boolean) => void) => {
              if (this.verifiedHostKey?.equals(key)) return verify(true);
              check(key, address, port).then(
                (result) => {
                  if (result !== true) hostKeyRefusal = result;
                  else this.verifiedHostKey = Buffer.from(key);
                  verify(result === true);
                },
                (e: Error) => {
                  hostKeyRefusal = `host key check failed: ${e.message}`;
                  verify(false);
                },
              );
            }
          : undefined,
      } as ssh2.ConnectConfig);
    });
    if (generation !== this.generation) {
      client.end();
      throw new UnreachableError(this.host, `connection to ${address}:${port} closed while connecting`);
    }
    // After the handshake, a dropped connection just means "connect again next time"; the
    // reason is kept for the command that was running.
    let heard = Date.now();
    sock.on("data", () => (heard = Date.now()));
    client.removeAllListeners("error");
    client.on("error", (e: Error & { level?: string; code?: string }) => {
      if (this.lost.has(client)) return;
      if (e.level === "client-timeout") {
        const interval = this.keepaliveIntervalMs;
        const silence = seconds(Math.round((Date.now() - heard) / 1000) * 1000);
        this.lost.set(client, { silent: true, reason: `no answer from ${address}:${port} for ${silence}: the host stopped responding (${this.keepaliveCountMax} SSH keepalives ${seconds(interval)} apart went unanswered)` });
      } else if (e.code) this.lost.set(client, { silent: false, reason: describeSocketError(e, address, port) });
    });
    client.on("close", () => {
      if (this.client === client) this.client = undefined;
    });
    this.client = client;
  }

  /** Opens a direct-tcpip channel to address:port through this connection (for ProxyJump). */
  async forwardOut(address: string, port: number): Promise<Duplex> {
    await this.connect();
    // The forwarded stream outlives the slot (held only while opening): MaxSessions counts
    // session channels, not direct-tcpip ones.
    return this.withChannel(
      (client) =>
        new Promise<Duplex>((resolve, reject) => {
          client.forwardOut("127.0.0.1", 0, address, port, (err, stream) => (err ? reject(err) : resolve(stream)));
        }),
      // Not retried: a refusal here is the target's port refusing, not MaxSessions (which
      // counts session channels only).
      false,
    );
  }

  /** Runs fn with a channel slot, retrying (if `retry`) when the server refuses to open a channel. */
  private async withChannel<T>(fn: (client: ssh2.Client) => Promise<T>, retry = true): Promise<T> {
    await this.channels.acquire();
    try {
      for (let attempt = 0; ; attempt++) {
        await this.connect();
        const client = this.client!;
        try {
          return await fn(client);
        } catch (e) {
          const message = (e as Error).message ?? "";
          if (retry && attempt < CHANNEL_RETRIES && /open failed|Channel open failure|No free channels/i.test(message)) {
            this.channelRetries++;
            await new Promise((r) => setTimeout(r, Math.min(10 * (attempt + 1), 200)));
            continue;
          }
          throw e;
        }
      }
    } finally {
      this.channels.release();
    }
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    await this.connect();
    const client = this.client;
    const timeoutMs = options.timeoutMs ?? this.options.commandTimeoutMs;
    const full = withRemoteTimeout(withEnv(command, options.env), timeoutMs);
    const plan = wrapBecome(full, options.become, this.options.user);
    const becomeUser = options.become?.user || "root";
    let result: ExecResult;
    try {
      const plain = plan.password === undefined && !(options.stdin !== undefined && options.stdin.length > 0) && Buffer.byteLength(plan.command) <= MAX_SHELL_COMMAND_BYTES;
      const shell = plain ? await this.idleShell() : undefined;
      // Claimed in the same tick as checked: a concurrent exec that saw it idle too takes a channel.
      result = shell?.idle
        ? await this.runInShell(shell, plan.command, timeoutMs)
        : await this.withChannel((client) => runChannel(client, plan.command, options.stdin, plan.password, timeoutMs, () => this.client !== client));
    } catch (e) {
      if (e instanceof UnreachableError) throw e;
      // The connection went away under us (reboot, network, a hung host): the host is unreachable.
      throw new UnreachableError(this.host, this.lostMessage(client));
    }
    if (options.become && plan.command !== full && result.rc !== 0) {
      const explained = explainSudoFailure(result.stderr, becomeUser);
      if (explained) result = { ...result, stderr: `${explained}\n${result.stderr}` };
    }
    return result;
  }

  private get keepaliveIntervalMs(): number {
    return this.options.keepaliveIntervalMs ?? 15_000;
  }

  private get keepaliveCountMax(): number {
    return this.options.keepaliveCountMax ?? 3;
  }

  /** What to tell the user when the connection of `client` went away under a command: what happened, then what to do. */
  private lostMessage(client: ssh2.Client | undefined): string {
    const lost = client && this.lost.get(client);
    if (lost?.silent) {
      return [
        `lost the SSH connection while the command ran: ${lost.reason}`,
        `Check that the node is powered, on the network and not overloaded. The limit is ServerAliveInterval x ServerAliveCountMax (now ${seconds(this.keepaliveIntervalMs)} x ${this.keepaliveCountMax}): set them with -o in ansible_ssh_common_args (or ssh_args in ansible.cfg) or in ~/.ssh/config.`,
        RERUN_HINT,
      ].join("\n");
    }
    return [
      `lost the SSH connection to ${this.target} while the command ran: ${lost?.reason ?? "the connection closed (the host rebooted, sshd stopped, or the network dropped)"}`,
      RERUN_HINT,
    ].join("\n");
  }

  /**
   * The connection's shell when it is free (opened on first use), else undefined: the command
   * then takes an exec channel, so concurrent commands never wait for each other.
   */
  private async idleShell(): Promise<PersistentShell | undefined> {
    if (this.options.persistentShell === false || this.shellRefused) return undefined;
    const current = this.shell;
    if (current && !current.shell.closed && current.client === this.client) return current.shell.idle ? current.shell : undefined;
    if (this.shellOpening) return undefined;
    this.shellOpening = this.withChannel(
      (client) =>
        new Promise<PersistentShell | undefined>((resolve) => {
          client.exec("exec /bin/sh", (err, channel) => {
            if (err) {
              this.shellRefused = !/open failed|Channel open failure|No free channels/i.test(err.message);
              return resolve(undefined);
            }
            const shell = new PersistentShell(channel);
            this.shell = { client, shell };
            resolve(shell);
          });
        }),
    )
      .catch(() => undefined)
      .finally(() => (this.shellOpening = undefined));
    const shell = await this.shellOpening;
    return shell?.idle ? shell : undefined;
  }

  /** One command through the shell, with the exec channel's timeout and lost-connection rules. */
  private async runInShell(shell: PersistentShell, command: string, timeoutMs: number | undefined): Promise<ExecResult> {
    const client = this.client;
    const started = Date.now();
    this.shellRuns++;
    let result: ExecResult;
    try {
      // The target's `timeout` (withRemoteTimeout) ends the command first; ours is the backstop.
      result = await shell.run(command, timeoutMs && timeoutMs > 0 ? timeoutMs + 2000 : undefined);
    } catch (e) {
      if (!(e instanceof ShellClosedError)) throw e;
      // The client's 'close' may come right after the channel's: look once the loop turns.
      await new Promise((r) => setImmediate(r));
      if (this.client !== client) throw new Error("Connection closed while the command ran");
      return { rc: -1, stdout: e.stdout, stderr: `${e.stderr}no exit status received\n` };
    }
    // 137 (KILL) at the deadline is the target's `timeout`: report it as ours, like runChannel.
    if (timeoutMs && timeoutMs > 0 && (result.rc === 137 || result.rc === -1) && Date.now() - started >= timeoutMs - 50) {
      return { rc: -1, stdout: result.stdout, stderr: `${result.stderr.replace(/command timed out after .*\n$/, "")}command timed out after ${seconds(timeoutMs)}\n` };
    }
    return result;
  }

  async reconnect(options: { address?: string; timeoutMs?: number } = {}): Promise<void> {
    await this.close();
    if (options.address) this.options = { ...this.options, address: options.address };
    const deadline = Date.now() + (options.timeoutMs ?? 0);
    for (;;) {
      try {
        await this.connect();
        return;
      } catch (e) {
        // Refused/timed out while the target boots: poll until the deadline. Host key and
        // authentication refusals are final.
        const message = (e as Error).message;
        const transient = /refused|timed out|closed during|reset|unreachable|no route|EHOSTUNREACH|ENETUNREACH|not known|handshake/i.test(message) && !/host key|authentication failed/i.test(message);
        if (!transient || Date.now() >= deadline) throw e;
        await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, deadline - Date.now()))));
      }
    }
  }

  async close(): Promise<void> {
    this.generation++;
    this.shell?.shell.close();
    this.shell = undefined;
    const client = this.client;
    this.client = undefined;
    if (client) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        client.once("close", () => {
          clearTimeout(timer);
          resolve();
        });
        client.end();
      });
    }
    if (this.jumpTransport) {
      await this.jumpTransport.close();
      this.jumpTransport = undefined;
    }
  }
}

/** The second line of a connect timeout: what to check, and where the limit is set. */
function connectTimeoutHint(timeoutMs: number): string {
  return `Check that the node is powered and on the network. The limit (now ${seconds(timeoutMs)}) is timeout in ansible.cfg, ANSIBLE_TIMEOUT or a host's ansible_ssh_timeout.`;
}

function describeSocketError(e: NodeJS.ErrnoException, address: string, port: number): string {
  switch (e.code) {
    case "ECONNREFUSED":
      return `connection refused on ${address}:${port}`;
    case "EHOSTUNREACH":
      return `no route to host ${address}:${port}`;
    case "ENETUNREACH":
      return `network unreachable for ${address}:${port}`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot resolve host name ${address}`;
    case "ECONNRESET":
      return `connection reset by ${address}:${port}`;
    default:
      return `cannot connect to ${address}:${port}: ${e.message}`;
  }
}

/**
 * One command on one channel: stdout/stderr kept apart, stdin written then closed, rc from
 * the exit status (-1 on signal or timeout). With a sudo password, stderr is watched for our
 * prompt marker (send the password) and ready marker (sudo is done: send the real stdin).
 */
function runChannel(
  client: ssh2.Client,
  command: string,
  stdin: string | Uint8Array | undefined,
  sudoPassword: string | undefined,
  timeoutMs: number | undefined,
  connectionLost: () => boolean,
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      const out: Buffer[] = [];
      const errChunks: Buffer[] = [];
      let rc: number | undefined;
      let signal: string | undefined;
      let timedOut = false;
      const started = Date.now();
      const timer =
        timeoutMs && timeoutMs > 0
          ? setTimeout(() => {
              timedOut = true;
              // The target's `timeout` (withRemoteTimeout) kills the process; we stop waiting.
              stream.close();
            }, timeoutMs)
          : undefined;
      const sendStdin = () => {
        if (stdin !== undefined && stdin.length > 0) stream.end(Buffer.from(stdin as Uint8Array));
        else stream.end();
      };

      // Sudo password dance: stderr goes through the prompter until sudo is through.
      const sudo = sudoPassword !== undefined ? new SudoPrompter(sudoPassword, (t) => stream.write(t), sendStdin) : undefined;

      stream.on("data", (b: Buffer) => out.push(b));
      stream.stderr.on("data", (b: Buffer) => {
        if (sudo?.pending) {
          errChunks.push(Buffer.from(sudo.feed(b)));
          // Asked twice: wrong password. Stop rather than let sudo wait for another line.
          if (sudo.failed) stream.close();
        } else errChunks.push(b);
      });
      stream.on("exit", (code: number | null, sig?: string) => {
        if (typeof code === "number") rc = code;
        else if (sig) signal = sig;
      });
      stream.on("error", () => {});
      stream.on("close", () => {
        if (timer) clearTimeout(timer);
        if (sudo) errChunks.push(Buffer.from(sudo.flush()));
        let stderr = Buffer.concat(errChunks).toString("utf8");
        // The target's `timeout` may beat our timer by a hair: 137 (KILL) at the deadline is ours.
        if (!timedOut && timeoutMs && rc === 137 && Date.now() - started >= timeoutMs - 50) timedOut = true;
        if (timedOut) {
          resolve({ rc: -1, stdout: Buffer.concat(out).toString("utf8"), stderr: stderr + `command timed out after ${seconds(timeoutMs!)}\n` });
          return;
        }
        if (signal && rc === undefined) stderr += `killed by signal ${signal}\n`;
        if (rc === undefined && !signal) {
          // No exit status: the connection died under the command (reboot, network). The
          // client's 'close' may come right after the channel's: look once the loop turns.
          setImmediate(() => {
            if (connectionLost()) reject(new Error("Connection closed while the command ran"));
            else resolve({ rc: -1, stdout: Buffer.concat(out).toString("utf8"), stderr: stderr + "no exit status received\n" });
          });
          return;
        }
        resolve({ rc: rc ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr });
      });
      if (!sudo) sendStdin();
    });
  });
}
