/**
 * The doctor's verdicts on captured outputs: data in, verdict out. The command outputs are as
 * the tools print them (captured on Debian bookworm hosts and lab nodes); the kubectl JSON has
 * the shape of `kubectl get nodes -o json` / `nodes.longhorn.io -o json`, cut to the fields read.
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { hostnamesUnique, iscsid, longhornSchedulable, memoryCgroup, nodesReady, ssdMount, staticAddress, timeSync } from "../../../scripts/lib/doctor/checks.ts";
import { parseProbe, probeCommand } from "../../../scripts/lib/doctor/probe.ts";

const PROC_CGROUPS_V1 = "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t3\t1\t1\ncpu\t1\t1\t1\nmemory\t4\t64\t1\n";
const PROC_CGROUPS_PI5 = "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t0\t101\t1\ncpu\t0\t101\t1\nmemory\t0\t101\t0\n";
const IP_ADDR =
  "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n" +
  "2: eth0    inet 192.168.0.21/24 brd 192.168.0.255 scope global eth0\\       valid_lft forever preferred_lft forever\n";

describe("memory-cgroup", () => {
  test("cgroup v2 with and without the memory controller", () => {
    assert.equal(memoryCgroup("pi-1", "cpuset cpu io memory hugetlb pids rdma misc", "").status, "ok");
    const v = memoryCgroup("pi-1", "cpuset cpu io hugetlb pids rdma misc", "");
    assert.equal(v.status, "fail");
    assert.match(v.detail, /cgroup_memory=1 cgroup_enable=memory at the END of cmdline\.txt/);
  });
  test("cgroup v1: /proc/cgroups decides (a Pi 5 whose firmware disabled it fails)", () => {
    assert.equal(memoryCgroup("n", undefined, PROC_CGROUPS_V1).status, "ok");
    assert.equal(memoryCgroup("n", undefined, PROC_CGROUPS_PI5).status, "fail");
    assert.equal(memoryCgroup("n", undefined, "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t1\t1\t1\n").status, "fail");
  });
});

describe("hostname-unique", () => {
  test("a duplicate (case-insensitive) fails on both hosts, naming the other", () => {
    const v = hostnamesUnique(new Map([["pi-1", "raspberrypi"], ["pi-2", "RaspberryPi"], ["pi-3", "pi-3"]]));
    assert.deepEqual(v.map((x) => x.status), ["fail", "fail", "ok"]);
    assert.match(v[0].detail, /also the hostname of pi-2/);
    assert.match(v[1].detail, /also the hostname of pi-1/);
  });
  test("an empty hostname fails", () => {
    assert.equal(hostnamesUnique(new Map([["a", ""]]))[0].status, "fail");
  });
});

describe("time-sync", () => {
  test("synchronized with a configured server", () => {
    assert.equal(timeSync("pi-1", "synchronized=yes\nserver=ntp.nict.jp", ["ntp.nict.jp"]).status, "ok");
  });
  test("synchronized, but with a server that is not configured", () => {
    const v = timeSync("pi-1", "synchronized=yes\nserver=0.debian.pool.ntp.org", ["192.168.0.20", "ntp.nict.jp"]);
    assert.equal(v.status, "fail");
    assert.match(v.detail, /not a configured one \(192\.168\.0\.20, ntp\.nict\.jp\)/);
  });
  test("not synchronized (no server answers: the lab)", () => {
    const v = timeSync("node1", "synchronized=no\nserver=", ["ntp.nict.jp"]);
    assert.equal(v.status, "fail");
    assert.match(v.detail, /not synchronized: check that ntp\.nict\.jp answers/);
  });
  test("no answer from timedatectl is said as such", () => {
    assert.match(timeSync("h", "synchronized=\nserver=", ["ntp.nict.jp"]).detail, /timedatectl gave no answer/);
  });
  test("chrony's selected source counts on the time server", () => {
    assert.equal(timeSync("master", "synchronized=no\nserver=\nchrony=ntp.nict.jp", ["ntp.nict.jp"]).status, "ok");
  });
});

describe("static-address", () => {
  test("present, absent, not configured", () => {
    assert.deepEqual(staticAddress("pi-1", IP_ADDR, "192.168.0.21/24"), { host: "pi-1", check: "static-address", status: "ok", detail: "192.168.0.21/24 on eth0" });
    assert.equal(staticAddress("pi-1", IP_ADDR, "192.168.0.21").status, "ok");
    const v = staticAddress("pi-1", IP_ADDR, "192.168.0.31/24");
    assert.equal(v.status, "fail");
    assert.match(v.detail, /192\.168\.0\.31\/24 is on no interface \(has: 127\.0\.0\.1\/8 lo, 192\.168\.0\.21\/24 eth0\)/);
    assert.equal(staticAddress("pi-1", IP_ADDR, "192.168.0.2/24").status, "fail", "a prefix of another address is not the address");
    assert.equal(staticAddress("pi-1", IP_ADDR, "").status, "skip");
  });
});

describe("ssd-mount", () => {
  const UUID = "0b9f6f5e-7f5e-4a43-9d0e-2c1e6f1c9a11";
  test("mounted from the fstab entry by UUID", () => {
    const v = ssdMount("pi-1", "/var/lib/longhorn", "/dev/disk/by-id/usb-x", `UUID=${UUID}`, `SOURCE="/dev/sda1" FSTYPE="ext4" UUID="${UUID}"`);
    assert.equal(v.status, "ok", v.detail);
    assert.equal(v.detail, `/dev/sda1 (ext4) by UUID=${UUID}`);
  });
  test("fstab by device name, not mounted, another disk mounted, no entry, no SSD", () => {
    assert.match(ssdMount("h", "/var/lib/longhorn", "d", "/dev/sda1", "").detail, /not by UUID/);
    assert.match(ssdMount("h", "/var/lib/longhorn", "d", `UUID=${UUID}`, "").detail, /is not mounted/);
    assert.match(ssdMount("h", "/var/lib/longhorn", "d", `UUID=${UUID}`, 'SOURCE="/dev/sdb1" FSTYPE="ext4" UUID="1111"').detail, /holds \/dev\/sdb1 \(UUID 1111\), but fstab says UUID=/);
    assert.match(ssdMount("h", "/var/lib/longhorn", "d", "", "").detail, /no fstab entry/);
    assert.equal(ssdMount("h", "/var/lib/longhorn", "", "", "").status, "skip");
  });
});

describe("iscsid", () => {
  test("storage nodes only", () => {
    assert.equal(iscsid("pi-1", true, "active\n").status, "ok");
    assert.match(iscsid("pi-1", true, "inactive").detail, /iscsid is inactive/);
    assert.match(iscsid("pi-1", true, "").detail, /iscsid is unknown/);
    assert.equal(iscsid("pi-1", false, "inactive").status, "skip");
  });
});

const node = (name: string, ready: string, extra: Record<string, unknown> = {}) => ({ metadata: { name }, spec: extra, status: { conditions: [{ type: "MemoryPressure", status: "False" }, { type: "Ready", status: ready, reason: ready === "True" ? "KubeletReady" : "NodeStatusUnknown", message: ready === "True" ? "kubelet is posting ready status" : "Kubelet stopped posting node status." }] } });

describe("node-ready", () => {
  test("ready, cordoned, not ready, missing; unreadable output fails every host", () => {
    const json = JSON.stringify({ apiVersion: "v1", kind: "List", items: [node("pi-master", "True"), node("pi-1", "True", { unschedulable: true }), node("pi-2", "Unknown")] });
    const v = nodesReady(new Map([["pi-master", "pi-master"], ["pi-1", "pi-1"], ["pi-2", "pi-2"], ["pi-3", "pi-3"]]), json);
    assert.deepEqual(v.map((x) => x.status), ["ok", "ok", "fail", "fail"]);
    assert.equal(v[1].detail, "pi-1 Ready (cordoned)");
    assert.match(v[2].detail, /not Ready \(NodeStatusUnknown: Kubelet stopped posting node status\.\)/);
    assert.match(v[3].detail, /not in the cluster/);
    assert.deepEqual(nodesReady(new Map([["a", "a"]]), "error: the server doesn't have a resource type").map((x) => x.status), ["fail"]);
  });
});

describe("longhorn-schedulable", () => {
  test("Ready and Schedulable, or what is wrong", () => {
    const lh = (name: string, sched: string) => ({ metadata: { name, namespace: "longhorn-system" }, status: { conditions: [{ type: "Ready", status: "True" }, { type: "Schedulable", status: sched, reason: sched === "True" ? "" : "KubernetesNodeCordoned" }] } });
    const json = JSON.stringify({ items: [lh("pi-1", "True"), lh("pi-2", "False")] });
    const v = longhornSchedulable(new Map([["pi-1", "pi-1"], ["pi-2", "pi-2"], ["pi-3", "pi-3"]]), json);
    assert.deepEqual(v.map((x) => x.status), ["ok", "fail", "fail"]);
    assert.match(v[1].detail, /Schedulable: KubernetesNodeCordoned/);
    assert.match(v[2].detail, /Longhorn has no node pi-3/);
  });
});

describe("probe", () => {
  test("sections are split; cgroup v1 is told apart from an empty v2 list", () => {
    const out = [
      "@@doctor:controllers", "@@doctor:v1",
      "@@doctor:proc-cgroups", PROC_CGROUPS_V1.trim(),
      "@@doctor:hostname", "pi-1",
      "@@doctor:timesync", "synchronized=yes", "server=ntp.nict.jp",
      "@@doctor:ip-addr", IP_ADDR.trim(),
      "@@doctor:fstab", "UUID=abc",
      "@@doctor:live", 'SOURCE="/dev/sda1" FSTYPE="ext4" UUID="abc"',
      "@@doctor:iscsid", "active", "",
    ].join("\n");
    const p = parseProbe(out);
    assert.equal(p.controllers, undefined);
    assert.equal(memoryCgroup("pi-1", p.controllers, p.procCgroups).status, "ok");
    assert.equal(p.hostname, "pi-1");
    assert.equal(timeSync("pi-1", p.timesync, ["ntp.nict.jp"]).status, "ok");
    assert.equal(ssdMount("pi-1", "/m", "d", p.fstab, p.live).status, "ok");
    assert.equal(p.iscsid, "active");
    assert.equal(parseProbe("@@doctor:controllers\ncpu memory\n@@doctor:hostname\nx\n").controllers, "cpu memory");
  });
  test("the mount point reaches the command quoted", () => {
    const cmd = probeCommand("/mnt/it's; rm -rf /");
    assert.ok(cmd.includes("--mountpoint '/mnt/it'\\''s; rm -rf /'"), cmd);
    assert.ok(!cmd.includes("--mountpoint /mnt/it's"));
  });
});
