/**
 * A Raspberry Pi OS-shaped disk image built from a folder, in an ordinary file (no loop
 * devices, no mounts): an MBR, partition 1 FAT32 (type 0x0c) at 4 MiB holding the folder's
 * boot/firmware/, partition 2 Linux (0x83) holding everything else as ext4 (mkfs.ext4 -d at
 * its offset), boot/firmware left as an empty mount point as in the real image.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mbrSector } from "../../scripts/lib/firstboot/mbr.ts";

const MiB = 1024 * 1024;
const BOOT_START = 4 * MiB;
const BOOT_SIZE = 40 * MiB; // FAT32's smallest comfortable size
const ENV = { ...process.env, MTOOLS_SKIP_CHECK: "1", MTOOLSRC: "/dev/null", PATH: `${process.env.PATH}:/sbin:/usr/sbin` };

/** Why images cannot be built here, or false when they can. */
export function osImageToolsMissing(): string | false {
  for (const [tool, pkg] of [["mkfs.vfat", "dosfstools"], ["mcopy", "mtools"], ["mkfs.ext4", "e2fsprogs"], ["xz", "xz-utils"]]) {
    if (spawnSync("sh", ["-c", 'command -v "$1"', "-", tool], { env: ENV }).status !== 0) return `${tool} is not installed (apt-get install ${pkg})`;
  }
  return false;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { env: ENV, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr || r.error?.message}`);
}

/** Writes `image` from the tree `root`; with `xz`, returns `image`.xz (the .img removed). */
export function buildOsImage(root: string, image: string, options: { rootSizeMiB?: number; xz?: boolean } = {}): string {
  const rootStart = BOOT_START + BOOT_SIZE;
  const rootSize = (options.rootSizeMiB ?? 16) * MiB;
  const partitions = [
    { type: 0x0c, startLba: BOOT_START / 512, sectors: BOOT_SIZE / 512 },
    { type: 0x83, startLba: rootStart / 512, sectors: rootSize / 512 },
  ];
  writeFileSync(image, mbrSector(0x5ca1ab1e, partitions));
  truncateSync(image, rootStart + rootSize); // sparse, full size
  run("mkfs.vfat", ["-F", "32", "--offset", String(BOOT_START / 512), "-n", "bootfs", image, String(BOOT_SIZE / 1024)]);
  const firmware = join(root, "boot/firmware");
  const entries = readdirSync(firmware).map((name) => join(firmware, name));
  if (entries.length) run("mcopy", ["-s", "-i", `${image}@@${BOOT_START}`, ...entries, "::/"]);
  // The ext4 tree: everything but the boot partition's files.
  const staging = mkdtempSync(join(tmpdir(), "os-image-root-"));
  try {
    cpSync(root, staging, { recursive: true, verbatimSymlinks: true });
    rmSync(join(staging, "boot/firmware"), { recursive: true, force: true });
    mkdirSync(join(staging, "boot/firmware"), { recursive: true });
    run("mkfs.ext4", ["-q", "-F", "-L", "rootfs", "-d", staging, "-E", `offset=${rootStart}`, image, `${rootSize / 1024}k`]);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  if (!options.xz) return image;
  run("xz", ["-T1", "-f", image]);
  return `${image}.xz`;
}
