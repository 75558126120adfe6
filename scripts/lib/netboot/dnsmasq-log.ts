/**
 * Machines that asked a netboot master to boot them, read from dnsmasq's log (`log-dhcp`):
 * the MAC and vendor class of each DHCP request (lines of one transaction share its number),
 * the addresses DHCP gave them (full mode), and the Raspberry Pi boot folders read or missed
 * over TFTP (`<serial8>/start4.elf`, `dc-a6-32-../config.txt`). A TFTP read names an address,
 * not a MAC (in proxy mode the router gave the address): folders are reported on their own.
 *
 * Lines look like (syslog, journalctl or dnsmasq's own log-facility file):
 *   Dec 04 20:05:51 master dnsmasq-dhcp[1625]: 3912370817 vendor class: PXEClient:Arch:00000:UNDI:002001
 *   Dec 04 20:05:51 master dnsmasq-dhcp[1625]: 3912370817 PXE(eth0) dc:a6:32:00:00:0a proxy
 *   Dec 04 20:05:51 master dnsmasq-dhcp[1625]: 3912370817 DHCPACK(eth0) 10.0.0.21 dc:a6:32:00:00:0a pi-a
 *   Dec 04 20:05:52 master dnsmasq-tftp[1625]: sent /srv/tftp/1a2b3c4d/start4.elf to 10.0.0.21
 *   Dec 04 20:05:52 master dnsmasq-tftp[1625]: file /srv/tftp/deadbeef/start4.elf not found for 10.0.0.21
 */

/** Raspberry Pi Ltd / Foundation MAC prefixes seen on Pis. */
export const PI_MAC_PREFIXES = ["b8:27:eb", "dc:a6:32", "e4:5f:01", "d8:3a:dd", "28:cd:c1", "2c:cf:67"];

/** One machine that asked to boot (by its MAC, from DHCP). */
export interface BootRequester {
  mac: string;
  /** DHCP option 60 as last seen ("" when none was logged). */
  vendorClass: string;
  /** pi: a Pi bootloader (PXE vendor class and a Pi MAC prefix); pxe: another PXE firmware; other: no PXE vendor class. */
  kind: "pi" | "pxe" | "other";
  /** Addresses DHCP gave it (full mode; in proxy mode the router does, unseen here). */
  addresses: string[];
  /** Number of DHCP requests logged. */
  requests: number;
}

/** A Raspberry Pi boot folder that was read or asked for over TFTP. */
export interface BootFolderRead {
  /** The folder: 8 hex digits (serial) or a MAC with dashes (TFTP_PREFIX=2). */
  folder: string;
  serial?: string;
  mac?: string;
  /** From the files read: start4.elf -> pi4, a bcm2712 device tree -> pi5. */
  model?: "pi4" | "pi5";
  /** Addresses that read it. */
  addresses: string[];
  /** Some file was asked for and not found (a folder the master does not have). */
  missing: boolean;
}

export interface DnsmasqBoots {
  machines: BootRequester[];
  folders: BootFolderRead[];
}

const LINE = /dnsmasq(?:-(dhcp|tftp))?\[\d+\]:\s+(.*)$/;
const MAC = /\b([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5})\b/;
const IPV4 = /\b(\d{1,3}(?:\.\d{1,3}){3})\b/;
/** `DHCPACK(eth0) 10.0.0.21 dc:a6:...`, `PXE(eth0) dc:a6:... proxy`, `DHCPDISCOVER(eth0) dc:...`. */
const DHCP_EVENT = /^(DHCP[A-Z]+|PXE|BOOTP)\([^)]*\)\s+(.*)$/;
/** `sent /srv/tftp/x/start4.elf to 10.0.0.5`, `file /srv/tftp/x/start4.elf not found for 10.0.0.5`. */
const TFTP = /^(sent|file)\s+(\/\S+)\s+(?:to|not found(?: for)?)\s*(\d{1,3}(?:\.\d{1,3}){3})?/;

/** Parses dnsmasq log text; lines of other programs are ignored. */
export function parseDnsmasqLog(text: string): DnsmasqBoots {
  const machines = new Map<string, BootRequester>();
  const folders = new Map<string, BootFolderRead>();
  const vendorByTransaction = new Map<string, string>();

  for (const raw of text.split(/\r?\n/)) {
    const line = LINE.exec(raw);
    if (!line) continue;
    const [, facility, message] = line;
    if (facility === "tftp") {
      const t = TFTP.exec(message);
      if (t) readFolder(folders, t[2], t[3], t[1] === "file");
      continue;
    }
    if (facility !== "dhcp") continue;
    const tx = /^(\d+)\s+(.*)$/.exec(message);
    const transaction = tx?.[1];
    const body = tx ? tx[2] : message;
    const vendor = /^vendor class:\s*(.*)$/.exec(body);
    if (vendor && transaction) {
      vendorByTransaction.set(transaction, vendor[1].trim());
      continue;
    }
    const event = DHCP_EVENT.exec(body);
    const mac = event && MAC.exec(event[2]);
    if (!event || !mac) continue;
    const key = mac[1].toLowerCase();
    const m = machines.get(key) ?? { mac: key, vendorClass: "", kind: "other", addresses: [], requests: 0 };
    machines.set(key, m);
    if (/DISCOVER|PXE|BOOTP/.test(event[1])) m.requests++;
    const vendorClass = transaction ? vendorByTransaction.get(transaction) : undefined;
    if (vendorClass !== undefined) m.vendorClass = vendorClass;
    const address = IPV4.exec(event[2].slice(0, mac.index));
    if (address && /ACK/.test(event[1])) addUnique(m.addresses, address[1]);
  }
  for (const m of machines.values()) m.kind = kindOf(m.mac, m.vendorClass);
  return { machines: [...machines.values()], folders: [...folders.values()] };
}

function readFolder(folders: Map<string, BootFolderRead>, path: string, address: string | undefined, missing: boolean): void {
  const parts = path.split("/").filter(Boolean);
  // The folder is the component right under the TFTP root: the first that looks like one.
  const at = parts.findIndex((p, i) => i < parts.length - 1 && bootFolderOf(p) !== undefined);
  if (at < 0) return;
  const name = parts[at].toLowerCase();
  const f = folders.get(name) ?? { folder: name, ...bootFolderOf(name), addresses: [], missing: false };
  folders.set(name, f);
  if (address) addUnique(f.addresses, address);
  if (missing) f.missing = true;
  const file = parts[parts.length - 1];
  if (file === "start4.elf") f.model = "pi4";
  else if (file.startsWith("bcm2712")) f.model = "pi5";
}

/** pi / pxe / other from the MAC prefix and option 60. */
export function kindOf(mac: string, vendorClass: string): BootRequester["kind"] {
  if (!vendorClass.startsWith("PXEClient")) return "other";
  return PI_MAC_PREFIXES.some((p) => mac.toLowerCase().startsWith(p)) ? "pi" : "pxe";
}

/** A Pi boot folder name: 8 hex digits (a serial) or a MAC with dashes; undefined otherwise. */
export function bootFolderOf(name: string): { serial?: string; mac?: string } | undefined {
  const folder = name.toLowerCase();
  if (/^[0-9a-f]{8}$/.test(folder)) return { serial: folder };
  if (/^[0-9a-f]{2}(-[0-9a-f]{2}){5}$/.test(folder)) return { mac: folder.replaceAll("-", ":") };
  return undefined;
}

function addUnique(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}
