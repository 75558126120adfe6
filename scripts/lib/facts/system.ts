/**
 * Identity of the target: hostname, fqdn, kernel, architecture (and the userspace's, which
 * differs from the kernel's on a 32-bit userland under a 64-bit kernel), machine-id, service
 * manager, python3. One fragment, `key=value` lines.
 */
import { keyValues, type Fact } from "./types.ts";

export const systemFact: Fact = {
  name: "system",
  command: [
    "echo hostname=$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)",
    "echo fqdn=$(hostname -f 2>/dev/null || hostname)",
    "echo nodename=$(uname -n)",
    "echo machine=$(uname -m)",
    // getconf is a userspace binary: its LONG_BIT is the userland's word size, as Ansible's
    // platform.architecture() of its Python.
    "echo userspace_bits=$(getconf LONG_BIT)",
    "echo kernel=$(uname -r)",
    "echo system=$(uname -s)",
    "echo machine_id=$(cat /etc/machine-id)",
    // systemd's own test (sd_booted): the directory exists only when systemd is PID 1.
    "if [ -d /run/systemd/system ]; then echo service_mgr=systemd; else echo service_mgr=$(cat /proc/1/comm); fi",
    "echo python3=$(command -v python3)",
    "echo user_id=$(id -un)",
  ].join("; "),
  parse(output) {
    const kv = keyValues(output, /=/);
    const get = (k: string) => kv.get(k) ?? "";
    const machine = get("machine");
    const hostname = get("hostname");
    const pid1 = get("service_mgr");
    const userspaceBits = get("userspace_bits");
    return {
      // Ansible's hostname is the short name; nodename is uname -n as is.
      hostname: hostname.split(".")[0],
      fqdn: get("fqdn") || hostname,
      nodename: get("nodename"),
      architecture: ARCH[machine] ?? machine,
      machine,
      ...userspace(machine, userspaceBits),
      kernel: get("kernel"),
      system: get("system"),
      machine_id: get("machine_id"),
      service_mgr: pid1 === "systemd" ? "systemd" : pid1 === "init" ? "sysvinit" : pid1,
      python3: get("python3") || null,
      user_id: get("user_id"),
    };
  },
};

/** Ansible's `architecture` (armv7l stays armv7l; i686 -> i386). */
const ARCH: Record<string, string> = { i686: "i386", i586: "i386", arm64: "aarch64" };

/**
 * Ansible's userspace_bits and userspace_architecture: the latter only on x86 machines
 * (x86_64, i386/i686), where a 32-bit userland on a 64-bit kernel is `i386`; Ansible sets no
 * userspace_architecture on ARM, so neither do we.
 */
function userspace(machine: string, bits: string): Record<string, string> {
  if (bits !== "32" && bits !== "64") return {};
  const out: Record<string, string> = { userspace_bits: bits };
  if (machine === "x86_64" || /^i[3456]86$/.test(machine)) out.userspace_architecture = bits === "64" ? "x86_64" : "i386";
  return out;
}
