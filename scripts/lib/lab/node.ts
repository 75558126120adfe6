/**
 * One node: its rootfs copy made into a distinct machine (hostname, machine-id, host keys,
 * lab key), and the detached supervisor that runs systemd-nspawn and restarts it when the
 * node reboots (nspawn exits 133 on an in-container reboot; 0 on poweroff ends the loop).
 */
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { quote } from "../shell/quote.ts";
import { run } from "./exec.ts";
import { childrenOf, commandLine, findProcesses, isAlive, signal, terminate, waitGone } from "./processes.ts";

/** Makes a fresh rootfs copy into this node's own machine. */
export async function personalizeRootfs(rootfs: string, opts: { hostname: string; publicKey: string; aptProxyConf: string }): Promise<void> {
  writeFileSync(join(rootfs, "etc/hostname"), `${opts.hostname}\n`);
  writeFileSync(join(rootfs, "etc/hosts"), `127.0.0.1\tlocalhost\n127.0.1.1\t${opts.hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`);
  // A fixed id per node (not generated at boot) so it survives reboots like a real machine's.
  writeFileSync(join(rootfs, "etc/machine-id"), `${randomBytes(16).toString("hex")}\n`);
  await run(["ssh-keygen", "-q", "-A", "-f", rootfs]);
  const ssh = join(rootfs, "root/.ssh");
  mkdirSync(ssh, { recursive: true, mode: 0o700 });
  writeFileSync(join(ssh, "authorized_keys"), opts.publicKey);
  chmodSync(join(ssh, "authorized_keys"), 0o600);
  writeFileSync(join(rootfs, "etc/apt/apt.conf.d/01lab-proxy"), opts.aptProxyConf);
}

/** The public host keys of a node, as `type base64` strings. */
export function hostKeys(rootfs: string): string[] {
  const dir = join(rootfs, "etc/ssh");
  return readdirSync(dir)
    .filter((f) => f.startsWith("ssh_host_") && f.endsWith(".pub"))
    .sort()
    .map((f) => readFileSync(join(dir, f), "utf8").trim().split(/\s+/).slice(0, 2).join(" "));
}

/** How to run one node's container. */
export interface NspawnOptions {
  machine: string;
  hostname: string;
  rootfs: string;
  netns: string;
  /** SSD: the loop device and the folder bound over /sys/block. */
  ssd?: { device: string; sysBlockDir: string };
  /** Pi identity: folders/files bound read-only. */
  pi?: { firmwareDir: string; cpuinfoFile: string };
}

/** The systemd-nspawn command line for a node. */
export function nspawnArgs(o: NspawnOptions): string[] {
  const args = [
    "systemd-nspawn",
    "--quiet",
    `--directory=${o.rootfs}`,
    `--machine=${o.machine}`,
    `--hostname=${o.hostname}`,
    // The host has no systemd (no machined, cgroup v1 hybrid): do not register or create scopes.
    "--register=no",
    "--keep-unit",
    `--network-namespace-path=/run/netns/${o.netns}`,
    "--boot",
    "--console=passive",
    "--link-journal=no",
    "--resolv-conf=off",
    "--timezone=off",
    // dnsmasq (netboot role) needs it; the node's network is its own namespace anyway.
    "--capability=CAP_NET_ADMIN",
    // nfs-ganesha (NFS root export role) needs open_by_handle_at.
    "--system-call-filter=open_by_handle_at",
  ];
  if (o.ssd) args.push(`--bind=${o.ssd.device}`, `--bind-ro=${o.ssd.sysBlockDir}:/sys/block`);
  if (o.pi) args.push(`--bind-ro=${o.pi.firmwareDir}:/sys/firmware`, `--bind-ro=${o.pi.cpuinfoFile}:/proc/cpuinfo`);
  return args;
}

/** The supervisor loop, as a POSIX sh script (it must outlive `lab up`). */
export function supervisorScript(nodeDir: string, nspawn: string[], writableSys: boolean): string {
  // "network": /proc/sys/net writable (per network namespace, as on a real machine: sysctl
  // net.ipv4.ip_forward) even without --private-network, which nspawn needs to allow it.
  const env = writableSys ? "SYSTEMD_NSPAWN_API_VFS_WRITABLE=1 " : "SYSTEMD_NSPAWN_API_VFS_WRITABLE=network ";
  return `#!/bin/sh
# Lab node supervisor: runs the container and starts it again when it reboots (exit 133).
# SIGTERM asks the container to shut down (nspawn forwards it) and ends the loop; \`lab down\`
# instead SIGKILLs this script and then the container's init.
cd ${quote(nodeDir)} || exit 1
child=
trap 'stopping=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT HUP
stopping=
while :; do
  ${env}${nspawn.map(quote).join(" ")} </dev/null >>console.log 2>&1 &
  child=$!
  echo "$child" > nspawn.pid
  while :; do
    wait "$child"; rc=$?
    # wait returns early (>128) when a trapped signal arrives; the child may still run.
    kill -0 "$child" 2>/dev/null || break
  done
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) nspawn exited $rc" >> supervisor.log
  [ -z "$stopping" ] && [ "$rc" -eq 133 ] || break
done
rm -f nspawn.pid
`;
}

/** Starts the detached supervisor for a node; returns its PID. */
export function startSupervisor(nodeDir: string, script: string): number {
  const file = join(nodeDir, "supervisor.sh");
  writeFileSync(file, script);
  chmodSync(file, 0o755);
  const log = openSync(join(nodeDir, "supervisor.log"), "a");
  const child = spawn("/bin/sh", [file], { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  child.unref();
  return child.pid!;
}

/** The running nspawn of a machine (by its --machine= argument). */
export function nspawnPids(machine: string): number[] {
  return findProcesses((argv) => argv[0].endsWith("systemd-nspawn") && argv.includes(`--machine=${machine}`));
}

/**
 * Stops a node for good: the supervisor first (so nothing restarts), then the container's
 * init with SIGKILL, which ends its whole PID namespace; nspawn then exits by itself.
 * No orderly shutdown: the node is being thrown away, and under qemu-user nspawn's
 * SIGRTMIN+3 arrives as another signal (an arm64 node went to rescue mode instead).
 */
export async function stopNode(supervisorPid: number | undefined, machine: string): Promise<void> {
  if (supervisorPid && isAlive(supervisorPid) && (commandLine(supervisorPid) ?? []).some((a) => a.endsWith("supervisor.sh"))) {
    signal(supervisorPid, "SIGKILL");
  }
  const nspawn = nspawnPids(machine);
  const inits = nspawn.flatMap(childrenOf);
  for (const pid of inits) signal(pid, "SIGKILL");
  if (await waitGone(nspawn, 5000)) return;
  await terminate(nspawn.filter(isAlive), 2000);
}
