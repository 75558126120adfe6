/**
 * A throwaway OpenSSH sshd on 127.0.0.1 for e2e tests: its own host key, a generated client
 * key in authorized_keys, a random free port, everything in one temp dir that stop() removes.
 * As root, sshd insists on /run/sshd (privilege separation); rather than touching the host's
 * /run we start it in a private mount namespace with a tmpfs /run (`unshare --mount`).
 * MaxSessions 10 as OpenSSH's default, so the transport's channel cap is really exercised.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";

export interface Sshd {
  /** Port on 127.0.0.1. */
  port: number;
  /** The user to log in as (whoever runs the tests, usually root here). */
  user: string;
  /** Private key file authorized for `user`. */
  keyFile: string;
  /** A known_hosts file holding the sshd's host key as `[127.0.0.1]:port`. */
  knownHostsFile: string;
  /** The host key's public line (`ssh-ed25519 AAAA...`). */
  hostKeyPublic: string;
  /** The temp dir holding keys and config (removed by stop()). */
  dir: string;
  /** Kills the sshd (by PID) and starts it again on the same port and keys. */
  restart(): Promise<void>;
  /** Kills the sshd without removing files (for "connection refused" tests); restart() brings it back. */
  kill(): Promise<void>;
  /**
   * SIGSTOPs the sshd and its sessions' sshd processes (by PID): the host stops answering while
   * its TCP connections stay open, as a hung node. thaw() (SIGCONT) undoes it; kill() and stop() thaw first.
   */
  freeze(): void;
  thaw(): void;
  /** Replaces the host key with a new one (a reflashed node) and restarts; the known_hosts file keeps the old key. */
  rekey(): Promise<void>;
  /** Kills the sshd and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** Extra sshd_config lines. */
  extraConfig?: string[];
  /**
   * Shell commands run (as root) in the sshd's private mount namespace before it starts, e.g. a
   * small tmpfs for a disk-full test: only the sshd's sessions see such a mount. Refused when not root.
   */
  namespaceSetup?: string[];
}

