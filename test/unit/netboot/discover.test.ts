/**
 * discover's log reading and report, on dnsmasq log lines captured from the lab's netboot
 * master (test/lab/netboot.suite.ts, proxy mode: two registered Pis, an x86 PXE client, an
 * unregistered Pi, a TFTP read of a serial folder the master lacks), plus full-mode lines in
 * dnsmasq's format (DHCPDISCOVER/OFFER/REQUEST/ACK with the address given).
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDnsmasqLog, kindOf, bootFolderOf } from "../../../scripts/lib/netboot/dnsmasq-log.ts";
import { buildReport, formatReport } from "../../../scripts/lib/netboot/discover-report.ts";
import { main } from "../../../scripts/discover.ts";

/** Captured from the lab (journalctl -u dnsmasq -o short), informative lines only. */
const PROXY_LOG = `Dec 04 20:13:52 master dnsmasq-dhcp[340]: DHCP, proxy on subnet 10.213.3.0
Dec 04 20:14:24 master dnsmasq-dhcp[1875]: DHCP, proxy on subnet 10.213.3.0
Dec 04 20:14:30 master dnsmasq-dhcp[1875]: 1189666772 vendor class: PXEClient:Arch:00000:UNDI:002001
Dec 04 20:14:30 master dnsmasq-dhcp[1875]: 1189666772 PXE(eth0) dc:a6:32:00:00:0a proxy
Dec 04 20:14:30 master dnsmasq-dhcp[1875]: 1189666772 tags: netboot_pi, known, eth0
Dec 04 20:14:30 master dnsmasq-dhcp[1875]: 1189666772 sent size: 32 option: 43 vendor-encap  06:01:03:0a:04:00:50:58:45:09:14:00:00:11...
Dec 04 20:14:34 master dnsmasq-dhcp[1875]: 358283857 vendor class: PXEClient:Arch:00000:UNDI:002001
Dec 04 20:14:34 master dnsmasq-dhcp[1875]: 358283857 PXE(eth0) dc:a6:32:99:99:99 proxy
Dec 04 20:14:34 master dnsmasq-dhcp[1875]: 358283857 tags: eth0
Dec 04 20:14:34 master dnsmasq-dhcp[1875]: 358283857 sent size: 10 option: 43 vendor-encap  06:01:08:0a:04:00:50:58:45:ff
Dec 04 20:14:37 master dnsmasq-tftp[1875]: sent /srv/tftp/1a2b3c4d/start4.elf to 10.213.3.200
Dec 04 20:14:37 master dnsmasq-tftp[1875]: sent /srv/tftp/1a2b3c4d/fixup4.dat to 10.213.3.200
Dec 04 20:14:37 master dnsmasq-tftp[1875]: sent /srv/tftp/1a2b3c4d/config.txt to 10.213.3.200
Dec 04 20:14:37 master dnsmasq-tftp[1875]: sent /srv/tftp/1a2b3c4d/cmdline.txt to 10.213.3.200
Dec 04 20:14:37 master dnsmasq-tftp[1875]: sent /srv/tftp/1a2b3c4d/bcm2711-rpi-4-b.dtb to 10.213.3.200
Dec 04 20:14:37 master dnsmasq-tftp[1875]: sent /srv/tftp/1a2b3c4d/overlays/README to 10.213.3.200
Dec 04 20:14:37 master dnsmasq-tftp[1875]: sent /srv/tftp/1a2b3c4d/kernel8.img to 10.213.3.200
Dec 04 20:14:37 master dnsmasq-tftp[1875]: sent /srv/tftp/5e6f7a8b/config.txt to 10.213.3.200
Dec 04 20:14:37 master dnsmasq-tftp[1875]: sent /srv/tftp/5e6f7a8b/cmdline.txt to 10.213.3.200
Dec 04 20:14:37 master dnsmasq-tftp[1875]: sent /srv/tftp/5e6f7a8b/bcm2712-rpi-5-b.dtb to 10.213.3.200
Dec 04 20:14:37 master dnsmasq-tftp[1875]: sent /srv/tftp/5e6f7a8b/kernel_2712.img to 10.213.3.200
Dec 04 20:14:38 master dnsmasq-dhcp[1875]: 2378693126 vendor class: PXEClient:Arch:00000:UNDI:002001
Dec 04 20:14:38 master dnsmasq-dhcp[1875]: 2378693126 PXE(eth0) 52:54:00:00:00:0d proxy
Dec 04 20:14:38 master dnsmasq-dhcp[1875]: 2378693126 tags: netboot_pxe, known, eth0
Dec 04 20:14:38 master dnsmasq-dhcp[1875]: 2378693126 sent size: 36 option: 43 vendor-encap  06:01:03:0a:04:00:50:58:45:08:07:80:00:01...
Dec 04 20:14:41 master dnsmasq-tftp[1875]: sent /srv/tftp/pxelinux.0 to 10.213.3.200
Dec 04 20:14:41 master dnsmasq-tftp[1875]: sent /srv/tftp/ldlinux.c32 to 10.213.3.200
Dec 04 20:14:41 master dnsmasq-tftp[1875]: sent /srv/tftp/pxelinux.cfg/01-52-54-00-00-00-0d to 10.213.3.200
Dec 04 20:14:41 master dnsmasq-tftp[1875]: sent /srv/tftp/x86-a/vmlinuz to 10.213.3.200
Dec 04 20:14:41 master dnsmasq-tftp[1875]: sent /srv/tftp/x86-a/initrd.img to 10.213.3.200
Dec 04 20:14:43 master dnsmasq-dhcp[1875]: 1992053088 vendor class: PXEClient:Arch:00000:UNDI:002001
Dec 04 20:14:43 master dnsmasq-dhcp[1875]: 1992053088 PXE(eth0) dc:a6:32:99:99:99 proxy
Dec 04 20:14:43 master dnsmasq-dhcp[1875]: 1992053088 tags: eth0
Dec 04 20:14:43 master dnsmasq-dhcp[1875]: 1992053088 sent size: 10 option: 43 vendor-encap  06:01:08:0a:04:00:50:58:45:ff
Dec 04 20:14:46 master dnsmasq-tftp[1875]: file /srv/tftp/deadbeef/start4.elf not found for 10.213.3.200
`;

