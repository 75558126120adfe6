/**
 * Is this FAT partition a Raspberry Pi boot partition, and which first-boot mechanism does
 * its OS use? Decided from the files alone (pure):
 *  - a Pi boot partition has config.txt, cmdline.txt, the firmware (start*.elf, or
 *    bootcode.bin on the oldest models; the Pi 5 has neither and boots from its EEPROM) and the
 *    device trees of Broadcom's Pi SoCs (bcm27xx-*.dtb, bcm2712-*.dtb);
 *  - Raspberry Pi OS from trixie (2025) on ships cloud-init's NoCloud seed files (user-data,
 *    meta-data, network-config) on this partition and reads them at first boot; bookworm and
 *    older have none and run the Imager's `firstrun.sh` through `systemd.run=` instead.
 */

export type Layout = "firstrun" | "cloud-init";

export const CLOUD_INIT_FILES = ["user-data", "meta-data", "network-config"];

export interface BootCheck {
  /** What is missing for a Pi boot partition; empty when it is one. */
  missing: string[];
  layout: Layout;
  /** Why that layout, for the plan shown to the user. */
  layoutReason: string;
}

export function checkBootFiles(names: string[], cmdline: string | undefined): BootCheck {
  const lower = names.map((n) => n.toLowerCase());
  const missing: string[] = [];
  for (const f of ["config.txt", "cmdline.txt"]) if (!lower.includes(f)) missing.push(f);
  const firmware = lower.some((n) => /^start\w*\.elf$/.test(n) || n === "bootcode.bin");
  const dtbs = lower.filter((n) => /^bcm27\d\d-.*\.dtb$/.test(n));
  if (!firmware && dtbs.every((n) => !n.startsWith("bcm2712"))) missing.push("firmware (start*.elf or bootcode.bin)");
  if (dtbs.length === 0) missing.push("Raspberry Pi device trees (bcm27xx-*.dtb)");

  const seeds = CLOUD_INIT_FILES.filter((f) => lower.includes(f));
  if (seeds.length > 0) return { missing, layout: "cloud-init", layoutReason: `cloud-init: the partition has ${seeds.join(", ")} (trixie or later)` };
  if (cmdline && /(^|\s)ds=nocloud/.test(cmdline)) return { missing, layout: "cloud-init", layoutReason: "cloud-init: cmdline.txt names the NoCloud data source (ds=nocloud)" };
  return { missing, layout: "firstrun", layoutReason: "firstrun: no cloud-init files on the partition (bookworm or older)" };
}
