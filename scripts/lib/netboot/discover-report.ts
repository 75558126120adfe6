/**
 * What `discover` prints: the machines that asked the master to boot them, which inventory
 * host each is (by netboot_mac / netboot_serial), and for the unknown ones the inventory YAML
 * to paste under netboot_clients.
 */
import { stringify } from "yaml";
import type { BootFolderRead, BootRequester, DnsmasqBoots } from "./dnsmasq-log.ts";

/** A host of the inventory as discover matches it. */
export interface RegisteredClient {
  host: string;
  mac?: string;
  serial?: string;
}

export interface DiscoverReport {
  machines: Array<BootRequester & { host?: string }>;
  folders: Array<BootFolderRead & { host?: string }>;
  /** Inventory YAML (netboot_clients hosts) for the unknown Pis and PXE machines; "" when none. */
  yaml: string;
}

/** Matches what the log shows against the inventory; `other` machines (no PXE) are left out. */
export function buildReport(boots: DnsmasqBoots, registered: RegisteredClient[]): DiscoverReport {
  const byMac = new Map(registered.filter((r) => r.mac).map((r) => [r.mac!.toLowerCase(), r.host]));
  const bySerial = new Map(registered.filter((r) => r.serial).map((r) => [r.serial!.toLowerCase(), r.host]));
  const machines = boots.machines.filter((m) => m.kind !== "other").map((m) => ({ ...m, host: byMac.get(m.mac) }));
  const folders = boots.folders.map((f) => ({ ...f, host: f.serial ? bySerial.get(f.serial) : byMac.get(f.mac!) }));
  const hosts: Record<string, Record<string, string>> = {};
  for (const m of machines.filter((x) => !x.host)) {
    const vars: Record<string, string> = { netboot_mac: m.mac, netboot_kind: m.kind === "pi" ? "pi4" : "pxe" };
    // Its MAC folder was read (TFTP_PREFIX=2): the model is known from the files.
    const macFolder = folders.find((f) => f.mac === m.mac);
    if (macFolder?.model) vars.netboot_kind = macFolder.model;
    if (m.addresses.length === 1) vars.ansible_host = m.addresses[0];
    hosts[suggestedName(m)] = vars;
  }
  // Values quoted: an unquoted MAC of digits (00:11:22:...) is a base-60 number in YAML 1.1.
  const yaml = Object.keys(hosts).length ? stringify({ netboot_clients: { hosts } }, { defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN" }) : "";
  return { machines, folders, yaml };
}

/** `pi-dca632999999` / `pxe-525400000001`: unique, valid as a host name; rename at will. */
function suggestedName(m: BootRequester): string {
  return `${m.kind}-${m.mac.replaceAll(":", "")}`;
}

/** The human-readable listing (then the YAML). */
export function formatReport(report: DiscoverReport): string {
  const out: string[] = [];
  if (report.machines.length === 0 && report.folders.length === 0) return "No machine asked for a network boot in this log (is log-dhcp on?).\n";
  out.push("Machines that asked for a network boot (DHCP):");
  for (const m of report.machines) {
    const what = m.kind === "pi" ? "Raspberry Pi" : "PXE";
    const where = m.addresses.length ? ` at ${m.addresses.join(", ")}` : "";
    out.push(`  ${m.mac}  ${what.padEnd(12)} ${m.host ? `inventory host ${m.host}` : "NOT IN THE INVENTORY"}  (${m.vendorClass || "no vendor class"}, ${m.requests} request${m.requests === 1 ? "" : "s"}${where})`);
  }
  if (report.folders.length) {
    out.push("Raspberry Pi boot folders read over TFTP:");
    for (const f of report.folders) {
      const model = f.model ? ` ${f.model}` : "";
      const state = f.host ? `inventory host ${f.host}` : "NOT IN THE INVENTORY";
      out.push(`  ${f.folder.padEnd(17)}${model.padEnd(5)} ${state}${f.missing ? ", files not found on the master" : ""}  (from ${f.addresses.join(", ") || "?"})`);
    }
  }
  if (report.yaml) {
    out.push("", "To register them, paste under your inventory's netboot_clients (rename the hosts; a Pi");
    out.push("also needs netboot_serial: the last 8 hex digits of its /proc/cpuinfo Serial, or set its");
    out.push("bootloader's TFTP_PREFIX=2; netboot_kind is pi4 unless its reads showed a Pi 5):", "");
    out.push(report.yaml.trimEnd());
  }
  const serials = report.folders.filter((f) => f.serial && !f.host).map((f) => f.serial);
  if (serials.length) out.push("", `Serials seen but not in the inventory: ${serials.join(", ")} (the log cannot tie a TFTP read to a MAC in proxy mode).`);
  return `${out.join("\n")}\n`;
}
