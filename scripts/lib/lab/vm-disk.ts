/**
 * A VM node's disk: its personalized root tree (same identity, key and apt proxy as a
 * container node) made into a sparse ext4 image with `mkfs.ext4 -d` (no loop device), plus
 * what a container gets from the host and a VM must do itself: its address and its fstab.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { run } from "./exec.ts";

/** Room for the root plus what a netboot master keeps (imported tree, client roots). Sparse. */
export const VM_DISK_SIZE = "8G";

function enable(root: string, target: string, unit: string): void {
  const link = join(root, "etc/systemd/system", `${target}.wants`, unit);
  rmSync(link, { force: true });
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(`/lib/systemd/system/${unit}`, link);
}

/** Static address on the first NIC by systemd-networkd; no default route (as container nodes). */
export function writeVmNetwork(root: string, address: string): void {
  writeFileSync(
    join(root, "etc/systemd/network/10-lab.network"),
    `# Lab VM: the lab bridge, no default route (traffic only reaches the lab subnet).\n[Match]\nName=eth0\n\n[Network]\nAddress=${address}/24\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n`,
  );
  enable(root, "multi-user.target", "systemd-networkd.service");
  enable(root, "sockets.target", "systemd-networkd.socket");
  writeFileSync(join(root, "etc/fstab"), "/dev/vda / ext4 defaults,errors=remount-ro 0 1\n");
}

/** Writes `root` into a new sparse ext4 image at `disk`. */
export async function makeDisk(root: string, disk: string, size = VM_DISK_SIZE): Promise<void> {
  rmSync(disk, { force: true });
  await run(["mkfs.ext4", "-q", "-F", "-L", "lab-root", "-d", root, "--", disk, size]);
}