/** Full DHCP mode (the master is the rack's DHCP server), dnsmasq's own log-facility form. */
const FULL_LOG = `Dec  4 21:00:01 dnsmasq-dhcp[512]: 77 vendor class: PXEClient:Arch:00000:UNDI:002001
Dec  4 21:00:01 dnsmasq-dhcp[512]: 77 DHCPDISCOVER(eth0) e4:5f:01:aa:bb:cc
Dec  4 21:00:01 dnsmasq-dhcp[512]: 77 DHCPOFFER(eth0) 192.168.10.57 e4:5f:01:aa:bb:cc
Dec  4 21:00:02 dnsmasq-dhcp[512]: 78 vendor class: PXEClient:Arch:00000:UNDI:002001
Dec  4 21:00:02 dnsmasq-dhcp[512]: 78 DHCPREQUEST(eth0) 192.168.10.57 e4:5f:01:aa:bb:cc
Dec  4 21:00:02 dnsmasq-dhcp[512]: 78 DHCPACK(eth0) 192.168.10.57 e4:5f:01:aa:bb:cc
Dec  4 21:00:03 dnsmasq-dhcp[512]: 79 vendor class: MSFT 5.0
Dec  4 21:00:03 dnsmasq-dhcp[512]: 79 DHCPDISCOVER(eth0) 00:11:22:33:44:55
Dec  4 21:00:04 dnsmasq-tftp[512]: sent /srv/tftp/e4-5f-01-aa-bb-cc/config.txt to 192.168.10.57
Dec  4 21:00:04 dnsmasq-tftp[512]: sent /srv/tftp/e4-5f-01-aa-bb-cc/bcm2712-rpi-5-b.dtb to 192.168.10.57
Dec  4 21:00:05 sshd[900]: Accepted publickey for pi from 192.168.10.2 port 50000 ssh2: ED25519 SHA256:x
`;

const REGISTERED = [
  { host: "pi-a", mac: "dc:a6:32:00:00:0a", serial: "1a2b3c4d" },
  { host: "pi-b", mac: "2c:cf:67:00:00:0b", serial: "5e6f7a8b" },
  { host: "x86-a", mac: "52:54:00:00:00:0d" },
];

test("proxy-mode capture: every machine that asked, with its vendor class and kind", () => {
  const { machines } = parseDnsmasqLog(PROXY_LOG);
  const summary = machines.map((m) => `${m.mac} ${m.kind} ${m.requests} ${m.vendorClass}`);
  assert.deepEqual(summary, [
    "dc:a6:32:00:00:0a pi 1 PXEClient:Arch:00000:UNDI:002001",
    "dc:a6:32:99:99:99 pi 2 PXEClient:Arch:00000:UNDI:002001",
    "52:54:00:00:00:0d pxe 1 PXEClient:Arch:00000:UNDI:002001",
  ]);
  assert.ok(machines.every((m) => m.addresses.length === 0), "proxy mode logs no address given");
});

test("proxy-mode capture: Pi boot folders with the model their reads show; a missing one flagged", () => {
  const { folders } = parseDnsmasqLog(PROXY_LOG);
  const summary = folders.map((f) => `${f.folder} ${f.serial} ${f.model} ${f.missing} ${f.addresses.join(",")}`);
  assert.deepEqual(summary, [
    "1a2b3c4d 1a2b3c4d pi4 false 10.213.3.200",
    "5e6f7a8b 5e6f7a8b pi5 false 10.213.3.200",
    "deadbeef deadbeef pi4 true 10.213.3.200",
  ]);
});

