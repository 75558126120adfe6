/**
 * The cached base root filesystem per architecture (debootstrap of Debian bookworm), and the
 * per-node copies made from it. The cache lives outside the repository and is reused.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, sleep } from "./exec.ts";
import { isAlive } from "./processes.ts";
import type { NodeArch } from "./config.ts";
import { customizeRootfs, ROOTFS_CONFIG_VERSION } from "./rootfs-config.ts";

/** Packages every node has (what the roles and Ansible's python need). */
export const ROOTFS_PACKAGES = [
  "systemd", "systemd-sysv", "openssh-server", "dbus", "iproute2", "sudo", "udev", "kmod",
  "procps", "parted", "e2fsprogs", "util-linux", "systemd-timesyncd", "ca-certificates",
  "python3", "iputils-ping",
];

const MIRROR = "http://deb.debian.org/debian";
const SUITE = "bookworm";
const DEBOOTSTRAP_STAMP = ".lab-debootstrap";
const CONFIG_STAMP = ".lab-rootfs";

/** Where the base rootfs of `arch` is cached. */
export function baseRootfsDir(cacheDir: string, arch: NodeArch): string {
  return join(cacheDir, "rootfs", `${SUITE}-${arch}`);
}

function debootstrapKey(arch: NodeArch): string {
  return `${SUITE} ${arch} minbase ${ROOTFS_PACKAGES.join(",")}\n`;
}

function readStamp(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Reports progress of a long step: one updating line on a terminal, a line every 10 s otherwise. */
export type Progress = (line: string) => void;

/** A progress reporter writing to stderr. */
export function stderrProgress(label: string): Progress & { done(line: string): void } {
  const started = Date.now();
  const tty = process.stderr.isTTY;
  let lastPrint = 0;
  const fn = ((line: string) => {
    const secs = Math.round((Date.now() - started) / 1000);
    const text = `[${label}] ${secs}s ${line}`;
    if (tty) process.stderr.write(`\r\x1b[K${text.slice(0, (process.stderr.columns || 100) - 1)}`);
    else if (Date.now() - lastPrint > 10000) {
      lastPrint = Date.now();
      process.stderr.write(text + "\n");
    }
  }) as Progress & { done(line: string): void };
  fn.done = (line: string) => {
    const secs = Math.round((Date.now() - started) / 1000);
    process.stderr.write(`${tty ? "\r\x1b[K" : ""}[${label}] ${line} in ${secs}s\n`);
  };
  return fn;
}

/**
 * Returns the base rootfs for `arch`, building it first when absent or outdated
 * (debootstrap ~1 min amd64, several minutes arm64 under qemu).
 */
export async function ensureBaseRootfs(cacheDir: string, arch: NodeArch, log: (line: string) => void = () => {}): Promise<string> {
  const dir = baseRootfsDir(cacheDir, arch);
  mkdirSync(join(cacheDir, "rootfs"), { recursive: true });
  // Several labs (CLI, tests, a helper's own) share the cache: one builds, the others wait.
  const lock = `${dir}.lock`;
  for (let waited = false; ; waited = true) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: "wx" });
      break;
    } catch {
      const text = readStamp(lock);
      if (text === undefined) continue; // released meanwhile
      const holder = Number(text.trim());
      // An empty file is a holder that has not written its PID yet: wait for it.
      if (text.trim() !== "" && !isAlive(holder)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (!waited) log(`Waiting for process ${holder}, which is building the ${arch} rootfs`);
      await sleep(1000);
    }
  }
  try {
    return await buildOrReuse(dir, cacheDir, arch, log);
  } finally {
    rmSync(lock, { force: true });
  }
}

async function buildOrReuse(dir: string, cacheDir: string, arch: NodeArch, log: (line: string) => void): Promise<string> {
  const configKey = `${ROOTFS_CONFIG_VERSION}\n`;
  if (readStamp(join(dir, DEBOOTSTRAP_STAMP)) === debootstrapKey(arch)) {
    if (readStamp(join(dir, CONFIG_STAMP)) !== configKey) {
      customizeRootfs(dir, arch);
      writeFileSync(join(dir, CONFIG_STAMP), configKey);
    }
    return dir;
  }
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(cacheDir, "rootfs"), { recursive: true });
  log(`Building the ${arch} base rootfs (debootstrap ${SUITE}, once; cached in ${dir})`);
  const progress = stderrProgress(`rootfs ${arch}`);
  let packages = 0;
  await run(
    ["debootstrap", "--variant=minbase", `--arch=${arch}`, `--include=${ROOTFS_PACKAGES.join(",")}`, SUITE, partial, MIRROR],
    {
      onOutput: (chunk) => {
        for (const line of chunk.split("\n")) {
          const m = /^I: (\w+) (.*?)(\.\.\.)?$/.exec(line.trim());
          if (!m) continue;
          if (m[1] === "Retrieving" || m[1] === "Unpacking" || m[1] === "Configuring") packages++;
          progress(`${m[1]} ${m[2]} (${packages} steps)`);
        }
      },
    },
  );
  // Drop docs and caches: smaller copies per node.
  rmSync(join(partial, "var/cache/apt/archives"), { recursive: true, force: true });
  mkdirSync(join(partial, "var/cache/apt/archives/partial"), { recursive: true });
  writeFileSync(join(partial, DEBOOTSTRAP_STAMP), debootstrapKey(arch));
  customizeRootfs(partial, arch);
  writeFileSync(join(partial, CONFIG_STAMP), configKey);
  renameSync(partial, dir);
  progress.done(`built ${dir}`);
  return dir;
}

/**
 * Gives a node its own rootfs at `target`: an overlay on the cached base (instant; writes go
 * to `<nodeDir>/upper`), or a full copy where overlayfs is unavailable (~3 s per node alone,
 * ~20 s for three at once on 2 cores). Returns which one was made.
 */
export async function makeNodeRootfs(base: string, nodeDir: string, target: string): Promise<"overlay" | "copy"> {
  const upper = join(nodeDir, "upper");
  const work = join(nodeDir, "work");
  for (const dir of [target, upper, work]) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }
  if (process.env.PI_LAB_ROOTFS !== "copy") {
    const r = await run(["mount", "-t", "overlay", "overlay", "-o", `lowerdir=${base},upperdir=${upper},workdir=${work}`, target], { check: false });
    if (r.code === 0) return "overlay";
  }
  rmSync(upper, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
  await run(["cp", "-a", "--reflink=auto", `${base}/.`, target]);
  return "copy";
}
