/**
 * The doctor's checks as pure functions: captured command output and the inventory's
 * expectations in, a verdict out. No I/O here (scripts/lib/doctor/probe.ts gathers the output,
 * scripts/doctor.ts runs it), so every verdict is unit-tested on real captured outputs.
 */

export type Status = "ok" | "fail" | "skip";

/** One line of the report: a host, a check, its status and why. */
export interface Verdict {
  host: string;
  check: CheckName;
  status: Status;
  detail: string;
}

export const CHECKS = ["memory-cgroup", "hostname-unique", "time-sync", "static-address", "ssd-mount", "iscsid", "node-ready", "longhorn-schedulable"] as const;
export type CheckName = (typeof CHECKS)[number];

const verdict = (host: string, check: CheckName, status: Status, detail: string): Verdict => ({ host, check, status, detail });

/**
 * Memory cgroup: cgroup v2 lists "memory" in /sys/fs/cgroup/cgroup.controllers; v1 has
 * `memory <hierarchy> <num> <enabled>` in /proc/cgroups. `controllers` is undefined on v1.
 */
export function memoryCgroup(host: string, controllers: string | undefined, procCgroups: string): Verdict {
  if (controllers !== undefined && controllers.trim() !== "") {
    return controllers.split(/\s+/).includes("memory")
      ? verdict(host, "memory-cgroup", "ok", "memory controller enabled (cgroup v2)")
      : verdict(host, "memory-cgroup", "fail", `memory controller missing from cgroup.controllers (${controllers.trim()}): add cgroup_memory=1 cgroup_enable=memory at the END of cmdline.txt and reboot (base-os role)`);
  }
  const row = procCgroups.split("\n").map((l) => l.trim().split(/\s+/)).find((f) => f[0] === "memory");
  if (!row) return verdict(host, "memory-cgroup", "fail", "no memory cgroup in /proc/cgroups: the kernel lacks it");
  return row[3] === "1"
    ? verdict(host, "memory-cgroup", "ok", "memory cgroup enabled (cgroup v1)")
    : verdict(host, "memory-cgroup", "fail", "memory cgroup disabled in /proc/cgroups: add cgroup_memory=1 cgroup_enable=memory at the END of cmdline.txt and reboot (base-os role)");
}

/** Every host's hostname must be unique (k3s refuses duplicates); an empty one fails too. */
export function hostnamesUnique(hostnames: Map<string, string>): Verdict[] {
  const owners = new Map<string, string[]>();
  for (const [host, name] of hostnames) owners.set(name.toLowerCase(), [...(owners.get(name.toLowerCase()) ?? []), host]);
  return [...hostnames].map(([host, name]) => {
    if (!name) return verdict(host, "hostname-unique", "fail", "the host has no hostname");
    const same = owners.get(name.toLowerCase())!.filter((h) => h !== host);
    return same.length === 0
      ? verdict(host, "hostname-unique", "ok", name)
      : verdict(host, "hostname-unique", "fail", `hostname "${name}" is also the hostname of ${same.join(", ")}: give each node its own (base-os role, base_os_hostname)`);
  });
}

/**
 * Time in sync with a configured server. `timesync` is `key=value` lines: synchronized
 * (timedatectl NTPSynchronized), server (show-timesync ServerName), chrony (the `^*` source of
 * chronyc sources, when chrony serves time here). `expected`: the servers the ntp role set.
 */
export function timeSync(host: string, timesync: string, expected: string[]): Verdict {
  const kv = keyValues(timesync);
  const server = kv.get("chrony") || kv.get("server") || "";
  const synced = kv.get("chrony") ? true : kv.get("synchronized") === "yes";
  if (!synced && !kv.get("synchronized")) {
    return verdict(host, "time-sync", "fail", "timedatectl gave no answer (systemd not running?): cannot tell whether the clock is synchronized");
  }
  if (!synced) {
    return verdict(host, "time-sync", "fail", `clock not synchronized${server ? ` (trying ${server})` : ""}: check that ${expected.join(" or ") || "a time server"} answers from the node (timedatectl timesync-status)`);
  }
  if (expected.length > 0 && !expected.includes(server)) {
    return verdict(host, "time-sync", "fail", `synchronized with ${server || "an unknown server"}, not a configured one (${expected.join(", ")}): run the ntp role`);
  }
  return verdict(host, "time-sync", "ok", `synchronized with ${server}`);
}

/** The static address (static_ip_address, CIDR) is on an interface (`ip -o -4 addr show`). */
export function staticAddress(host: string, ipAddr: string, wanted: string): Verdict {
  if (!wanted) return verdict(host, "static-address", "skip", "no static_ip_address for this host");
  const want = wanted.includes("/") ? wanted : `${wanted}/`;
  const found = ipAddr.split("\n").map((l) => l.trim().split(/\s+/)).filter((f) => f[2] === "inet").map((f) => ({ iface: f[1], cidr: f[3] }));
  const hit = found.find((a) => (wanted.includes("/") ? a.cidr === want : a.cidr.startsWith(want)));
  return hit
    ? verdict(host, "static-address", "ok", `${hit.cidr} on ${hit.iface}`)
    : verdict(host, "static-address", "fail", `${wanted} is on no interface (has: ${found.map((a) => `${a.cidr} ${a.iface}`).join(", ") || "none"}): run the static-ip role`);
}

