/**
 * Ansible's virtualization facts from systemd-detect-virt: virtualization_type ("kvm",
 * "systemd-nspawn", "docker", ... or "NA" on bare metal), virtualization_role ("guest" or "NA")
 * and virtualization_tech_guest, which lists "container" for any container, as Ansible's does.
 * Roles use it to leave alone what a container must not touch (the host's swap, kernel modules).
 */
import { lines, type Fact } from "./types.ts";

export interface VirtualizationFacts extends Record<string, unknown> {
  virtualization_type: string;
  virtualization_role: "guest" | "NA";
  virtualization_tech_guest: string[];
  virtualization_tech_host: string[];
}

export const virtualizationFact: Fact<VirtualizationFacts> = {
  name: "virtualization",
  // --container prints "none" (exit 1) outside a container; the plain call names any virtualization.
  command: "echo \"virt: $(systemd-detect-virt 2>/dev/null)\"; echo \"container: $(systemd-detect-virt --container 2>/dev/null)\"",
  parse(output) {
    const value = (key: string) => {
      const line = lines(output).find((l) => l.startsWith(`${key}:`));
      const v = line?.slice(key.length + 1).trim() ?? "";
      return v === "" || v === "none" ? undefined : v;
    };
    const container = value("container");
    const virt = container ?? value("virt");
    return {
      virtualization_type: virt ?? "NA",
      virtualization_role: virt ? "guest" : "NA",
      virtualization_tech_guest: virt ? (container ? [container, "container"] : [virt]) : [],
      virtualization_tech_host: [],
    };
  },
};
