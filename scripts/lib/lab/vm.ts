/**
 * Lab virtual machines with QEMU, on the lab bridge through a tap each (recipe and timings:
 * shared/notes/lab-vm.md). A VM node boots the VM image's kernel with its own ext4 disk; a
 * netboot client has no disk at all and PXE-boots (SeaBIOS -> iPXE) from whatever answers on
 * the bridge. KVM only with real hardware virtualisation (kvm_intel/kvm_amd): /dev/kvm can be
 * PVM, which runs no stock kernel, so everything else is TCG.
 */
import { closeSync, existsSync, openSync } from "node:fs";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { run, tryRun } from "./exec.ts";
import type { NodeArch } from "./config.ts";
import { commandLine, findProcesses, isAlive, terminate } from "./processes.ts";
import { which } from "./preflight.ts";

/** How QEMU runs guests here. */
export interface Accel {
  name: "kvm" | "tcg";
  args: string[];
}

/** KVM where the host has VT-x/AMD-V and /dev/kvm, TCG otherwise (256 MB translation cache, not 1 GB). */
export function vmAccel(arch: NodeArch, sysModule = "/sys/module"): Accel {
  const hostArch = process.arch === "x64" ? "amd64" : process.arch === "arm64" ? "arm64" : "other";
  const hardware = ["kvm_intel", "kvm_amd"].some((m) => existsSync(join(sysModule, m))) || (hostArch === "arm64" && existsSync(join(sysModule, "kvm")));
  if (hardware && hostArch === arch && existsSync("/dev/kvm")) return { name: "kvm", args: ["-enable-kvm", "-cpu", "host"] };
  return { name: "tcg", args: ["-accel", "tcg,thread=multi,tb-size=256", "-cpu", arch === "amd64" ? "max" : "cortex-a72"] };
}

/** The QEMU program for an architecture. */
export function qemuProgram(arch: NodeArch): string {
  return arch === "amd64" ? "qemu-system-x86_64" : "qemu-system-aarch64";
}

/** Why VMs of `arch` cannot run here (missing QEMU, firmware), or undefined. */
export function vmUnavailableReason(arch: NodeArch, netboot = false): string | undefined {
  if (!which(qemuProgram(arch))) return `${qemuProgram(arch)} missing (apt-get install --no-install-recommends ${arch === "amd64" ? "qemu-system-x86" : "qemu-system-arm"})`;
  if (netboot && !existsSync("/usr/lib/ipxe/qemu/efi-virtio.rom")) return "iPXE for QEMU missing (apt-get install --no-install-recommends ipxe-qemu)";
  return undefined;
}

/** A MAC in QEMU's range that says which lab and which machine: 52:54:00:<subnet>:<kind>:<n>. */
export function labMac(subnet: string, kind: "node" | "client", index: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, "0");
  return `52:54:00:${hex(Number(subnet.split(".")[2]))}:${kind === "node" ? "00" : "01"}:${hex(index)}`;
}

/** Serial console: a socket one can attach to later, logged to a file. */
function serialArgs(dir: string): string[] {
  return [
    "-chardev", `socket,id=serial0,path=${join(dir, "serial.sock")},server=on,wait=off,logfile=${join(dir, "console.log")}`,
    "-serial", "chardev:serial0",
  ];
}

function nicArgs(tap: string, mac: string): string[] {
  return ["-netdev", `tap,id=net0,ifname=${tap},script=no,downscript=no`, "-device", `virtio-net-pci,netdev=net0,mac=${mac}`];
}

