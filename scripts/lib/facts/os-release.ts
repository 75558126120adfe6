/**
 * Distribution facts from /etc/os-release (+ /etc/debian_version for the point release),
 * named as Ansible's: distribution, distribution_release, distribution_version,
 * distribution_major_version, os_family.
 */
import { keyValues, type Fact } from "./types.ts";

const FAMILIES: Record<string, string> = {
  debian: "Debian", ubuntu: "Debian", raspbian: "Debian", linuxmint: "Debian", pop: "Debian",
  fedora: "RedHat", rhel: "RedHat", centos: "RedHat", rocky: "RedHat", almalinux: "RedHat",
  arch: "Archlinux", alpine: "Alpine", opensuse: "Suse", sles: "Suse",
};

/** Ansible's capitalisation of ID (debian -> Debian, raspbian -> Debian as on Raspberry Pi OS). */
const NAMES: Record<string, string> = {
  debian: "Debian", ubuntu: "Ubuntu", raspbian: "Debian", fedora: "Fedora", centos: "CentOS",
  rhel: "RedHat", arch: "Archlinux", alpine: "Alpine", rocky: "Rocky", almalinux: "AlmaLinux",
};

export const osReleaseFact: Fact = {
  name: "os-release",
  command: "cat /etc/os-release || cat /usr/lib/os-release; printf 'DEBIAN_VERSION_FILE=%s\\n' \"$(cat /etc/debian_version)\"",
  parse(output) {
    const kv = keyValues(output, /=/);
    const value = (key: string) => (kv.get(key) ?? "").replace(/^"(.*)"$/, "$1").replace(/^'(.*)'$/, "$1");
    const id = value("ID").toLowerCase();
    const like = value("ID_LIKE").toLowerCase().split(/\s+/).filter(Boolean);
    const debianFile = value("DEBIAN_VERSION_FILE");
    let version = value("VERSION_ID");
    // Debian's VERSION_ID is "12"; Ansible reports the point release from /etc/debian_version.
    if ((id === "debian" || id === "raspbian") && /^\d+\.\d+/.test(debianFile)) version = debianFile;
    const release = value("VERSION_CODENAME") || (/\(([a-z]+)\)/i.exec(value("VERSION"))?.[1] ?? "").toLowerCase();
    const family = FAMILIES[id] ?? like.map((l) => FAMILIES[l]).find(Boolean) ?? (id ? id[0].toUpperCase() + id.slice(1) : "");
    return {
      distribution: NAMES[id] ?? (id ? id[0].toUpperCase() + id.slice(1) : ""),
      distribution_release: release,
      distribution_version: version,
      distribution_major_version: version.split(".")[0] ?? "",
      os_family: family,
      distribution_pretty_name: value("PRETTY_NAME"),
    };
  },
};