/**
 * The SSD mounted by UUID: `fstab` is findmnt --fstab's SOURCE for the mount point, `live` is
 * findmnt -P's `SOURCE="..." FSTYPE="..." UUID="..."` of what is mounted there now.
 */
export function ssdMount(host: string, mount: string, device: string, fstab: string, live: string): Verdict {
  if (!device) return verdict(host, "ssd-mount", "skip", "no ssd_storage_device for this host");
  const source = fstab.trim();
  if (!source) return verdict(host, "ssd-mount", "fail", `no fstab entry for ${mount}: run the ssd-storage role`);
  if (!/^UUID=/.test(source)) return verdict(host, "ssd-mount", "fail", `fstab mounts ${mount} from ${source}, not by UUID (a USB disk's /dev name can change): run the ssd-storage role`);
  const pairs = new Map([...live.matchAll(/([A-Z]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
  const [dev, fstype, uuid] = ["SOURCE", "FSTYPE", "UUID"].map((k) => pairs.get(k) ?? "");
  if (!dev) return verdict(host, "ssd-mount", "fail", `${mount} is not mounted (fstab: ${source}): is the SSD plugged in? mount ${mount}`);
  if (`UUID=${uuid ?? ""}` !== source) return verdict(host, "ssd-mount", "fail", `${mount} holds ${dev} (UUID ${uuid || "none"}), but fstab says ${source}`);
  return verdict(host, "ssd-mount", "ok", `${dev} (${fstype}) by ${source}`);
}

/** iscsid runs on a storage node (`systemctl is-active iscsid`). */
export function iscsid(host: string, storageNode: boolean, active: string): Verdict {
  if (!storageNode) return verdict(host, "iscsid", "skip", "not a storage node (group ssd)");
  const state = active.trim() || "unknown";
  return state === "active"
    ? verdict(host, "iscsid", "ok", "active")
    : verdict(host, "iscsid", "fail", `iscsid is ${state}: Longhorn cannot attach volumes. systemctl enable --now iscsid (longhorn role)`);
}

interface KubeNode {
  metadata?: { name?: string };
  spec?: { unschedulable?: boolean };
  status?: { conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }> };
}

function items(json: string): KubeNode[] {
  const parsed = JSON.parse(json) as { items?: KubeNode[] };
  if (!Array.isArray(parsed.items)) throw new Error("No items in the kubectl output");
  return parsed.items;
}

/** Every host's node is Ready (`kubectl get nodes -o json`); `nodeNames` maps host -> node name. */
export function nodesReady(nodeNames: Map<string, string>, kubectlJson: string): Verdict[] {
  let nodes: KubeNode[];
  try {
    nodes = items(kubectlJson);
  } catch (e) {
    return [...nodeNames.keys()].map((h) => verdict(h, "node-ready", "fail", `cannot read the nodes from the server: ${(e as Error).message}`));
  }
  return [...nodeNames].map(([host, name]) => {
    const node = nodes.find((n) => n.metadata?.name === name);
    if (!node) return verdict(host, "node-ready", "fail", `node ${name} is not in the cluster: join it (k3s-agent role)`);
    const ready = node.status?.conditions?.find((c) => c.type === "Ready");
    if (ready?.status !== "True") return verdict(host, "node-ready", "fail", `node ${name} is not Ready (${ready?.reason ?? "no Ready condition"}${ready?.message ? `: ${ready.message}` : ""})`);
    return verdict(host, "node-ready", "ok", node.spec?.unschedulable ? `${name} Ready (cordoned)` : `${name} Ready`);
  });
}

/** Each storage node's nodes.longhorn.io is Ready and Schedulable (`kubectl get nodes.longhorn.io -o json`). */
export function longhornSchedulable(storageNames: Map<string, string>, kubectlJson: string): Verdict[] {
  let nodes: KubeNode[];
  try {
    nodes = items(kubectlJson);
  } catch (e) {
    return [...storageNames.keys()].map((h) => verdict(h, "longhorn-schedulable", "fail", `cannot read Longhorn's nodes: ${(e as Error).message} (is Longhorn installed? longhorn role)`));
  }
  return [...storageNames].map(([host, name]) => {
    const node = nodes.find((n) => n.metadata?.name === name);
    if (!node) return verdict(host, "longhorn-schedulable", "fail", `Longhorn has no node ${name}: is longhorn-manager running there?`);
    const bad = ["Ready", "Schedulable"].map((t) => node.status?.conditions?.find((c) => c.type === t)).filter((c) => c?.status !== "True");
    if (bad.length > 0 || !node.status?.conditions?.length) {
      const why = (node.status?.conditions ?? []).filter((c) => c.status !== "True").map((c) => `${c.type}: ${c.reason ?? c.status}${c.message ? ` (${c.message})` : ""}`);
      return verdict(host, "longhorn-schedulable", "fail", `Longhorn node ${name} not ready/schedulable: ${why.join("; ") || "no conditions yet"}`);
    }
    return verdict(host, "longhorn-schedulable", "ok", `${name} Ready and Schedulable`);
  });
}

function keyValues(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) map.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  return map;
}