/** A VM node: direct kernel boot of the image's kernel with its root on the virtio disk. */
export function qemuNodeArgs(o: { name: string; arch: NodeArch; accel: Accel; dir: string; kernel: string; initrd: string; disk: string; tap: string; mac: string; memoryMb?: number }): string[] {
  const console = o.arch === "amd64" ? "ttyS0" : "ttyAMA0";
  return [
    qemuProgram(o.arch),
    "-name", o.name,
    ...(o.arch === "arm64" ? ["-M", "virt"] : []),
    ...o.accel.args,
    // Two vCPUs: a netboot master serves TFTP and NFS while unpacking and copying roots.
    "-smp", "2",
    "-m", String(o.memoryMb ?? 1024),
    "-display", "none",
    "-monitor", "none",
    ...serialArgs(o.dir),
    "-kernel", o.kernel,
    "-initrd", o.initrd,
    "-append", `console=${console} root=/dev/vda rw net.ifnames=0`,
    "-drive", `file=${o.disk},if=virtio,format=raw`,
    ...nicArgs(o.tap, o.mac),
  ];
}

/** A diskless x86 client: boots from the network only (iPXE ROM of virtio-net). */
export function qemuNetbootArgs(o: { name: string; accel: Accel; dir: string; tap: string; mac: string; memoryMb?: number }): string[] {
  return [
    qemuProgram("amd64"),
    "-name", o.name,
    ...o.accel.args,
    "-smp", "1",
    "-m", String(o.memoryMb ?? 768),
    "-display", "none",
    "-monitor", "none",
    ...serialArgs(o.dir),
    "-boot", "n",
    ...nicArgs(o.tap, o.mac),
  ];
}

/**
 * A Raspberry Pi client as close as QEMU 7.2 gets (no raspi4b machine): an arm64 `virt` VM
 * booting the kernel, initramfs and cmdline.txt the lab's bootloader emulation fetched over
 * TFTP. The lab appends only `console=ttyAMA0` (the serial log; a Pi's serial0 is not there).
 * -no-reboot: a reboot ends QEMU, so the bootloader emulation runs again before the next boot.
 */
export function qemuPiArgs(o: { name: string; accel: Accel; dir: string; tap: string; mac: string; kernel: string; initrd: string; cmdline: string; memoryMb?: number }): string[] {
  return [
    qemuProgram("arm64"),
    "-name", o.name,
    "-M", "virt",
    ...o.accel.args,
    "-smp", "2",
    "-m", String(o.memoryMb ?? 1024),
    "-display", "none",
    "-monitor", "none",
    "-no-reboot",
    ...serialArgs(o.dir),
    "-kernel", o.kernel,
    "-initrd", o.initrd,
    "-append", `${o.cmdline.trim()} console=ttyAMA0`,
    ...nicArgs(o.tap, o.mac),
  ];
}

/** Creates a tap on the bridge (QEMU attaches to it by name; no helper scripts). */
export async function createTap(tap: string, bridge: string): Promise<void> {
  await tryRun(["ip", "link", "del", tap]);
  await run(["ip", "tuntap", "add", "dev", tap, "mode", "tap"]);
  await run(["ip", "link", "set", tap, "master", bridge]);
  await run(["ip", "link", "set", tap, "up"]);
}

/** Starts QEMU detached (it outlives `lab up`); output to <dir>/qemu.log; returns its PID. */
export function startQemu(dir: string, argv: string[]): number {
  const log = openSync(join(dir, "qemu.log"), "a");
  const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  child.unref();
  return child.pid!;
}

/** True when `pid` is a QEMU we started under this name. */
export function isOurQemu(pid: number | undefined, name: string): boolean {
  const argv = pid && isAlive(pid) ? commandLine(pid) ?? [] : [];
  return argv.length > 0 && argv[0].includes("qemu-system") && argv[argv.indexOf("-name") + 1] === name;
}

/** Live QEMUs whose -name starts with `prefix` (leftovers of a crashed lab). */
export function qemuPids(prefix: string): number[] {
  return findProcesses((argv) => argv[0].includes("qemu-system") && argv.indexOf("-name") >= 0 && (argv[argv.indexOf("-name") + 1] ?? "").startsWith(prefix));
}

/**
 * Powers a VM off by ending its QEMU (by PID, checked to be ours): the machine is thrown
 * away. NFS-root clients must go before their server, or a shutting-down client hangs.
 */
export async function stopQemu(pid: number | undefined, name: string): Promise<boolean> {
  if (!isOurQemu(pid, name)) return false;
  await terminate([pid!], 5000);
  return true;
}
