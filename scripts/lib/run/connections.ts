/**
 * One transport per host for the whole run, opened lazily on first use and reused across
 * plays: keyed by host + address + port + user, so a play that changes ansible_user or a
 * static-ip step that moves the host gets its own connection. Closed all at once at the end.
 */
import type { Transport } from "../transport/types.ts";
import type { ConnectionOverrides } from "./options.ts";
import { LocalTransport } from "../transport/local.ts";

/** Makes a transport for a host from its variables (ansible_host, ansible_user, ...). */
export type TransportFactory = (host: string, vars: Record<string, unknown>, overrides: ConnectionOverrides) => Transport | Promise<Transport>;

/** Lazily opened, shared transports. */
export class ConnectionPool {
  readonly #open = new Map<string, Promise<Transport>>();
  readonly #factory: TransportFactory;
  readonly #overrides: ConnectionOverrides;

  constructor(factory: TransportFactory, overrides: ConnectionOverrides) {
    this.#factory = factory;
    this.#overrides = overrides;
  }

  /** The connected transport for a host (connects on first call; UnreachableError when it cannot). */
  get(host: string, vars: Record<string, unknown>, connection?: "ssh" | "local"): Promise<Transport> {
    // As Ansible: the ansible_connection variable beats the play's connection: keyword, which
    // beats the command line's -c.
    const local = (vars.ansible_connection ?? connection ?? this.#overrides.connection) === "local";
    const key = local
      ? `local\0${host}`
      : [host, vars.ansible_host ?? host, vars.ansible_port ?? "", vars.ansible_user ?? vars.ansible_ssh_user ?? this.#overrides.user ?? ""].join("\0");
    let entry = this.#open.get(key);
    if (!entry) {
      entry = (async () => {
        const t = local ? new LocalTransport(host) : await this.#factory(host, vars, this.#overrides);
        try {
          await t.connect();
        } catch (e) {
          // Not kept in the pool, so closeAll() would never reach it: close what it opened now.
          await t.close().catch(() => {});
          throw e;
        }
        return t;
      })();
      // A failed connect is not cached: a later play (or wait_for_connection) may try again.
      entry.catch(() => this.#open.delete(key));
      this.#open.set(key, entry);
    }
    return entry;
  }

  /** Closes every transport (errors while closing are ignored: the run is over). */
  async closeAll(): Promise<void> {
    const all = [...this.#open.values()];
    this.#open.clear();
    await Promise.all(all.map(async (p) => {
      try {
        await (await p).close();
      } catch {
        /* already gone */
      }
    }));
  }
}

/** The real transports (SSH per host) from transport/connect.ts, loaded on first use (ssh2 is not needed for local-only runs). */
export const defaultTransportFactory: TransportFactory = async (host, vars, overrides) => {
  const { createTransport, connectionSettingsFromVars } = await import("../transport/connect.ts");
  return createTransport(host, connectionSettingsFromVars(host, vars, overrides));
};
