/**
 * The plan firstboot prints before it writes: what the first boot will set up (keys by their
 * SHA256 fingerprint, as ssh-keygen -l shows them; no hash, no Wi-Fi key) and, per file on the
 * boot partition, new / replaced / unchanged, with cmdline.txt's tokens added and removed.
 */
import { createHash } from "node:crypto";
import { cmdlineChange, type PlannedFile } from "./plan.ts";
import type { FirstbootSettings } from "./settings.ts";

/** `ssh-ed25519 SHA256:... comment`, the fingerprint ssh-keygen -l prints. */
export function fingerprint(key: string): string {
  const [type, blob, ...comment] = key.split(" ");
  const sha = createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64").replace(/=+$/, "");
  return `${type} SHA256:${sha}${comment.length ? ` ${comment.join(" ")}` : ""}`;
}

export interface PlanHeader {
  host: string;
  target: string;
  kind: "image" | "device";
  /** "partition 1 (FAT32)" */
  where: string;
  offset: number;
  layoutReason: string;
}

/** The plan shown before anything is written: the settings, then each file's fate. */
export function describePlan(h: PlanHeader, st: FirstbootSettings, files: PlannedFile[]): string {
  const row = (k: string, v: string) => `  ${k.padEnd(16)}${v}\n`;
  let text = `firstboot: ${h.host} -> ${h.target} (${h.kind === "device" ? "block device" : "image file"}), ${h.where} at byte ${h.offset}\n`;
  text += row("layout", h.layoutReason);
  text += row("hostname", st.hostname);
  text += row("user", `${st.user} (password as a SHA-512 crypt hash; sudo without password)`);
  st.authorizedKeys.forEach((k, i) => (text += row(i === 0 ? "authorized keys" : "", fingerprint(k))));
  text += row("SSH", "on, keys only (no password logins)");
  text += row("Wi-Fi", st.wifi ? `${JSON.stringify(st.wifi.ssid)} (${st.wifi.country}${st.wifi.hidden ? ", hidden" : ""}; key derived as wpa_passphrase)` : "none");
  if (st.timezone) text += row("time zone", st.timezone);
  if (st.keyboard) text += row("keyboard", st.keyboard);
  if (st.locale) text += row("locale", st.locale);
  const ip = st.staticIp;
  text += row("address", ip ? `${ip.address} on ${ip.interface}${ip.gateway ? ` via ${ip.gateway}` : ""}${ip.dns.length ? `, DNS ${ip.dns.join(" ")}` : ""}` : "DHCP");
  text += "Files on the boot partition:\n";
  for (const f of files) {
    const size = `${Buffer.byteLength(f.content)} bytes`;
    if (f.before === f.content) text += row(f.name, "unchanged");
    else if (f.name === "cmdline.txt") {
      const c = cmdlineChange(f.before ?? "", f.content);
      const tokens = [...c.added.map((t) => `+${t}`), ...c.removed.map((t) => `-${t}`)];
      text += row(f.name, tokens.length ? tokens.join(" ") : "made one line");
    } else text += row(f.name, f.before === undefined ? `new, ${size}` : `replaced, ${size}`);
  }
  return text;
}
