/**
 * Finds the FAT boot partition on the target by reading its partition table (nothing is
 * written): the first MBR partition typed FAT whose first sector really is a FAT boot sector,
 * or the target itself when it is that partition (/dev/sdb1). Anything else is refused with
 * what was found instead.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { ExitCode, UserError } from "../errors.ts";
import { SECTOR, fatKind, hex, isFatType, parseMbr, type FatKind } from "./mbr.ts";

export interface BootPartition {
  /** Byte offset of the partition in the target. */
  offset: number;
  fat: FatKind;
  /** MBR partition number, undefined when the target is the partition itself. */
  number?: number;
  bytes?: number;
}

function readSector(path: string, offset: number): Uint8Array {
  const buf = new Uint8Array(SECTOR);
  const fd = openSync(path, "r");
  try {
    const n = readSync(fd, buf, 0, SECTOR, offset);
    return n === SECTOR ? buf : buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export function findBootPartition(path: string): BootPartition {
  const refuse = (why: string) => new UserError(`Refusing ${JSON.stringify(path)}: ${why}`, { exitCode: ExitCode.error, hint: "Flash Raspberry Pi OS to the card first, or give the Raspberry Pi OS .img file." });
  const first = readSector(path, 0);
  const own = fatKind(first);
  if (own) return { offset: 0, fat: own };
  const parts = parseMbr(first);
  if (!parts) throw refuse("it has no partition table (MBR) and no FAT file system: not a Raspberry Pi OS card");
  if (parts.some((p) => p.type === 0xee)) throw refuse("it has a GPT partition table; Raspberry Pi OS images use MBR");
  const fatParts = parts.filter((p) => isFatType(p.type));
  if (fatParts.length === 0) {
    const found = parts.length ? parts.map((p) => `partition ${p.number} type ${hex(p.type)}`).join(", ") : "no partitions";
    throw refuse(`it has no FAT partition (${found}): not a Raspberry Pi boot disk`);
  }
  const boot = fatParts[0];
  const offset = boot.startLba * SECTOR;
  const fat = fatKind(readSector(path, offset));
  if (!fat) throw refuse(`partition ${boot.number} is typed FAT (${hex(boot.type)}) but holds no FAT file system`);
  return { offset, fat, number: boot.number, bytes: boot.sectors * SECTOR };
}
