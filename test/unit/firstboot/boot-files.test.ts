/** Is it a Pi boot partition, and which first-boot layout: decided from the file names. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkBootFiles } from "../../../scripts/lib/firstboot/boot-files.ts";

const BOOKWORM = ["bcm2711-rpi-4-b.dtb", "bcm2712-rpi-5-b.dtb", "bootcode.bin", "cmdline.txt", "config.txt", "fixup4.dat", "kernel8.img", "overlays", "start4.elf"];

test("bookworm: a Pi boot partition with no cloud-init files gets firstrun", () => {
  const c = checkBootFiles(BOOKWORM, "console=tty1 root=PARTUUID=1-02 rootwait\n");
  assert.deepEqual(c.missing, []);
  assert.equal(c.layout, "firstrun");
});

test("trixie: any of user-data, meta-data, network-config means cloud-init (names are case-insensitive)", () => {
  for (const seed of ["user-data", "META-DATA", "network-config"]) {
    const c = checkBootFiles([...BOOKWORM, seed], "");
    assert.deepEqual(c.missing, []);
    assert.equal(c.layout, "cloud-init", seed);
    assert.match(c.layoutReason, new RegExp(seed, "i"));
  }
});

test("ds=nocloud on the command line means cloud-init even without seed files", () => {
  assert.equal(checkBootFiles(BOOKWORM, "rootwait ds=nocloud;i=abc").layout, "cloud-init");
  assert.equal(checkBootFiles(BOOKWORM, "rootwait xds=nocloud").layout, "firstrun");
});

test("upper-case 8.3 names count", () => {
  assert.deepEqual(checkBootFiles(["CMDLINE.TXT", "CONFIG.TXT", "START.ELF", "BCM2708-RPI-B.DTB"], "").missing, []);
});

test("a Pi 5-only partition has no start*.elf but bcm2712 device trees", () => {
  assert.deepEqual(checkBootFiles(["cmdline.txt", "config.txt", "bcm2712-rpi-5-b.dtb", "kernel_2712.img"], "").missing, []);
});

test("a FAT partition that is no Pi boot partition: everything missing is named", () => {
  assert.deepEqual(checkBootFiles(["EFI", "readme.txt"], undefined).missing, [
    "config.txt",
    "cmdline.txt",
    "firmware (start*.elf or bootcode.bin)",
    "Raspberry Pi device trees (bcm27xx-*.dtb)",
  ]);
  // config.txt and cmdline.txt alone are not enough: any FAT stick can hold those.
  assert.equal(checkBootFiles(["config.txt", "cmdline.txt"], "").missing.length, 2);
});
