/**
 * The lab itself: nodes are distinct machines reachable by ssh, apt works through the proxy
 * on both architectures, the Pi identity and the SSD behave as on a Pi, reboots come back,
 * and nothing leaves the lab network.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { currentLab, labSkip, type LabNode } from "../support/lab.ts";
import { run } from "../../scripts/lib/lab/exec.ts";
import { which } from "../../scripts/lib/lab/preflight.ts";
import { status } from "../../scripts/lib/lab/status.ts";
import { namedLabConfig, testLabConfig } from "../../scripts/lib/lab/config.ts";
import { up } from "../../scripts/lib/lab/up.ts";
import { down } from "../../scripts/lib/lab/down.ts";
import { findProcesses } from "../../scripts/lib/lab/processes.ts";
import { listLinks, listNetns } from "../../scripts/lib/lab/network.ts";
import { loopDevicesUnder } from "../../scripts/lib/lab/ssd.ts";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

async function ok(node: string | LabNode, command: string): Promise<string> {
  const r = await currentLab().ssh(node, command);
  assert.equal(r.rc, 0, `${typeof node === "string" ? node : node.name}: ${command}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

describe("lab", { skip: labSkip() }, () => {
  test("every node answers ssh with its own hostname and machine-id", async () => {
    const lab = currentLab();
    const seen = await Promise.all(lab.nodes.map(async (n) => (await ok(n, "hostname; cat /etc/machine-id")).trim().split("\n")));
    assert.deepEqual(seen.map(([hostname]) => hostname), lab.nodes.map((n) => n.name));
    const ids = seen.map(([, id]) => id);
    for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(new Set(ids).size, ids.length, `machine-ids not distinct: ${ids.join(" ")}`);
  });

  test("host keys are distinct and known_hosts holds each node's real key", async () => {
    const lab = currentLab();
    const known = readFileSync(lab.knownHostsFile, "utf8");
    const keys = await Promise.all(lab.nodes.map(async (n) => (await ok(n, "cat /etc/ssh/ssh_host_ed25519_key.pub")).trim().split(/\s+/).slice(0, 2).join(" ")));
    assert.equal(new Set(keys).size, keys.length);
    lab.nodes.forEach((n, i) => assert.ok(known.includes(`${n.name},${n.address} ${keys[i]}`), `known_hosts lacks ${n.name}'s key`));
  });

  test("sshd is tuned for many sessions", async () => {
    const out = await ok("node1", "sshd -T | grep -Ei '^(maxsessions|usedns) '");
    assert.match(out, /maxsessions 100/i);
    assert.match(out, /usedns no/i);
  });

  test("systemd-timesyncd runs in nodes (for the ntp role) but cannot set the clock", async () => {
    for (const n of currentLab().nodes) {
      assert.equal((await ok(n, "systemctl is-active systemd-timesyncd")).trim(), "active", n.name);
      // CAP_SYS_TIME is bit 25 of the bounding set: nspawn withholds it.
      const bounding = /CapBnd:\s*([0-9a-f]+)/.exec(await ok(n, "cat /proc/1/status"))![1];
      assert.equal((BigInt(`0x${bounding}`) >> 25n) & 1n, 0n, n.name);
    }
  });

  test("architectures: arm64 nodes run aarch64 through qemu", async () => {
    const lab = currentLab();
    for (const n of lab.nodes) {
      const [machine, dpkgArch] = (await ok(n, "uname -m; dpkg --print-architecture")).trim().split("\n");
      assert.equal(machine, n.arch === "arm64" ? "aarch64" : "x86_64", n.name);
      assert.equal(dpkgArch, n.arch, n.name);
    }
    assert.ok(lab.nodes.some((n) => n.arch === "arm64"), "the standard lab has an arm64 node");
  });

  test("apt installs a package through the lab proxy on amd64 and arm64", { timeout: 300_000 }, async () => {
    const lab = currentLab();
    const targets = ["amd64", "arm64"].map((arch) => lab.nodes.find((n) => n.arch === arch)!);
    await Promise.all(
      targets.map(async (n) => {
        assert.match(await ok(n, "apt-config dump Acquire::http::Proxy"), new RegExp(`http://${lab.bridgeAddress.replaceAll(".", "\\.")}:\\d+`));
        const out = await ok(n, "export DEBIAN_FRONTEND=noninteractive; apt-get update -q >/dev/null && apt-get install -y -q hello >/dev/null && hello");
        assert.equal(out.trim(), "Hello, world!", n.name);
      }),
    );
  });

  test("Pi nodes have a Raspberry Pi identity; others do not", async () => {
    const lab = currentLab();
    const pi = lab.nodes.find((n) => n.pi)!;
    assert.ok(pi, "the standard lab has a Pi node");
    const model = await ok(pi, "cat /sys/firmware/devicetree/base/model");
    assert.match(model, /^Raspberry Pi 4 Model B Rev 1\.\d\0$/);
    const serial = (await ok(pi, "cat /sys/firmware/devicetree/base/serial-number")).replace(/\0$/, "");
    assert.match(serial, /^[0-9a-f]{16}$/);
    const cpuinfo = await ok(pi, "cat /proc/cpuinfo");
    assert.match(cpuinfo, new RegExp(`^Serial\\s+: ${serial}$`, "m"));
    assert.match(cpuinfo, /^Model\s+: Raspberry Pi/m);
    assert.match(await ok(pi, "tr '\\0' '\\n' < /sys/firmware/devicetree/base/compatible"), /^raspberrypi,4-model-b$/m);
    const cmdline = await ok(pi, "cat /boot/firmware/cmdline.txt");
    assert.equal(cmdline.trimEnd().split("\n").length, 1, "cmdline.txt is one line");
    assert.match(cmdline, /root=PARTUUID=[0-9a-f]{8}-02 .*rootwait/);
    await ok(pi, "test -s /boot/firmware/config.txt");
    const plain = lab.nodes.find((n) => !n.pi)!;
    assert.equal((await lab.ssh(plain, "test -e /sys/firmware/devicetree/base/model")).rc, 1);
    assert.doesNotMatch(await ok(plain, "cat /proc/cpuinfo"), /Raspberry Pi/);
  });

  test("the SSD is partitioned, formatted, mounted by UUID and still mounted after a reboot", { timeout: 600_000 }, async () => {
    const lab = currentLab();
    const ssdNodes = lab.nodes.filter((n) => n.ssdDevice);
    assert.ok(ssdNodes.some((n) => n.arch === "arm64" && n.pi), "the standard lab has an arm64 Pi with an SSD");
    const uuids = await Promise.all(
      ssdNodes.map(async (n) => {
        const dev = n.ssdDevice!;
        // Only the node's own disk is visible: tests never risk the host's disks.
        assert.equal((await ok(n, "lsblk -dnpo NAME")).trim(), dev);
        // As on a real machine, wait for udev after partitioning and formatting.
        await ok(n, `parted -s ${dev} mklabel gpt mkpart primary ext4 0% 100% && udevadm settle`);
        await ok(n, `mkfs.ext4 -q -F ${dev}p1 && udevadm settle`);
        const uuid = (await ok(n, `blkid -s UUID -o value ${dev}p1`)).trim();
        assert.match(uuid, /^[0-9a-f-]{36}$/);
        assert.equal((await ok(n, `readlink -f /dev/disk/by-uuid/${uuid}`)).trim(), `${dev}p1`);
        // Other nodes' disks stay invisible to this node's systemd.
        const devices = await ok(n, "systemctl list-units --all --no-legend --plain 'dev-loop*.device' | cut -d' ' -f1");
        assert.deepEqual(devices.trim().split("\n").sort(), [`dev-${dev.slice(5)}.device`, `dev-${dev.slice(5)}p1.device`]);
        await ok(n, `mkdir -p /mnt/ssd && echo 'UUID=${uuid} /mnt/ssd ext4 defaults,nofail 0 2' >> /etc/fstab && mount -a && echo ${n.name} > /mnt/ssd/owner`);
        assert.match(await ok(n, "findmnt -n -o SOURCE /mnt/ssd"), new RegExp(`^${dev}p1$`, "m"));
        return uuid;
      }),
    );
    const supervisorsBefore = (await status(testLabConfig()))!.nodes.map((n) => n.supervisorPid);
    await Promise.all(ssdNodes.map((n) => lab.reboot(n)));
    await Promise.all(
      ssdNodes.map(async (n, i) => {
        assert.equal((await ok(n, "findmnt -n -o SOURCE,FSTYPE /mnt/ssd")).trim().split(/\s+/).join(" "), `${n.ssdDevice}p1 ext4`, n.name);
        assert.equal((await ok(n, "cat /mnt/ssd/owner")).trim(), n.name);
        assert.equal((await ok(n, `readlink -f /dev/disk/by-uuid/${uuids[i]}`)).trim(), `${n.ssdDevice}p1`);
      }),
    );
    // The same supervisor restarted the container (nspawn exit 133), and every node still answers.
    const after = (await status(testLabConfig()))!;
    assert.deepEqual(after.nodes.map((n) => n.supervisorPid), supervisorsBefore);
    assert.ok(after.nodes.every((n) => n.sshd && n.supervisorAlive), JSON.stringify(after.nodes));
  });

  test("node traffic cannot leave the lab: no default route, only the lab subnet", async () => {
    const lab = currentLab();
    const subnet = lab.bridgeAddress.replace(/\.1$/, ".0/24");
    for (const n of lab.nodes) {
      const routes = (await ok(n, "ip -4 route show")).trim().split("\n");
      assert.deepEqual(routes.map((r) => r.split(" ")[0]), [subnet], `${n.name}: ${routes.join("; ")}`);
      // A route lookup only: nothing is sent.
      const r = await lab.ssh(n, "ip route get 203.0.113.1");
      assert.notEqual(r.rc, 0);
      assert.match(r.stderr, /unreachable/i);
    }
    // Inside the lab, nodes reach each other and the bridge.
    await ok(lab.nodes[0], `ping -c1 -W2 ${lab.nodes[1].address} >/dev/null && ping -c1 -W2 ${lab.bridgeAddress} >/dev/null`);
  });

  test("the netboot client namespace is on the bridge with no address", async () => {
    const lab = currentLab();
    assert.ok(lab.clientNetns);
    const r = await run(["ip", "-n", lab.clientNetns!, "-4", "-o", "addr", "show", "dev", "eth0"]);
    assert.equal(r.stdout.trim(), "");
    const link = await run(["ip", "-n", lab.clientNetns!, "-o", "link", "show", "dev", "eth0"]);
    assert.match(link.stdout, /state UP/);
  });

  test("a node serves DHCP and TFTP to the netboot client namespace", { timeout: 180_000 }, async () => {
    const lab = currentLab();
    const server = lab.nodes.find((n) => n.arch === "amd64")!;
    const client = lab.clientNetns!;
    const subnet = lab.bridgeAddress.replace(/\.1$/, "");
    // dnsmasq-base: the binary without a service, run once in the foreground and stopped after.
    await ok(server, "DEBIAN_FRONTEND=noninteractive apt-get install -y -q dnsmasq-base >/dev/null");
    await ok(server, "mkdir -p /srv/lab-tftp && echo pi-boot > /srv/lab-tftp/start4.elf");
    await ok(
      server,
      `nohup dnsmasq --keep-in-foreground --port=0 --interface=eth0 --bind-interfaces --dhcp-range=${subnet}.100,${subnet}.150,255.255.255.0,1h --no-ping --enable-tftp --tftp-root=/srv/lab-tftp --pid-file=/run/lab-dnsmasq.pid --dhcp-leasefile=/run/lab-dnsmasq.leases >/run/lab-dnsmasq.log 2>&1 & sleep 0.5`,
    );
    try {
      // -s /bin/true: report the lease, configure nothing.
      const lease = await run(["ip", "netns", "exec", client, "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", "5", "-T", "1", "-s", "/bin/true"]);
      const address = /lease of ([\d.]+) obtained/.exec(lease.stdout + lease.stderr)?.[1];
      assert.ok(address && address.startsWith(`${subnet}.1`), lease.stdout + lease.stderr);
      await run(["ip", "-n", client, "addr", "add", `${address}/24`, "dev", "eth0"]);
      const fetched = join(mkdtempSync(join(tmpdir(), "lab-tftp-")), "start4.elf");
      try {
        await run(["ip", "netns", "exec", client, "busybox", "tftp", "-g", "-r", "start4.elf", "-l", fetched, server.address]);
        assert.equal(readFileSync(fetched, "utf8").trim(), "pi-boot");
      } finally {
        await run(["ip", "-n", client, "addr", "flush", "dev", "eth0"]);
        rmSync(dirname(fetched), { recursive: true, force: true });
      }
    } finally {
      await lab.ssh(server, "kill $(cat /run/lab-dnsmasq.pid) 2>/dev/null; rm -rf /srv/lab-tftp /run/lab-dnsmasq.*");
    }
  });

  test("the inventory is valid Ansible YAML with keys, known_hosts and SSD devices", async () => {
    const lab = currentLab();
    const inv = parse(readFileSync(lab.inventoryFile, "utf8"));
    const hosts = inv.all.children.lab.hosts;
    assert.deepEqual(Object.keys(hosts), lab.nodes.map((n) => n.name));
    for (const n of lab.nodes) {
      const v = hosts[n.name];
      assert.equal(v.ansible_host, n.address);
      assert.equal(v.ansible_user, "root");
      assert.equal(v.ansible_ssh_private_key_file, lab.keyFile);
      assert.ok(v.ansible_ssh_common_args.includes(`UserKnownHostsFile=${lab.knownHostsFile}`));
      assert.equal(v.lab_node_arch, n.arch);
      assert.equal(v.ssd_storage_device, n.ssdDevice);
    }
    assert.deepEqual(Object.keys(inv.all.children.pis.hosts), lab.nodes.filter((n) => n.pi).map((n) => n.name));
    assert.deepEqual(Object.keys(inv.all.children.ssd.hosts), lab.nodes.filter((n) => n.ssdDevice).map((n) => n.name));
  });

  test("ansible-inventory reads the inventory", { skip: which("ansible-inventory") ? false : "ansible-inventory not installed (apt-get install ansible)" }, async () => {
    const lab = currentLab();
    const r = await run(["ansible-inventory", "-i", lab.inventoryFile, "--list"], { env: { ANSIBLE_INVENTORY_UNPARSED_FAILED: "1" } });
    const list = JSON.parse(r.stdout);
    const pi = lab.nodes.find((n) => n.pi)!;
    assert.equal(list._meta.hostvars[pi.name].ansible_host, pi.address);
    assert.deepEqual(list.pis.hosts, [pi.name]);
  });
});

describe("lab down after a crash", { skip: labSkip() }, () => {
  test("finds a lab's leftovers by name when its state file is gone, and is idempotent", { timeout: 120_000 }, async () => {
    // A second, tiny lab with its own names next to the suite's lab.
    const config = namedLabConfig("test-lab-crash", "pitcr", 9);
    await down(config, () => {});
    const state = await up(config, { nodes: [{ name: "c1", arch: "amd64", pi: false, ssd: "64M" }], netboot: true }, () => {});
    assert.ok((await listNetns()).includes("pitcr-c1"));
    rmSync(`${config.dir}/state.json`);
    await down(config, () => {});
    await down(config, () => {});
    assert.deepEqual((await listNetns()).filter((n) => n.startsWith("pitcr-")), []);
    assert.deepEqual((await listLinks()).filter((l) => l.startsWith("pitcr-")), []);
    assert.deepEqual(await loopDevicesUnder(config.dir), []);
    assert.deepEqual(findProcesses((argv) => argv.some((a) => a.includes("pitcr-") || a.startsWith(config.dir))), []);
    assert.ok(!existsSync(`${config.dir}/nodes`));
    assert.ok(!existsSync(state.inventoryFile));
    rmSync(config.dir, { recursive: true, force: true });
  });
});