const SSHD = "/usr/sbin/sshd";

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Waits until something accepts TCP connections on 127.0.0.1:port (and sends a banner). */
async function waitForBanner(port: number, timeoutMs: number, alive: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && alive()) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.setTimeout(1000, () => {
        socket.destroy();
        resolve(false);
      });
      socket.once("data", (b: Buffer) => {
        socket.destroy();
        resolve(b.toString().startsWith("SSH-"));
      });
      socket.on("error", () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** Starts an sshd. Rejects with sshd's stderr if it does not come up within 10 s. */
export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), "test-sshd-"));
  try {
    for (const name of ["host_key", "client_key"]) {
      const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", join(dir, name)], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
    }
    writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")));
    const hostKeyPublic = readFileSync(join(dir, "host_key.pub"), "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
    const port = await freePort();
    const knownHostsFile = join(dir, "known_hosts");
    writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ${hostKeyPublic}\n`);
    const user = spawnSync("id", ["-un"], { encoding: "utf8" }).stdout.trim();
    const config = join(dir, "sshd_config");
    writeFileSync(
      config,
      [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${join(dir, "host_key")}`,
        `PidFile ${join(dir, "sshd.pid")}`,
        `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin yes",
        "UsePAM no",
        "StrictModes no",
        "MaxSessions 10",
        "MaxStartups 100",
        "AllowTcpForwarding yes",
        "LogLevel ERROR",
        ...(options.extraConfig ?? []),
      ].join("\n") + "\n",
    );

    // The controller's ~/.bashrc may be slow (here: pyenv init, ~200 ms) and bash sources it
    // for every SSH command. In the sshd's private mount namespace we mount a copy guarded
    // like Debian's skeleton (`return` when not interactive), as on a real Pi: exec latency
    // measures the transport, not the test machine's shell setup.
    const home = process.env.HOME ?? "/root";
    const bashrc = join(home, ".bashrc");
    const guardedBashrc = join(dir, "bashrc");
    let shadowBashrc = "";
    if (existsSync(bashrc)) {
      writeFileSync(guardedBashrc, "case $- in *i*) ;; *) return;; esac\n" + readFileSync(bashrc, "utf8"));
      shadowBashrc = ` && mount --bind '${guardedBashrc}' '${bashrc}'`;
    }

    let child: ChildProcess | undefined;
    let stderr = "";
    const isRoot = process.getuid?.() === 0;
    if (options.namespaceSetup?.length && !isRoot) throw new Error("namespaceSetup needs root (a private mount namespace)");
    const setup = (options.namespaceSetup ?? []).map((c) => ` && ${c}`).join("");
    // If this test process dies without running after() (SIGKILL, runner timeout), the kernel
    // sends sshd SIGTERM (PR_SET_PDEATHSIG): no sshd outlives its test. exec keeps one PID.
    const deathSig = spawnSync("sh", ["-c", "command -v setpriv"]).status === 0 ? "setpriv --pdeathsig TERM " : "";
    const launch = async () => {
      stderr = "";
      const c: ChildProcess = isRoot
        ? // `exec` twice: the PID we hold is sshd's own, so killing it by PID kills sshd.
          spawn("unshare", ["--mount", "--propagation", "private", "sh", "-c", `mount -t tmpfs none /run && mkdir -p /run/sshd${shadowBashrc}${setup} && exec ${deathSig}${SSHD} -D -e -f '${config}'`], { stdio: ["ignore", "ignore", "pipe"] })
        : spawn("sh", ["-c", `exec ${deathSig}${SSHD} -D -e -f '${config}'`], { stdio: ["ignore", "ignore", "pipe"] });
      c.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
      c.on("error", (e) => (stderr += String(e)));
      child = c;
      const up = await waitForBanner(port, 10_000, () => c.exitCode === null && c.signalCode === null);
      if (!up) {
        await kill();
        throw new Error(`sshd did not start on 127.0.0.1:${port}: ${stderr.trim() || "no output"}`);
      }
    };
    /** The sshd processes: the listener and, below it, the sessions' sshd processes (not their shells). */
    const sshdPids = (): number[] => {
      const pid = child?.pid;
      if (!pid || child?.exitCode !== null || child?.signalCode !== null) return [];
      const all = [pid];
      for (let i = 0; i < all.length; i++) {
        const below = spawnSync("pgrep", ["-P", String(all[i]), "-x", "sshd(-session|-auth)?"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean).map(Number);
        all.push(...below);
      }
      return all;
    };
    let frozen: number[] = [];
    const signalAll = (pids: number[], signal: NodeJS.Signals) => {
      for (const pid of pids) {
        try {
          process.kill(pid, signal);
        } catch {}
      }
    };
    const freeze = () => {
      frozen = sshdPids();
      signalAll(frozen, "SIGSTOP");
    };
    const thaw = () => {
      signalAll(frozen, "SIGCONT");
      frozen = [];
    };
    const kill = async () => {
      thaw();
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((r) => c.once("exit", () => r()));
      // Sessions are forked children of the listener and would outlive it: end them first,
      // so kill() looks like a reboot to connected clients.
      if (c.pid) {
        const children = spawnSync("pgrep", ["-P", String(c.pid)], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
        for (const pid of children) {
          try {
            process.kill(Number(pid), "SIGTERM");
          } catch {}
        }
      }
      c.kill("SIGTERM");
      const timer = setTimeout(() => c.kill("SIGKILL"), 2000);
      await exited;
      clearTimeout(timer);
    };
    let stopped = false;
    await launch();
    return {
      port,
      user,
      keyFile: join(dir, "client_key"),
      knownHostsFile,
      hostKeyPublic,
      dir,
      kill,
      freeze,
      thaw,
      restart: async () => {
        await kill();
        await launch();
      },
      rekey: async () => {
        await kill();
        rmSync(join(dir, "host_key"), { force: true });
        rmSync(join(dir, "host_key.pub"), { force: true });
        const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "host_key", "-f", join(dir, "host_key")], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
        await launch();
      },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await kill();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Starts an sshd and registers `after()` in the current test scope to stop it, so it dies
 * even when a test fails. Call at module or describe level: `const sshd = await useSshd();`
 */
export async function useSshd(options: SshdOptions = {}): Promise<Sshd> {
  const sshd = await startSshd(options);
  after(() => sshd.stop());
  // A crash of the test process must not leave an sshd behind either.
  process.once("exit", () => void sshd.stop());
  return sshd;
}

/** Whether this machine can run the throwaway sshd at all (for skip reasons). */
export function sshdAvailable(): string | undefined {
  const r = spawnSync("sh", ["-c", `command -v ${SSHD} && command -v ssh-keygen && command -v unshare`]);
  return r.status === 0 ? undefined : "sshd, ssh-keygen or unshare missing";
}
