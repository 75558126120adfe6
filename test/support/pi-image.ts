/**
 * Disk images for firstboot's tests, built the way a flashed card looks, in an ordinary file
 * (no loop devices, no mounts): an MBR with the FAT boot partition at 4 MiB and a Linux root
 * partition after it, the FAT made by mkfs.vfat at that offset, files put in with mcopy.
 */
import { spawnSync } from "node:child_process";
import { truncateSync, writeFileSync } from "node:fs";
import { mbrSector } from "../../scripts/lib/firstboot/mbr.ts";

const MiB = 1024 * 1024;
const ENV = { ...process.env, MTOOLS_SKIP_CHECK: "1", MTOOLSRC: "/dev/null" };

/** Why images cannot be built here, or false when they can. */
export function imageToolsMissing(): string | false {
  for (const tool of ["mkfs.vfat", "mcopy"]) {
    const r = spawnSync("sh", ["-c", `command -v ${tool} || test -x /sbin/${tool} || test -x /usr/sbin/${tool}`]);
    if (r.status !== 0) return `${tool} is not installed (apt-get install dosfstools mtools)`;
  }
  return false;
}

export const BOOT_OFFSET = 4 * MiB;

export interface ImageSpec {
  /** Files of the boot partition: name -> content. */
  files?: Record<string, string>;
  fat?: 16 | 32;
  /** MBR type of partition 1 (default 0x0c, FAT32 LBA). */
  partitionType?: number;
  /** No file system in partition 1 at all. */
  noFat?: boolean;
}

function run(cmd: string, args: string[], input?: string) {
  const r = spawnSync(cmd, args, { env: { ...ENV, PATH: `${process.env.PATH}:/sbin:/usr/sbin` }, input, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

export function buildImage(path: string, spec: ImageSpec = {}): void {
  const fatMiB = spec.fat === 16 ? 16 : 40;
  const bootSectors = (fatMiB * MiB) / 512;
  const rootStart = BOOT_OFFSET / 512 + bootSectors;
  const rootSectors = (4 * MiB) / 512;
  const partitions = [
    { type: spec.partitionType ?? (spec.fat === 16 ? 0x0e : 0x0c), startLba: BOOT_OFFSET / 512, sectors: bootSectors },
    { type: 0x83, startLba: rootStart, sectors: rootSectors },
  ];
  writeFileSync(path, mbrSector(0x1234abcd, partitions)); // disk identifier: PARTUUID=1234abcd-02
  truncateSync(path, (rootStart + rootSectors) * 512); // sparse to its full size
  if (spec.noFat) return;
  run("mkfs.vfat", ["-F", String(spec.fat ?? 32), "--offset", String(BOOT_OFFSET / 512), "-n", "bootfs", path, String((fatMiB * MiB) / 1024)]);
  for (const [name, content] of Object.entries(spec.files ?? {})) putFile(path, name, content);
}

export function putFile(image: string, name: string, content: string): void {
  run("mcopy", ["-o", "-i", `${image}@@${BOOT_OFFSET}`, "-", `::/${name}`], content);
}

export function readFile(image: string, name: string): string {
  return run("mcopy", ["-n", "-i", `${image}@@${BOOT_OFFSET}`, `::/${name}`, "-"]);
}

export function listFiles(image: string): string[] {
  return run("mdir", ["-b", "-i", `${image}@@${BOOT_OFFSET}`, "::/"])
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("::/"))
    .map((l) => l.slice(3))
    .sort();
}

export const CMDLINE = "console=serial0,115200 console=tty1 root=PARTUUID=1234abcd-02 rootfstype=ext4 fsck.repair=yes rootwait quiet\n";

/** A bookworm boot partition: firmware, device trees, config.txt, cmdline.txt; no cloud-init files. */
export const BOOKWORM_FILES: Record<string, string> = {
  "cmdline.txt": CMDLINE,
  "config.txt": "# For more options and information see\n# http://rpf.io/configtxt\ndtparam=audio=on\n[all]\n",
  "start4.elf": "firmware",
  "fixup4.dat": "firmware",
  "bcm2711-rpi-4-b.dtb": "dtb",
  "kernel8.img": "kernel",
};

/** A trixie boot partition: the same plus cloud-init's seed files as the image ships them. */
export const TRIXIE_FILES: Record<string, string> = {
  ...BOOKWORM_FILES,
  "bcm2712-rpi-5-b.dtb": "dtb",
  "user-data": "#cloud-config\n# This is the user-data configuration file for cloud-init.\n",
  "network-config": "# This file contains a netplan-compatible configuration which cloud-init will apply\n#network:\n#  version: 2\n",
  "meta-data": "# This is the meta-data configuration file for cloud-init.\n",
};
