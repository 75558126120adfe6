/**
 * A Raspberry Pi identity for a node: the device tree the kernel exposes under
 * /sys/firmware/devicetree/base (bound in read-only), a Pi-like /proc/cpuinfo, and the
 * /boot/firmware files Raspberry Pi OS has. /proc/device-tree cannot exist in a container.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** What a Pi node reports about itself. */
export interface PiIdentity {
  model: string;
  serial: string;
  revision: string;
  compatible: string[];
  /** PARTUUID prefix of the (imaginary) SD card, as in cmdline.txt's root=. */
  diskId: string;
}

/** A stable identity derived from the node name (same name, same serial). */
export function piIdentity(nodeName: string): PiIdentity {
  const hash = createHash("sha256").update(`pi-identity:${nodeName}`).digest("hex");
  return {
    model: "Raspberry Pi 4 Model B Rev 1.4",
    serial: `10000000${hash.slice(0, 8)}`,
    revision: "d03114",
    compatible: ["raspberrypi,4-model-b", "brcm,bcm2711"],
    diskId: hash.slice(8, 16),
  };
}

function cpuinfo(id: PiIdentity): string {
  const core = (n: number) =>
    `processor\t: ${n}\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n`;
  return `${[0, 1, 2, 3].map(core).join("\n")}\nHardware\t: BCM2835\nRevision\t: ${id.revision}\nSerial\t\t: ${id.serial}\nModel\t\t: ${id.model}\n`;
}

/** The file paths nspawn binds for a Pi node. */
export interface PiBinds {
  /** Host folder bound read-only over /sys/firmware. */
  firmwareDir: string;
  /**
   * File bound read-only over /proc/cpuinfo. nspawn resolves this bind's source INSIDE the
   * container (it is mounted after /proc), so this is a path in the node's rootfs.
   */
  cpuinfoFile: string;
}

function put(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

/** Writes the identity files for a node; returns what to bind. */
export function preparePiIdentity(nodeDir: string, rootfs: string, id: PiIdentity): PiBinds {
  const firmwareDir = join(nodeDir, "firmware");
  const base = join(firmwareDir, "devicetree/base");
  // Device-tree strings are NUL-terminated; `compatible` is a NUL-separated list.
  put(join(base, "model"), `${id.model}\0`);
  put(join(base, "serial-number"), `${id.serial}\0`);
  put(join(base, "compatible"), id.compatible.map((c) => `${c}\0`).join(""));
  const cpuinfoFile = "/etc/lab-pi/cpuinfo";
  put(join(rootfs, cpuinfoFile), cpuinfo(id));
  put(
    join(rootfs, "boot/firmware/cmdline.txt"),
    `console=serial0,115200 console=tty1 root=PARTUUID=${id.diskId}-02 rootfstype=ext4 fsck.repair=yes rootwait\n`,
  );
  put(
    join(rootfs, "boot/firmware/config.txt"),
    "# For more options and information see\n# http://rptl.io/configtxt\n\ndtparam=audio=on\ncamera_auto_detect=1\ndisplay_auto_detect=1\nauto_initramfs=1\ndtoverlay=vc4-kms-v3d\nmax_framebuffers=2\ndisable_fw_kms_setup=1\narm_64bit=1\ndisable_overscan=1\narm_boost=1\n\n[cm4]\notg_mode=1\n\n[all]\n",
  );
  return { firmwareDir, cpuinfoFile };
}
