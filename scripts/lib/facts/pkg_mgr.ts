/** pkg_mgr as Ansible's: the first package manager found (apt on Debian and Raspberry Pi OS); "unknown" when none. */
import { lines, type Fact } from "./types.ts";

const MANAGERS: Record<string, string> = { "apt-get": "apt", dnf5: "dnf5", dnf: "dnf", yum: "yum", zypper: "zypper", pacman: "pacman", apk: "apk", emerge: "portage", opkg: "opkg" };

export const pkgMgrFact: Fact = {
  name: "pkg_mgr",
  command: `for p in ${Object.keys(MANAGERS).join(" ")}; do if command -v "$p" >/dev/null; then echo "$p"; break; fi; done`,
  parse(output) {
    return { pkg_mgr: MANAGERS[lines(output)[0]?.trim() ?? ""] ?? "unknown" };
  },
};