test("the report marks what the inventory lacks, and the YAML registers only those", () => {
  const report = buildReport(parseDnsmasqLog(PROXY_LOG), REGISTERED);
  assert.deepEqual(report.machines.map((m) => `${m.mac}=${m.host ?? "-"}`), ["dc:a6:32:00:00:0a=pi-a", "dc:a6:32:99:99:99=-", "52:54:00:00:00:0d=x86-a"]);
  assert.deepEqual(report.folders.map((f) => `${f.folder}=${f.host ?? "-"}`), ["1a2b3c4d=pi-a", "5e6f7a8b=pi-b", "deadbeef=-"]);
  assert.equal(report.yaml, 'netboot_clients:\n  hosts:\n    pi-dca632999999:\n      netboot_mac: "dc:a6:32:99:99:99"\n      netboot_kind: "pi4"\n');
  const text = formatReport(report);
  assert.match(text, /dc:a6:32:99:99:99 +Raspberry Pi +NOT IN THE INVENTORY/);
  assert.match(text, /Serials seen but not in the inventory: deadbeef /);
});

test("full mode: the address DHCP gave, a MAC folder's Pi 5 reads, non-PXE machines left out", () => {
  const boots = parseDnsmasqLog(FULL_LOG);
  const pi = boots.machines.find((m) => m.mac === "e4:5f:01:aa:bb:cc");
  assert.deepEqual(pi?.addresses, ["192.168.10.57"]);
  assert.equal(pi?.requests, 1, "DISCOVER counts as a request; OFFER/REQUEST/ACK do not");
  assert.equal(boots.machines.find((m) => m.mac === "00:11:22:33:44:55")?.kind, "other");
  assert.deepEqual(boots.folders.map((f) => `${f.folder} ${f.mac} ${f.model}`), ["e4-5f-01-aa-bb-cc e4:5f:01:aa:bb:cc pi5"]);
  const report = buildReport(boots, []);
  assert.deepEqual(report.machines.map((m) => m.mac), ["e4:5f:01:aa:bb:cc"]);
  // A digits-only MAC would be a base-60 number in YAML 1.1 unquoted: values are quoted.
  assert.equal(report.yaml, 'netboot_clients:\n  hosts:\n    pi-e45f01aabbcc:\n      netboot_mac: "e4:5f:01:aa:bb:cc"\n      netboot_kind: "pi5"\n      ansible_host: "192.168.10.57"\n');
});

test("kind and folder names", () => {
  assert.equal(kindOf("DC:A6:32:01:02:03", "PXEClient:Arch:00000:UNDI:002001"), "pi");
  assert.equal(kindOf("52:54:00:01:02:03", "PXEClient:Arch:00007:UNDI:003016"), "pxe");
  assert.equal(kindOf("dc:a6:32:01:02:03", "udhcp 1.35.0"), "other");
  assert.deepEqual(bootFolderOf("1A2B3C4D"), { serial: "1a2b3c4d" });
  assert.deepEqual(bootFolderOf("dc-a6-32-01-02-03"), { mac: "dc:a6:32:01:02:03" });
  assert.equal(bootFolderOf("x86-a"), undefined);
  assert.equal(bootFolderOf("1a2b3c4"), undefined);
});

test("the command: reads the log from stdin, errors name the missing file", async () => {
  let out = "";
  let err = "";
  const io = { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, readStdin: async () => PROXY_LOG, cwd: "/nonexistent-dir" };
  assert.equal(await main(["--yaml"], io), 0);
  assert.match(out, /pi-dca632999999:/);
  assert.match(out, /pi-dca63200000a:/, "without an inventory every machine is new");
  assert.equal(await main(["--log", "nope.log"], io), 1);
  assert.match(err, /The log file "nope.log" does not exist/);
  assert.equal(await main(["--bogus"], io), 5);
  assert.match(err, /Unknown option "--bogus"/);
});

test("the command: without -i the inventory is ANSIBLE_INVENTORY's, as the runner reads it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "discover-inventory-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "rack.yml"), 'all:\n  hosts:\n    pi-known:\n      netboot_mac: "dc:a6:32:99:99:99"\n');
  let out = "";
  const io = { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => t }, readStdin: async () => PROXY_LOG, cwd: dir, env: { HOME: dir } };
  assert.equal(await main(["--yaml"], io), 0);
  assert.match(out, /pi-dca632999999:/, "no inventory here: the machine is new");
  out = "";
  assert.equal(await main(["--yaml"], { ...io, env: { HOME: dir, ANSIBLE_INVENTORY: "rack.yml" } }), 0);
  assert.doesNotMatch(out, /dca632999999/, "the machine is known to ANSIBLE_INVENTORY's inventory");
  assert.match(out, /pi-dca63200000a:/);
});
