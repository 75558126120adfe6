/**
 * Can this machine host a lab? Each check fails with a UserError naming what to install or do,
 * so `lab up` never dies half-way with a cryptic message.
 */
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError, ExitCode } from "../errors.ts";
import { tryRun } from "./exec.ts";
import type { NodeArch } from "./config.ts";

const SEARCH_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** The absolute path of an executable (PATH plus the sbin folders), or undefined. */
export function which(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(":").filter(Boolean), ...SEARCH_PATH];
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

function missing(what: string, fix: string): UserError {
  return new UserError(`The lab needs ${what}`, { hint: fix, exitCode: ExitCode.error });
}

/** Host tools every lab needs: [command, package]. */
const TOOLS: Array<[string, string]> = [
  ["systemd-nspawn", "systemd-container"],
  ["ip", "iproute2"],
  ["ssh-keygen", "openssh-client"],
  ["ssh", "openssh-client"],
  ["losetup", "mount"],
  ["apt-cacher-ng", "apt-cacher-ng"],
];

/** True when binfmt_misc runs aarch64 binaries through qemu. */
export function arm64Enabled(): boolean {
  try {
    return readFileSync("/proc/sys/fs/binfmt_misc/qemu-aarch64", "utf8").startsWith("enabled");
  } catch {
    return false;
  }
}

/** Enables qemu-aarch64 in binfmt_misc when the packages are there; explains otherwise. */
export async function ensureArm64(): Promise<void> {
  if (arm64Enabled()) return;
  const updateBinfmts = which("update-binfmts");
  if (!updateBinfmts || !which("qemu-aarch64-static")) {
    throw missing("qemu-user to run arm64 nodes", "apt-get install qemu-user-static binfmt-support");
  }
  await tryRun([updateBinfmts, "--enable", "qemu-aarch64"]);
  if (!arm64Enabled()) {
    throw missing(
      "binfmt_misc support for arm64 (qemu-aarch64 is not enabled)",
      "run `update-binfmts --enable qemu-aarch64` (and `mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc` if it is not mounted)",
    );
  }
}

/** Throws a UserError when the lab cannot run here; `needBuild` lists arches whose rootfs must be built. */
export async function preflight(opts: { arches: NodeArch[]; needBuild: NodeArch[] }): Promise<void> {
  if (process.platform !== "linux") throw missing("Linux (systemd-nspawn, network namespaces)", "run it on a Debian/Ubuntu machine");
  if (process.getuid?.() !== 0) {
    throw missing("root (network namespaces, loop devices, containers)", "run it as root, e.g. `sudo npm run lab -- up`");
  }
  for (const [command, pkg] of TOOLS) {
    if (!which(command)) throw missing(`${command}`, `apt-get install ${pkg}`);
  }
  if (opts.needBuild.length > 0 && !which("debootstrap")) {
    throw missing("debootstrap to build the nodes' root filesystem", "apt-get install debootstrap");
  }
  if (!existsSync("/proc/self/ns/net")) throw missing("network namespaces", "use a kernel with CONFIG_NET_NS");
  if (opts.arches.includes("arm64")) await ensureArm64();
}

/** The reason this machine cannot host a lab, or undefined when it can (no side effects). */
export function labUnavailableReason(): string | undefined {
  if (process.platform !== "linux") return "the lab needs Linux";
  if (process.getuid?.() !== 0) return "the lab needs root";
  for (const [command, pkg] of TOOLS) if (!which(command)) return `${command} missing (apt-get install ${pkg})`;
  return undefined;
}
