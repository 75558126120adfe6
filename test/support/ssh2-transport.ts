/**
 * A minimal ssh2 Transport for module tests (one connection, one channel per command,
 * TCP_NODELAY), used until the project's SSH transport is available to them. Host key
 * pinned to the one the test's sshd was started with.
 */
import { createConnection } from "node:net";
import { createHash } from "node:crypto";
import ssh2 from "ssh2";
import type { ExecOptions, ExecResult, Transport } from "../../scripts/lib/transport/types.ts";
import { UnreachableError } from "../../scripts/lib/transport/types.ts";

export interface Ssh2TransportOptions {
  host: string;
  address: string;
  port: number;
  username: string;
  privateKey: string | Buffer;
  /** The server's public host key blob (base64 field of the .pub file), pinned. */
  hostKeyBase64: string;
}

export class Ssh2Transport implements Transport {
  readonly host: string;
  private client?: ssh2.Client;

  constructor(private readonly options: Ssh2TransportOptions) {
    this.host = options.host;
  }

  connect(): Promise<void> {
    if (this.client) return Promise.resolve();
    const { address, port, username, privateKey, hostKeyBase64 } = this.options;
    const pinned = createHash("sha256").update(Buffer.from(hostKeyBase64, "base64")).digest("hex");
    return new Promise((resolve, reject) => {
      const sock = createConnection({ host: address, port });
      sock.setNoDelay(true);
      const client = new ssh2.Client();
      client
        .on("ready", () => {
          this.client = client;
          resolve();
        })
        .on("error", (e) => reject(new UnreachableError(this.host, e.message)))
        .connect({
          sock,
          username,
          privateKey,
          hostVerifier: (key: Buffer) => createHash("sha256").update(key).digest("hex") === pinned,
        });
    });
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    await this.connect();
    const client = this.client!;
    const env = Object.entries(options.env ?? {}).map(([k, v]) => `export ${k}='${v.replaceAll("'", `'\\''`)}'; `).join("");
    return new Promise((resolve, reject) => {
      client.exec(env + command, (err, stream) => {
        if (err) return reject(new UnreachableError(this.host, err.message));
        const out: Buffer[] = [];
        const errs: Buffer[] = [];
        let rc = -1;
        const timer = options.timeoutMs ? setTimeout(() => stream.close(), options.timeoutMs) : undefined;
        stream.on("data", (b: Buffer) => out.push(b));
        stream.stderr.on("data", (b: Buffer) => errs.push(b));
        stream.on("exit", (code: number | null) => {
          rc = code ?? -1;
        });
        stream.on("close", () => {
          if (timer) clearTimeout(timer);
          resolve({ rc, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(errs).toString("utf8") });
        });
        stream.end(options.stdin ?? undefined);
      });
    });
  }

  async reconnect(): Promise<void> {
    await this.close();
    await this.connect();
  }

  async close(): Promise<void> {
    this.client?.end();
    this.client = undefined;
  }
}
