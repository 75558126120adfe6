/**
 * What the doctor reads on a host: ONE read-only command printing named sections, and the
 * parser that splits them. Inventory values (the SSD's mount point) reach the command only
 * POSIX-quoted, after `--`.
 */
import { quote } from "../shell/quote.ts";

const MARK = "@@doctor:";

export interface HostProbe {
  controllers?: string;
  procCgroups: string;
  hostname: string;
  timesync: string;
  ipAddr: string;
  fstab: string;
  live: string;
  iscsid: string;
}

/** The command for a host; `mount` is the SSD's mount point (ssd_storage_mount). */
export function probeCommand(mount: string): string {
  const m = quote(mount);
  return [
    `echo ${MARK}controllers; if [ -r /sys/fs/cgroup/cgroup.controllers ]; then cat /sys/fs/cgroup/cgroup.controllers; else echo ${MARK}v1; fi`,
    `echo ${MARK}proc-cgroups; cat /proc/cgroups 2>/dev/null`,
    `echo ${MARK}hostname; hostname`,
    `echo ${MARK}timesync`,
    `echo "synchronized=$(timedatectl show --property=NTPSynchronized --value 2>/dev/null)"`,
    `echo "server=$(timedatectl show-timesync --property=ServerName --value 2>/dev/null)"`,
    `if command -v chronyc >/dev/null 2>&1; then echo "chrony=$(chronyc -n sources 2>/dev/null | sed -n 's/^\\^\\* *\\([^ ]*\\).*/\\1/p' | head -n 1)"; fi`,
    `echo ${MARK}ip-addr; ip -o -4 addr show 2>/dev/null`,
    `echo ${MARK}fstab; findmnt --fstab -n -o SOURCE --mountpoint ${m} 2>/dev/null`,
    `echo ${MARK}live; findmnt -P -n -o SOURCE,FSTYPE,UUID --mountpoint ${m} 2>/dev/null`,
    `echo ${MARK}iscsid; systemctl is-active iscsid 2>/dev/null`,
    "true",
  ].join("\n");
}

/** Splits the command's output into its sections. */
export function parseProbe(output: string): HostProbe {
  const sections = new Map<string, string[]>();
  let current = "";
  for (const line of output.split("\n")) {
    if (line.startsWith(MARK)) {
      current = line.slice(MARK.length).trim();
      sections.set(current, []);
    } else if (current) sections.get(current)!.push(line);
  }
  const text = (name: string) => (sections.get(name) ?? []).join("\n").trim();
  return {
    controllers: sections.has("v1") ? undefined : text("controllers"),
    procCgroups: text("proc-cgroups"),
    hostname: text("hostname"),
    timesync: text("timesync"),
    ipAddr: text("ip-addr"),
    fstab: text("fstab"),
    live: text("live"),
    iscsid: text("iscsid"),
  };
}
