/**
 * The target module e2e tests run against, best first:
 * 1. a throwaway OpenSSH sshd on 127.0.0.1 (random port, keys in a temp dir), reached with
 *    ssh2. As root, sshd wants /run/sshd: it runs in a private mount namespace with its own
 *    tmpfs /run, so nothing of this machine is touched;
 * 2. this machine's sh (LocalShellTransport) when sshd cannot start, said so in the output.
 * (The project's test/support/sshd.ts and SSH transport can replace (1) once they exist.)
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Transport } from "../../scripts/lib/transport/types.ts";
import { LocalShellTransport } from "./local-transport.ts";
import { Ssh2Transport } from "./ssh2-transport.ts";

export interface ModuleTarget {
  transport: Transport;
  /** "ssh (loopback sshd)" or "local sh". */
  kind: string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, "127.0.0.1", () => {
        c.destroy();
        resolve(true);
      });
      c.on("error", () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function startLoopbackSshd(): Promise<ModuleTarget | { error: string }> {
  const sshd = "/usr/sbin/sshd";
  if (spawnSync("sh", ["-c", `command -v ${sshd} && command -v ssh-keygen && command -v unshare`]).status !== 0) {
    return { error: "sshd, ssh-keygen or unshare missing" };
  }
  const dir = mkdtempSync(join(tmpdir(), "modules-sshd-"));
  const keygen = (name: string) => spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, name)]).status === 0;
  if (!keygen("host_key") || !keygen("client_key")) {
    rmSync(dir, { recursive: true, force: true });
    return { error: "ssh-keygen failed" };
  }
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")));
  const port = await freePort();
  const user = spawnSync("id", ["-un"], { encoding: "utf8" }).stdout.trim();
  writeFileSync(
    join(dir, "sshd_config"),
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(dir, "host_key")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "UsePAM no",
      "StrictModes no",
      "MaxSessions 64",
      // bash sources ~/.bashrc for commands run by sshd unless SHLVL says it is nested; this
      // machine's root .bashrc (pyenv init) costs ~100 ms per command, which is not the target
      // we measure. Set SHELL_RC=1 in the environment to keep it.
      ...(process.env.SHELL_RC === "1" ? [] : ["SetEnv SHLVL=1"]),
      "LogLevel ERROR",
    ].join("\n") + "\n",
  );
  const config = join(dir, "sshd_config");
  const child: ChildProcess =
    process.getuid?.() === 0
      ? spawn("unshare", ["--mount", "--propagation", "private", "sh", "-c", `mount -t tmpfs none /run && mkdir -p /run/sshd && exec ${sshd} -D -e -f '${config}'`], { stdio: ["ignore", "ignore", "pipe"] })
      : spawn(sshd, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
  const stop = async () => {
    if (child.exitCode === null && child.pid) child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  };
  if (!(await waitForPort(port, 5000))) {
    await stop();
    return { error: `sshd did not start: ${stderr.trim()}` };
  }
  const transport = new Ssh2Transport({
    host: "loopback",
    address: "127.0.0.1",
    port,
    username: user,
    privateKey: readFileSync(join(dir, "client_key")),
    hostKeyBase64: readFileSync(join(dir, "host_key.pub"), "utf8").split(" ")[1],
  });
  try {
    await transport.connect();
  } catch (e) {
    await stop();
    return { error: `ssh to the loopback sshd failed: ${(e as Error).message}` };
  }
  return {
    transport,
    kind: `ssh to a loopback OpenSSH sshd (127.0.0.1:${port})`,
    close: async () => {
      await transport.close();
      await stop();
    },
  };
}

export async function openTarget(): Promise<ModuleTarget> {
  const ssh = await startLoopbackSshd();
  if ("transport" in ssh) return ssh;
  const transport = new LocalShellTransport("localhost");
  return { transport, kind: `local sh (no loopback sshd: ${ssh.error})`, close: () => transport.close() };
}
