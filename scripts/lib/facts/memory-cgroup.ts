/**
 * Whether the kernel's memory cgroup controller is on (k3s will not start without it; Raspberry
 * Pi OS turns it off unless cmdline.txt says cgroup_enable=memory): `memory_cgroup` =
 * { enabled, version ("v2" from /sys/fs/cgroup/cgroup.controllers, "v1" from /proc/cgroups),
 * detail (what was read, for messages) }. Not an Ansible fact: this runner's own, for base-os
 * and doctor.
 */
import { lines, type Fact } from "./types.ts";

export interface MemoryCgroupFacts extends Record<string, unknown> {
  memory_cgroup: { enabled: boolean | null; version: "v1" | "v2" | null; detail: string };
}

export const memoryCgroupFact: Fact<MemoryCgroupFacts> = {
  name: "memory_cgroup",
  command: "if [ -r /sys/fs/cgroup/cgroup.controllers ]; then echo \"v2: $(cat /sys/fs/cgroup/cgroup.controllers)\"; else awk '$1 == \"memory\" { print \"v1: \" $0 }' /proc/cgroups; fi",
  parse(output) {
    const line = lines(output)[0] ?? "";
    if (line.startsWith("v2:")) {
      const controllers = line.slice(3).trim();
      return { memory_cgroup: { enabled: controllers.split(/\s+/).includes("memory"), version: "v2", detail: `cgroup v2 controllers: ${controllers || "none"}` } };
    }
    if (line.startsWith("v1:")) {
      // /proc/cgroups: subsys_name hierarchy num_cgroups enabled
      const fields = line.slice(3).trim().split(/\s+/);
      return { memory_cgroup: { enabled: fields[3] === "1", version: "v1", detail: `cgroup v1 /proc/cgroups: ${fields.join(" ")}` } };
    }
    return { memory_cgroup: { enabled: null, version: null, detail: "no cgroup information (neither /sys/fs/cgroup/cgroup.controllers nor /proc/cgroups)" } };
  },
};
