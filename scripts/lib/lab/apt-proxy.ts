/**
 * apt for the nodes: apt-cacher-ng on the bridge address (nodes cannot reach the mirror).
 * It runs with its own config, log and pid folders under the lab dir and a package cache
 * under the shared cache dir (reused by later labs), in the foreground of a detached process.
 */
import { closeSync, cpSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { connect } from "node:net";
import { sleep } from "./exec.ts";

/**
 * The port nodes use. Not apt-cacher-ng's usual 3142: a packaged instance started by
 * `apt-get install apt-cacher-ng` listens on 0.0.0.0:3142 and would shadow ours.
 */
export const APT_PROXY_PORT = 3149;

/** The apt.conf line a node needs. */
export function aptProxyConf(bridgeAddress: string): string {
  return `Acquire::http::Proxy "http://${bridgeAddress}:${APT_PROXY_PORT}";\n`;
}

/** Starts apt-cacher-ng detached; returns its PID once it accepts connections. */
export async function startAptProxy(opts: { labDir: string; cacheDir: string; prefix: string; bridgeAddress: string }): Promise<number> {
  const dir = join(opts.labDir, "apt-cacher-ng");
  const confDir = join(dir, "conf");
  const cache = join(opts.cacheDir, `apt-cacher-ng-${opts.prefix}`);
  rmSync(confDir, { recursive: true, force: true });
  mkdirSync(confDir, { recursive: true });
  mkdirSync(join(dir, "log"), { recursive: true });
  mkdirSync(join(dir, "run"), { recursive: true });
  mkdirSync(cache, { recursive: true });
  // Start from the packaged mirror lists, but point the Debian backend at a reachable host.
  if (existsSync("/etc/apt-cacher-ng")) cpSync("/etc/apt-cacher-ng", confDir, { recursive: true, dereference: true });
  writeFileSync(join(confDir, "backends_debian"), "http://deb.debian.org/debian/\n");
  writeFileSync(
    join(confDir, "acng.conf"),
    [
      `CacheDir: ${cache}`,
      `LogDir: ${join(dir, "log")}`,
      `SupportDir: /usr/lib/apt-cacher-ng`,
      `PidFile: ${join(dir, "run/pid")}`,
      `SocketPath: ${join(dir, "run/socket")}`,
      `BindAddress: ${opts.bridgeAddress}`,
      `Port: ${APT_PROXY_PORT}`,
      `ForeGround: 1`,
      `Remap-debrep: file:deb_mirror*.gz /debian ; file:backends_debian`,
      `Remap-secdeb: security.debian.org security.debian.org/debian-security deb.debian.org/debian-security /debian-security ; deb.debian.org/debian-security`,
      `ReportPage: acng-report.html`,
      `ExThreshold: 4`,
      "",
    ].join("\n"),
  );
  // security.conf and zz_debconf.conf would override our settings; keep only what we wrote.
  writeFileSync(join(confDir, "zz_debconf.conf"), "");
  const log = openSync(join(dir, "log/stdout.log"), "a");
  const child = spawn("apt-cacher-ng", ["-c", confDir], { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  child.unref();
  const pid = child.pid!;
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (await portOpen(opts.bridgeAddress, APT_PROXY_PORT)) return pid;
    await sleep(100);
  }
  throw new Error(`apt-cacher-ng did not listen on ${opts.bridgeAddress}:${APT_PROXY_PORT} (see ${join(dir, "log")})`);
}

/** True when something accepts TCP connections at host:port. */
export function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on("connect", () => done(true));
    socket.on("error", () => done(false));
  });
}
