/** Lab VM options and QEMU command lines: pure functions, no QEMU needed. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { netbootClientSpecs, parseNetbootClientOption, parseNodeOption } from "../../../scripts/lib/lab/spec.ts";
import { labMac, qemuNetbootArgs, qemuNodeArgs, qemuPiArgs, vmAccel } from "../../../scripts/lib/lab/vm.ts";
import { moduleLoadOrder } from "../../../scripts/lib/lab/vm-pi-image.ts";
import { UserError } from "../../../scripts/lib/errors.ts";

describe("lab VM specs", () => {
  test("--node NAME:vm and NAME:arm64:vm make VM nodes", () => {
    assert.deepEqual(parseNodeOption("master:vm"), { name: "master", arch: "amd64", pi: false, vm: true });
    assert.deepEqual(parseNodeOption("a1:arm64:vm"), { name: "a1", arch: "arm64", pi: false, vm: true });
  });

  test("a VM node cannot take a container's pi identity or loop SSD", () => {
    assert.throws(() => parseNodeOption("m:vm:pi"), (e: unknown) => e instanceof UserError && /cannot have pi or ssd/.test(e.message));
    assert.throws(() => parseNodeOption("m:vm:ssd"), (e: unknown) => e instanceof UserError && /cannot have pi or ssd/.test(e.message));
  });

  test("--netboot-client NAME[:mac=MAC] is checked and lower-cased", () => {
    assert.deepEqual(parseNetbootClientOption("x86-a"), { name: "x86-a" });
    assert.deepEqual(parseNetbootClientOption("x86-b:mac=52:54:00:AB:00:01"), { name: "x86-b", mac: "52:54:00:ab:00:01" });
    assert.throws(() => parseNetbootClientOption("x:mac=52:54:00"), (e: unknown) => e instanceof UserError && /"52:54:00" is not a MAC/.test(e.message) && !!e.hint);
    assert.throws(() => parseNetbootClientOption("X;rm"), (e: unknown) => e instanceof UserError && /not a valid name/.test(e.message));
  });

  test("client names may not repeat a node's, nor MACs each other", () => {
    const nodes = [parseNodeOption("master:vm")];
    assert.throws(() => netbootClientSpecs(["master"], nodes), /given twice/);
    assert.throws(() => netbootClientSpecs(["a:mac=52:54:00:00:00:01", "b:mac=52:54:00:00:00:01"], nodes), /MAC 52:54:00:00:00:01 given twice/);
    assert.deepEqual(netbootClientSpecs(undefined, nodes), []);
  });
});

describe("lab VM command lines", () => {
  test("MACs say which lab subnet and which machine", () => {
    assert.equal(labMac("10.213.10", "node", 11), "52:54:00:0a:00:0b");
    assert.equal(labMac("10.213.10", "client", 2), "52:54:00:0a:01:02");
  });

  test("TCG unless the host has VT-x/AMD-V: a PVM /dev/kvm runs no stock kernel", () => {
    const sys = mkdtempSync(join(tmpdir(), "vm-test-"));
    try {
      mkdirSync(join(sys, "kvm_pvm"));
      assert.equal(vmAccel("amd64", sys).name, "tcg");
      assert.deepEqual(vmAccel("amd64", sys).args, ["-accel", "tcg,thread=multi,tb-size=256", "-cpu", "max"]);
      // arm64 guests on an x86 host are emulated whatever the host has.
      mkdirSync(join(sys, "kvm_intel"));
      assert.equal(vmAccel("arm64", sys).name, "tcg");
    } finally {
      rmSync(sys, { recursive: true, force: true });
    }
  });

  test("a VM node boots the image's kernel with its root on its own disk, on its tap", () => {
    const argv = qemuNodeArgs({ name: "pivm-master", arch: "amd64", accel: { name: "tcg", args: [] }, dir: "/d", kernel: "/k", initrd: "/i", disk: "/d/disk.img", tap: "pivm-t0", mac: "52:54:00:0a:00:0b" });
    assert.equal(argv[0], "qemu-system-x86_64");
    assert.equal(argv[argv.indexOf("-name") + 1], "pivm-master");
    assert.match(argv[argv.indexOf("-append") + 1], /console=ttyS0 root=\/dev\/vda/);
    assert.equal(argv[argv.indexOf("-drive") + 1], "file=/d/disk.img,if=virtio,format=raw");
    assert.ok(argv.includes("tap,id=net0,ifname=pivm-t0,script=no,downscript=no"));
    const arm = qemuNodeArgs({ name: "a", arch: "arm64", accel: { name: "tcg", args: [] }, dir: "/d", kernel: "/k", initrd: "/i", disk: "/x", tap: "t", mac: "m" });
    assert.deepEqual(arm.slice(0, 5), ["qemu-system-aarch64", "-name", "a", "-M", "virt"]);
    assert.match(arm[arm.indexOf("-append") + 1], /console=ttyAMA0/);
  });

  test("a netboot client has no disk and boots from the network", () => {
    const argv = qemuNetbootArgs({ name: "pivm-x86-a", accel: { name: "tcg", args: [] }, dir: "/d", tap: "pivm-n0", mac: "52:54:00:0a:01:01" });
    assert.ok(!argv.includes("-drive") && !argv.includes("-kernel"));
    assert.equal(argv[argv.indexOf("-boot") + 1], "n");
    assert.ok(argv.includes("virtio-net-pci,netdev=net0,mac=52:54:00:0a:01:01"));
  });

  test("a Pi client VM runs exactly the served cmdline.txt plus the lab's console, and a reboot ends QEMU", () => {
    const cmdline = "console=serial0,115200 root=/dev/nfs nfsroot=10.213.10.2:/srv/nfs/pi4-a,vers=3 rw ip=dhcp rootwait cgroup_memory=1 cgroup_enable=memory\n";
    const argv = qemuPiArgs({ name: "pivm-pi4-a", accel: { name: "tcg", args: [] }, dir: "/d", tap: "pivm-n2", mac: "dc:a6:32:0a:00:31", kernel: "/f/kernel8.img", initrd: "/f/initramfs8", cmdline });
    assert.deepEqual(argv.slice(0, 5), ["qemu-system-aarch64", "-name", "pivm-pi4-a", "-M", "virt"]);
    assert.equal(argv[argv.indexOf("-append") + 1], `${cmdline.trim()} console=ttyAMA0`);
    assert.equal(argv[argv.indexOf("-kernel") + 1], "/f/kernel8.img");
    assert.equal(argv[argv.indexOf("-initrd") + 1], "/f/initramfs8");
    assert.ok(argv.includes("-no-reboot"));
    assert.ok(argv.includes("virtio-net-pci,netdev=net0,mac=dc:a6:32:0a:00:31"));
  });

  test("the Pi image's initramfs loads a module's dependencies first, each once", () => {
    const dir = mkdtempSync(join(tmpdir(), "lab-modules-"));
    try {
      // What matters of a .ko here: its .modinfo strings (NUL-separated, "depends=a,b").
      const ko = (path: string, depends: string) => {
        mkdirSync(join(dir, path, ".."), { recursive: true });
        writeFileSync(join(dir, path), Buffer.from(`\x7fELF...\0license=GPL\0depends=${depends}\0vermagic=6.1.0\0`, "latin1"));
      };
      ko("fs/nfs/nfsv3.ko", "nfs,lockd,sunrpc,nfs_acl");
      ko("fs/nfs/nfs.ko", "sunrpc,fscache,lockd");
      ko("fs/lockd/lockd.ko", "sunrpc,grace");
      ko("net/sunrpc/sunrpc.ko", "");
      ko("fs/nfs_common/grace.ko", "");
      ko("fs/nfs_common/nfs_acl.ko", "sunrpc");
      ko("fs/fscache/fscache.ko", "netfs");
      ko("fs/netfs/netfs.ko", "");
      ko("drivers/net/virtio_net.ko", "net_failover");
      ko("drivers/net/net_failover.ko", "failover");
      ko("net/core/failover.ko", "");
      const order = moduleLoadOrder(dir, ["virtio_net", "nfsv3"]).map((m) => m.name);
      assert.deepEqual([...order].sort(), ["failover", "fscache", "grace", "lockd", "net_failover", "netfs", "nfs", "nfs_acl", "nfsv3", "sunrpc", "virtio_net"]);
      for (const [i, name] of order.entries()) {
        const deps = { nfsv3: ["nfs", "lockd", "sunrpc", "nfs_acl"], nfs: ["sunrpc", "fscache", "lockd"], lockd: ["sunrpc", "grace"], nfs_acl: ["sunrpc"], fscache: ["netfs"], virtio_net: ["net_failover"], net_failover: ["failover"] }[name] ?? [];
        for (const d of deps) assert.ok(order.indexOf(d) < i, `${d} must load before ${name}: ${order.join(" ")}`);
      }
      assert.throws(() => moduleLoadOrder(dir, ["virtio_pci"]), /Kernel module virtio_pci is not in the kernel package/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
