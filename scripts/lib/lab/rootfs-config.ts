/**
 * What the lab changes in a freshly debootstrapped Debian so it boots well under nspawn on
 * these machines (see shared/notes/lab.md): timers masked, sshd tuned, udev rules for a
 * loop-device SSD, and the qemu-user credential work-around on arm64. Idempotent.
 */
import { chmodSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { NodeArch } from "./config.ts";

/** Bump when anything below changes: cached rootfs with an older version are re-customized. */
export const ROOTFS_CONFIG_VERSION = 5;

/** Units that only cost time or fail in a container. */
const MASKED_UNITS = [
  "apt-daily.timer",
  "apt-daily-upgrade.timer",
  "apt-daily.service",
  "apt-daily-upgrade.service",
  "e2scrub_all.timer",
  "e2scrub_all.service",
  "e2scrub_reap.service",
  "fstrim.timer",
  "man-db.timer",
  "dpkg-db-backup.timer",
  "systemd-networkd-wait-online.service",
  "run-rpc_pipefs.mount",
];

/** Under qemu-user these fail with "Failed to set up credentials: Invalid argument". */
const CREDENTIAL_UNITS = [
  "procps.service",
  "systemd-firstboot.service",
  "systemd-sysctl.service",
  "systemd-sysusers.service",
  "systemd-tmpfiles-clean.service",
  "systemd-tmpfiles-setup-dev.service",
  "systemd-tmpfiles-setup.service",
];

function put(root: string, path: string, content: string, mode = 0o644): void {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
  chmodSync(file, mode);
}

function mask(root: string, unit: string): void {
  const link = join(root, "etc/systemd/system", unit);
  rmSync(link, { force: true });
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync("/dev/null", link);
}

/** nspawn's /dev is a tmpfs: create partition nodes of passed-through disks ourselves. */
const PARTITION_HELPER = `#!/bin/sh
# Lab (systemd-nspawn): /dev is a tmpfs, so partitions of a passed-through loop disk never get
# a device node. Create (or remove) it when the parent disk's node exists in this /dev.
# Usage: lab-partition-node add|remove NAME [MAJOR MINOR]
action=$1 name=$2
case "$action" in
add)
  parent=$(basename "$(readlink -f "/sys/class/block/$name/..")")
  [ -b "/dev/$parent" ] || exit 0
  [ -b "/dev/$name" ] || mknod -m 0660 "/dev/$name" b "$3" "$4"
  chgrp disk "/dev/$name" 2>/dev/null
  ;;
remove)
  rm -f "/dev/$name"
  ;;
esac
exit 0
`;

const PARTITION_RULES = `# Lab: device nodes for partitions of passed-through disks (see lab-partition-node).
SUBSYSTEM=="block", ENV{DEVTYPE}=="partition", ACTION=="add|change", PROGRAM="/usr/local/sbin/lab-partition-node add %k %M %m"
SUBSYSTEM=="block", ENV{DEVTYPE}=="partition", ACTION=="remove", PROGRAM="/usr/local/sbin/lab-partition-node remove %k"
`;

/** After 60-block.rules, whose OPTIONS+="watch" would otherwise win. */
const NOWATCH_RULES = `# Lab, critical on this kernel: udev re-reading the table after parted exits drops new partitions.
ACTION!="remove", SUBSYSTEM=="block", KERNEL=="loop[0-9]*", ENV{DEVTYPE}=="disk", OPTIONS+="nowatch"
`;

/** qemu-user lacks BLKGETDISKSEQ. */
const DISKSEQ_RULES = `SUBSYSTEM=="block", ENV{ID_IGNORE_DISKSEQ}="1"\n`;

/** Without a re-exec, systemd never sees the by-uuid device and fstab mounts wait forever. */
const DEVICES_SETTLED_UNIT = `[Unit]
Description=Lab: let systemd see the passed-through disks after udev coldplug
DefaultDependencies=no
After=systemd-udev-trigger.service systemd-udevd.service
Wants=systemd-udev-trigger.service
ConditionPathIsReadWrite=/sys

[Service]
Type=oneshot
ExecStart=/bin/udevadm settle --timeout=10
ExecStart=/bin/systemctl daemon-reexec

[Install]
WantedBy=sysinit.target
`;

const SSHD_CONFIG = `# Lab: many parallel sessions (runner, Ansible, benchmark), no reverse DNS (no DNS here).
MaxSessions 100
MaxStartups 100:30:200
UseDNS no
PermitRootLogin prohibit-password
`;

/**
 * timesyncd skips containers (ConditionVirtualization=!container), so the ntp role could not be
 * tested. It runs fine here and cannot touch the host's clock: nspawn withholds CAP_SYS_TIME.
 */
const TIMESYNCD_DROP_IN = `# Lab: run in the container too (it cannot set the clock: no CAP_SYS_TIME under nspawn).
[Unit]
ConditionVirtualization=
ConditionCapability=
`;

/** Applies the lab's changes to a debootstrapped root filesystem. */
export function customizeRootfs(root: string, arch: NodeArch): void {
  for (const name of readdirSync(join(root, "etc/ssh"))) {
    if (name.startsWith("ssh_host_")) rmSync(join(root, "etc/ssh", name));
  }
  put(root, "etc/ssh/sshd_config.d/lab.conf", SSHD_CONFIG);
  for (const unit of MASKED_UNITS) mask(root, unit);
  if (arch === "arm64") {
    for (const unit of CREDENTIAL_UNITS) {
      put(root, `etc/systemd/system/${unit}.d/lab-qemu-credentials.conf`, "[Service]\nLoadCredential=\n");
    }
    put(root, "etc/udev/rules.d/10-lab-diskseq.rules", DISKSEQ_RULES);
    // Under qemu-user a unit's private network namespace fails ("Failed at step NETWORK ...
    // Input/output error"): hostnamectl (the hostname module) would time out.
    put(root, "etc/systemd/system/systemd-hostnamed.service.d/lab-qemu-netns.conf", "[Service]\nPrivateNetwork=no\n");
  }
  put(root, "etc/systemd/system/systemd-timesyncd.service.d/lab-container.conf", TIMESYNCD_DROP_IN);
  put(root, "usr/local/sbin/lab-partition-node", PARTITION_HELPER, 0o755);
  // Before 60-persistent-storage.rules: its blkid probe (by-uuid links) needs the node to exist.
  rmSync(join(root, "etc/udev/rules.d/61-lab-partitions.rules"), { force: true });
  put(root, "etc/udev/rules.d/10-lab-partitions.rules", PARTITION_RULES);
  put(root, "etc/udev/rules.d/61-lab-nowatch.rules", NOWATCH_RULES);
  put(root, "etc/systemd/system/lab-devices-settled.service", DEVICES_SETTLED_UNIT);
  const wants = join(root, "etc/systemd/system/sysinit.target.wants/lab-devices-settled.service");
  rmSync(wants, { force: true });
  mkdirSync(dirname(wants), { recursive: true });
  symlinkSync("/etc/systemd/system/lab-devices-settled.service", wants);
  put(root, "etc/apt/sources.list", "deb http://deb.debian.org/debian bookworm main\ndeb http://deb.debian.org/debian bookworm-updates main\n");
  put(root, "etc/apt/apt.conf.d/80lab", 'Acquire::Languages "none";\nAcquire::Retries "3";\n');
  // No DNS server exists in the lab: an empty resolv.conf makes lookups fail fast.
  rmSync(join(root, "etc/resolv.conf"), { force: true });
  put(root, "etc/resolv.conf", "# lab: no DNS server; apt goes through the lab's proxy\n");
  put(root, "etc/machine-id", "");
  mkdirSync(join(root, "root/.ssh"), { recursive: true, mode: 0o700 });
}
