/** The partition table and FAT boot sector readers, on sectors built byte by byte. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fatKind, mbrSector, parseMbr } from "../../../scripts/lib/firstboot/mbr.ts";

function mbr(entries: Array<{ type: number; start: number; count: number; boot?: boolean }>): Uint8Array {
  const s = Buffer.alloc(512);
  entries.forEach((e, i) => {
    const at = 446 + i * 16;
    s[at] = e.boot ? 0x80 : 0;
    s[at + 4] = e.type;
    s.writeUInt32LE(e.start, at + 8);
    s.writeUInt32LE(e.count, at + 12);
  });
  s[510] = 0x55;
  s[511] = 0xaa;
  return s;
}

function bootSector(kind: "FAT16" | "FAT32"): Uint8Array {
  const s = Buffer.alloc(512);
  s[0] = 0xeb;
  s.writeUInt16LE(512, 11);
  s[13] = 4; // sectors per cluster
  s.writeUInt16LE(32, 14); // reserved sectors
  s.write(kind === "FAT32" ? "FAT32   " : "FAT16   ", kind === "FAT32" ? 82 : 54, "ascii");
  s[510] = 0x55;
  s[511] = 0xaa;
  return s;
}

test("a Raspberry Pi OS table: FAT32 LBA boot partition at 8192, Linux root after it", () => {
  const parts = parseMbr(mbr([{ type: 0x0c, start: 8192, count: 1048576 }, { type: 0x83, start: 1056768, count: 4000000 }]));
  assert.deepEqual(parts, [
    { number: 1, type: 0x0c, bootable: false, startLba: 8192, sectors: 1048576 },
    { number: 2, type: 0x83, bootable: false, startLba: 1056768, sectors: 4000000 },
  ]);
});

test("empty entries are skipped; numbers stay the slots'", () => {
  const parts = parseMbr(mbr([{ type: 0, start: 0, count: 0 }, { type: 0x0e, start: 2048, count: 100, boot: true }]));
  assert.deepEqual(parts, [{ number: 2, type: 0x0e, bootable: true, startLba: 2048, sectors: 100 }]);
});

test("no 0x55AA signature, or a status byte that is neither 0 nor 0x80: not an MBR", () => {
  assert.equal(parseMbr(Buffer.alloc(512)), undefined);
  const bad = Buffer.from(mbr([{ type: 0x0c, start: 8192, count: 10 }]));
  bad[446] = 0x12;
  assert.equal(parseMbr(bad), undefined);
  assert.equal(parseMbr(Buffer.alloc(100)), undefined);
});

test("FAT boot sectors are told apart by their BPB; an MBR is not one", () => {
  assert.equal(fatKind(bootSector("FAT32")), "FAT32");
  assert.equal(fatKind(bootSector("FAT16")), "FAT16");
  assert.equal(fatKind(mbr([{ type: 0x0c, start: 8192, count: 10 }])), undefined);
  const noJump = Buffer.from(bootSector("FAT32"));
  noJump[0] = 0;
  assert.equal(fatKind(noJump), undefined);
  const oddSectorSize = Buffer.from(bootSector("FAT16"));
  oddSectorSize.writeUInt16LE(500, 11);
  assert.equal(fatKind(oddSectorSize), undefined);
});

test("mbrSector writes what parseMbr reads: the entries in order, the disk identifier, the signature", () => {
  const sector = mbrSector(0x5ca1ab1e, [
    { type: 0x0c, startLba: 8192, sectors: 196608 },
    { type: 0x83, startLba: 204800, sectors: 1048576 },
  ]);
  assert.deepEqual(parseMbr(sector), [
    { number: 1, type: 0x0c, bootable: false, startLba: 8192, sectors: 196608 },
    { number: 2, type: 0x83, bootable: false, startLba: 204800, sectors: 1048576 },
  ]);
  // Byte for byte the sector built by hand above, with the identifier at offset 440.
  const expected = Buffer.from(mbr([{ type: 0x0c, start: 8192, count: 196608 }, { type: 0x83, start: 204800, count: 1048576 }]));
  expected.writeUInt32LE(0x5ca1ab1e, 440);
  assert.deepEqual(Buffer.from(sector), expected);
});
