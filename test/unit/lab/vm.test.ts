/** Lab VM options and QEMU command lines: pure functions, no QEMU needed. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { netbootClientSpecs, parseNetbootClientOption, parseNodeOption } from "../../../scripts/lib/lab/spec.ts";
import { labMac, qemuNetbootArgs, qemuNodeArgs, vmAccel } from "../../../scripts/lib/lab/vm.ts";
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
});
