/**
 * The Wi-Fi key as wpa_passphrase writes it (`psk=` without quotes): PBKDF2-HMAC-SHA1 of the
 * passphrase, salted with the SSID, 4096 rounds, 32 bytes, in hex. The image then holds the
 * derived key, never the passphrase. A 64-digit hex key is already that and is used as is.
 */
import { pbkdf2Sync } from "node:crypto";

/** Why a passphrase cannot be used, or undefined when it can. */
export function pskProblem(passphrase: string): string | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(passphrase)) return undefined;
  if (!/^[\x20-\x7e]*$/.test(passphrase)) return "the Wi-Fi passphrase has characters outside printable ASCII";
  if (passphrase.length < 8 || passphrase.length > 63) return `the Wi-Fi passphrase must be 8 to 63 characters (it has ${passphrase.length})`;
  return undefined;
}

export function wifiPsk(ssid: string, passphrase: string): string {
  if (/^[0-9a-fA-F]{64}$/.test(passphrase)) return passphrase.toLowerCase();
  return pbkdf2Sync(Buffer.from(passphrase, "utf8"), Buffer.from(ssid, "utf8"), 4096, 32, "sha1").toString("hex");
}
