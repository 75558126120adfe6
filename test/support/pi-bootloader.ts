/**
 * The lab's Raspberry Pi 4 / Pi 5 bootloader, from a client namespace on the lab bridge: the
 * DHCP DISCOVER with the Pi's vendor class (the answer must carry option 43 "Raspberry Pi
 * Boot"), then the TFTP sequence from the client's folder (TFTP_PREFIX 0: the serial), every
 * file checked against what it must be; fails on any missing or misplaced file. What a real Pi
 * does next (start4.elf runs, the firmware reads config.txt) is the lab's: the caller boots the
 * fetched kernel8.img, initramfs and cmdline.txt in an arm64 VM. Facts:
 * shared/notes/cluster-facts.md (Pi 4 and Pi 5 sequences).
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../../scripts/lib/lab/exec.ts";

/** The bootloader's DHCP DISCOVER as a plain Node script, run inside a client namespace. */
export const PI_DHCP_PROBE = join(dirname(fileURLToPath(import.meta.url)), "pi-dhcp-probe.mjs");
/** Option 60 of a Pi 4/5 bootloader's DISCOVER. */
export const PI_VENDOR_CLASS = "PXEClient:Arch:00000:UNDI:002001";

export type PiModel = "pi4" | "pi5";

/** The files each bootloader asks for, in order (config.txt's auto_initramfs=1 adds the initramfs). */
export const PI_BOOT_FILES: Record<PiModel, { files: string[]; kernel: string; initramfs: string }> = {
  pi4: { files: ["start4.elf", "fixup4.dat", "config.txt", "bcm2711-rpi-4-b.dtb", "overlays/README", "cmdline.txt", "kernel8.img", "initramfs8"], kernel: "kernel8.img", initramfs: "initramfs8" },
  // start.elf is inside the Pi 5 bootloader: the folder needs config.txt and its device tree.
  pi5: { files: ["config.txt", "bcm2712-rpi-5-b.dtb", "cmdline.txt", "kernel_2712.img", "initramfs_2712"], kernel: "kernel_2712.img", initramfs: "initramfs_2712" },
};

export interface DhcpOffer {
  type: number;
  server: string;
  siaddr: string;
  yiaddr: string;
  vendor: string;
  option43: string;
}

export interface PiBoot {
  /** The offer the bootloader took (option 43 "Raspberry Pi Boot"). */
  offer: DhcpOffer;
  kernel: string;
  initramfs: string;
  cmdline: string;
  /** Everything wrong, one line each (empty: the sequence passed). */
  problems: string[];
}

/**
 * Runs one Pi boot's DHCP + TFTP from `netns` (its eth0 takes the Pi's MAC and the offered
 * address for the transfer, and gives both up afterwards: the VM that boots next has them).
 * `expected(file)` is the content a file must have, or undefined when only its presence counts.
 */
export async function piBootloader(o: {
  netns: string;
  mac: string;
  model: PiModel;
  folder: string;
  into: string;
  expected: (file: string) => Buffer | undefined;
}): Promise<PiBoot> {
  const problems: string[] = [];
  const ip = (...args: string[]) => run(["ip", "-n", o.netns, ...args]);
  await ip("link", "set", "eth0", "down");
  await ip("link", "set", "eth0", "address", o.mac);
  await ip("link", "set", "eth0", "up");
  // The DISCOVER goes to 255.255.255.255 from no address: the namespace needs a route for it.
  await ip("route", "replace", "255.255.255.255/32", "dev", "eth0");
  try {
    const probe = await run(["ip", "netns", "exec", o.netns, process.execPath, PI_DHCP_PROBE, o.mac, PI_VENDOR_CLASS]);
    const offers = JSON.parse(probe.stdout.trim()) as DhcpOffer[];
    const offer = offers.find((x) => x.option43.includes("Raspberry Pi Boot"));
    if (!offer) throw new Error(`No DHCP offer with option 43 "Raspberry Pi Boot" for ${o.mac}: ${JSON.stringify(offers)}`);
    // The Pi bootloader takes the TFTP server from the offer (siaddr, else the server identifier).
    const server = offer.siaddr !== "0.0.0.0" ? offer.siaddr : offer.server;
    if (offer.yiaddr !== "0.0.0.0") await ip("addr", "add", `${offer.yiaddr}/24`, "dev", "eth0");
    mkdirSync(o.into, { recursive: true });
    const fetched = new Map<string, string>();
    for (const file of PI_BOOT_FILES[o.model].files) {
      const local = resolve(o.into, file.replaceAll("/", "_"));
      rmSync(local, { force: true });
      const r = await run(["ip", "netns", "exec", o.netns, "busybox", "tftp", "-g", "-r", `${o.folder}/${file}`, "-l", local, server], { check: false });
      if (r.code !== 0 || !existsSync(local)) {
        problems.push(`${o.folder}/${file}: not served by ${server} (${r.stderr.trim()})`);
        continue;
      }
      fetched.set(file, local);
      const want = o.expected(file);
      if (want && !readFileSync(local).equals(want)) problems.push(`${o.folder}/${file}: not the file it must be (${readFileSync(local).length} bytes, expected ${want.length})`);
    }
    const { kernel, initramfs } = PI_BOOT_FILES[o.model];
    return { offer, kernel: fetched.get(kernel) ?? "", initramfs: fetched.get(initramfs) ?? "", cmdline: fetched.has("cmdline.txt") ? readFileSync(fetched.get("cmdline.txt")!, "utf8") : "", problems };
  } finally {
    await ip("addr", "flush", "dev", "eth0");
    await ip("link", "set", "eth0", "down");
  }
}
