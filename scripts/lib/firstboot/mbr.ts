/**
 * The boot sector of the target: an MBR partition table (every Raspberry Pi OS image has one,
 * the FAT boot partition first), or a FAT boot sector itself when the target is the partition
 * (`/dev/sdb1`). Pure functions over the first 512 bytes; nothing here reads a disk.
 */

export const SECTOR = 512;

/** MBR partition types that hold FAT (12/16/32, CHS or LBA). */
const FAT_TYPES = new Set([0x01, 0x04, 0x06, 0x0b, 0x0c, 0x0e]);

export interface MbrPartition {
  /** 1-based, as the kernel names them (sdb1). */
  number: number;
  type: number;
  bootable: boolean;
  startLba: number;
  sectors: number;
}

export type FatKind = "FAT12" | "FAT16" | "FAT32";

/** The four primary entries of an MBR, empty ones left out; undefined when sector 0 is no MBR. */
export function parseMbr(sector: Uint8Array): MbrPartition[] | undefined {
  if (sector.length < SECTOR || sector[510] !== 0x55 || sector[511] !== 0xaa) return undefined;
  const view = new DataView(sector.buffer, sector.byteOffset, SECTOR);
  const parts: MbrPartition[] = [];
  for (let i = 0; i < 4; i++) {
    const at = 446 + i * 16;
    const status = sector[at];
    if (status !== 0x00 && status !== 0x80) return undefined; // not a partition table
    const type = sector[at + 4];
    const startLba = view.getUint32(at + 8, true);
    const sectors = view.getUint32(at + 12, true);
    if (type === 0 || sectors === 0) continue;
    parts.push({ number: i + 1, type, bootable: status === 0x80, startLba, sectors });
  }
  return parts;
}

/**
 * Sector 0 of a disk holding these primary partitions (in LBA sectors, in this order) with
 * `diskId` as its identifier (the PARTUUID prefix): what parseMbr reads, for the images the
 * lab and the tests build in plain files.
 */
export function mbrSector(diskId: number, partitions: Array<{ type: number; startLba: number; sectors: number }>): Uint8Array {
  const sector = new Uint8Array(SECTOR);
  const view = new DataView(sector.buffer);
  partitions.forEach((p, i) => {
    const at = 446 + i * 16;
    sector[at + 4] = p.type;
    view.setUint32(at + 8, p.startLba, true);
    view.setUint32(at + 12, p.sectors, true);
  });
  view.setUint32(440, diskId, true);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

/** The FAT variant of a FAT boot sector (BIOS parameter block), or undefined when it is none. */
export function fatKind(sector: Uint8Array): FatKind | undefined {
  if (sector.length < SECTOR || sector[510] !== 0x55 || sector[511] !== 0xaa) return undefined;
  if (sector[0] !== 0xeb && sector[0] !== 0xe9) return undefined; // a boot sector starts with a jump
  const view = new DataView(sector.buffer, sector.byteOffset, SECTOR);
  const bytesPerSector = view.getUint16(11, true);
  if (![512, 1024, 2048, 4096].includes(bytesPerSector) || sector[13] === 0 || view.getUint16(14, true) === 0) return undefined;
  const label = (from: number) => String.fromCharCode(...sector.subarray(from, from + 8));
  if (label(82).startsWith("FAT32")) return "FAT32";
  const old = label(54);
  if (old.startsWith("FAT16")) return "FAT16";
  if (old.startsWith("FAT12")) return "FAT12";
  return undefined;
}

export function isFatType(type: number): boolean {
  return FAT_TYPES.has(type);
}

export const hex = (type: number) => `0x${type.toString(16).padStart(2, "0")}`;
