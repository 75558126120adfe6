/** Lab option parsing and the inventory it writes: pure functions, no lab needed. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { nodeSpecs, parseNodeOption } from "../../../scripts/lib/lab/spec.ts";
import { inventoryYaml } from "../../../scripts/lib/lab/inventory.ts";
import { UserError } from "../../../scripts/lib/errors.ts";
import type { LabState } from "../../../scripts/lib/lab/state.ts";

describe("lab node specs", () => {
  test("--nodes N --arch mixed alternates amd64 and arm64", () => {
    assert.deepEqual(
      nodeSpecs({ nodes: 3, arch: "mixed" }).map((n) => `${n.name}:${n.arch}`),
      ["node1:amd64", "node2:arm64", "node3:amd64"],
    );
  });

  test("--pi and --ssd apply to every node", () => {
    const specs = nodeSpecs({ nodes: 2, arch: "arm64", pi: true, ssd: "2G" });
    assert.ok(specs.every((n) => n.pi && n.ssd === "2G" && n.arch === "arm64"));
  });

  test("--node NAME:ARCH:pi:ssd=SIZE gives per-node options", () => {
    assert.deepEqual(parseNodeOption("pi1:arm64:pi:ssd=2G"), { name: "pi1", arch: "arm64", pi: true, ssd: "2G" });
    assert.deepEqual(parseNodeOption("node2:ssd"), { name: "node2", arch: "amd64", pi: false, ssd: "1G" });
    assert.deepEqual(parseNodeOption("n"), { name: "n", arch: "amd64", pi: false });
  });

  test("mistakes are UserErrors naming the value and the fix", () => {
    assert.throws(() => parseNodeOption("pi1:riscv"), (e: unknown) => e instanceof UserError && /unknown flag "riscv"/.test(e.message) && !!e.hint);
    assert.throws(() => parseNodeOption("Pi_1"), (e: unknown) => e instanceof UserError && /not a valid node name/.test(e.message));
    assert.throws(() => nodeSpecs({ nodes: 2, ssd: "lots" }), (e: unknown) => e instanceof UserError && /not a size/.test(e.message));
    assert.throws(() => nodeSpecs({ arch: "x86" }), (e: unknown) => e instanceof UserError && /unknown architecture/.test(e.message));
    assert.throws(() => nodeSpecs({ node: ["a", "a"] }), (e: unknown) => e instanceof UserError && /given twice/.test(e.message));
    assert.throws(() => nodeSpecs({ nodes: 0 }), UserError);
  });
});

describe("lab inventory", () => {
  const state: LabState = {
    prefix: "pilab",
    subnet: "10.213.0",
    bridge: "pilab-br",
    bridgeAddress: "10.213.0.1",
    createdAt: "2026-01-01T00:00:00.000Z",
    inventoryFile: "/x/inventory/lab.yml",
    keyFile: "/cache/lab/id_ed25519",
    knownHostsFile: "/cache/lab/known_hosts",
    nodes: [
      { name: "node1", arch: "amd64", pi: false, address: "10.213.0.11", netns: "pilab-node1", veth: "pilab-v0", machine: "pilab-node1", dir: "/d1", rootfs: "/d1/rootfs" },
      { name: "pi1", arch: "arm64", pi: true, address: "10.213.0.12", netns: "pilab-pi1", veth: "pilab-v1", machine: "pilab-pi1", dir: "/d2", rootfs: "/d2/rootfs", ssdDevice: "/dev/loop7" },
    ],
  };

  test("groups lab, pis, ssd, per-arch; host vars for ssh and the SSD", () => {
    const inv = parse(inventoryYaml(state));
    assert.deepEqual(Object.keys(inv.all.children), ["lab", "cluster", "pis", "ssd", "amd64", "arm64"]);
    assert.deepEqual(Object.keys(inv.all.children.pis.hosts), ["pi1"]);
    assert.deepEqual(Object.keys(inv.all.children.ssd.hosts), ["pi1"]);
    const pi = inv.all.children.lab.hosts.pi1;
    assert.equal(pi.ansible_host, "10.213.0.12");
    assert.equal(pi.ansible_user, "root");
    assert.equal(pi.ansible_ssh_private_key_file, "/cache/lab/id_ed25519");
    assert.match(pi.ansible_ssh_common_args, /-o UserKnownHostsFile=\/cache\/lab\/known_hosts -o StrictHostKeyChecking=yes/);
    assert.equal(pi.ssd_storage_device, "/dev/loop7");
    assert.equal(pi.lab_node_arch, "arm64");
    assert.equal(inv.all.children.lab.hosts.node1.ssd_storage_device, undefined);
  });
});
