/**
 * The target module e2e tests run against: the throwaway loopback sshd (test/support/sshd.ts)
 * with the SSH transport when they exist, else this machine's sh through LocalShellTransport
 * (said so in the test output, never silently).
 */
import type { Transport } from "../../scripts/lib/transport/types.ts";
import { LocalShellTransport } from "./local-transport.ts";

export interface ModuleTarget {
  transport: Transport;
  /** "ssh (loopback sshd)" or "local sh". */
  kind: string;
  close(): Promise<void>;
}

export async function openTarget(): Promise<ModuleTarget> {
  const transport = new LocalShellTransport("localhost");
  return { transport, kind: "local sh (no loopback sshd helper yet)", close: () => transport.close() };
}
