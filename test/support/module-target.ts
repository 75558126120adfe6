/**
 * The target module e2e tests run against, best first:
 * 1. the throwaway loopback OpenSSH sshd of test/support/sshd.ts, reached with ssh2
 *    (test/support/ssh2-transport.ts until the project's SSH transport is used here);
 * 2. this machine's sh (LocalShellTransport) when sshd cannot start, said so in the output.
 */
import { readFileSync } from "node:fs";
import type { Transport } from "../../scripts/lib/transport/types.ts";
import { LocalShellTransport } from "./local-transport.ts";
import { Ssh2Transport } from "./ssh2-transport.ts";
import { sshdAvailable, startSshd } from "./sshd.ts";

export interface ModuleTarget {
  transport: Transport;
  /** "ssh to a loopback OpenSSH sshd (...)" or "local sh (...)". */
  kind: string;
  close(): Promise<void>;
}

// bash sources ~/.bashrc for commands run by sshd unless SHLVL says it is nested. This
// machine's root .bashrc (pyenv init) costs ~100 ms per command, which is not the target we
// mean to measure. SHELL_RC=1 keeps it.
const SKIP_BASHRC = process.env.SHELL_RC === "1" ? [] : ["SetEnv SHLVL=1"];

async function loopbackSsh(): Promise<ModuleTarget | { error: string }> {
  const missing = sshdAvailable();
  if (missing) return { error: missing };
  let sshd;
  try {
    sshd = await startSshd({ extraConfig: SKIP_BASHRC });
  } catch (e) {
    return { error: (e as Error).message };
  }
  const transport = new Ssh2Transport({
    host: "loopback",
    address: "127.0.0.1",
    port: sshd.port,
    username: sshd.user,
    privateKey: readFileSync(sshd.keyFile),
    hostKeyBase64: sshd.hostKeyPublic.split(" ")[1],
  });
  try {
    await transport.connect();
  } catch (e) {
    await sshd.stop();
    return { error: `ssh to the loopback sshd failed: ${(e as Error).message}` };
  }
  return {
    transport,
    kind: `ssh to a loopback OpenSSH sshd (127.0.0.1:${sshd.port})`,
    close: async () => {
      await transport.close();
      await sshd.stop();
    },
  };
}

export async function openTarget(): Promise<ModuleTarget> {
  const ssh = await loopbackSsh();
  if ("transport" in ssh) return ssh;
  const transport = new LocalShellTransport("localhost");
  return { transport, kind: `local sh (no loopback sshd: ${ssh.error})`, close: () => transport.close() };
}
