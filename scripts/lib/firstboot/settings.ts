/**
 * What the first boot sets up, and its validation. Every value ends up in a shell script or a
 * YAML file that runs as root on the Pi, so each one is checked against what it may be
 * (a hostname, a user name, an IPv4 address...) before anything is rendered.
 */

export interface WifiSettings {
  ssid: string;
  /** wpa_passphrase's derived key (64 hex digits), never the passphrase. */
  psk: string;
  /** ISO 3166 country code: Wi-Fi stays blocked (rfkill) until it is set. */
  country: string;
  hidden: boolean;
}

export interface StaticAddress {
  interface: string;
  /** With prefix: 192.168.0.21/24. */
  address: string;
  gateway: string;
  dns: string[];
}

export interface FirstbootSettings {
  hostname: string;
  user: string;
  /** SHA-512 crypt hash. */
  passwordHash: string;
  authorizedKeys: string[];
  timezone?: string;
  keyboard?: string;
  locale?: string;
  wifi?: WifiSettings;
  staticIp?: StaticAddress;
}

const IPV4 = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}";

/** Checks by kind: a pattern and what it means, for the message. */
export const CHECKS = {
  hostname: [/^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/, "a hostname (letters, digits and '-', at most 63, no '-' at either end)"],
  user: [/^[a-z_][a-z0-9_-]{0,31}$/, "a user name (lower-case letters, digits, '_' and '-', starting with a letter or '_')"],
  timezone: [/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/, "a time zone name such as Asia/Tokyo"],
  keyboard: [/^[a-z]{2,8}$/, "a keyboard layout such as us, gb or jp"],
  locale: [/^[a-z]{2,3}_[A-Z]{2}(\.[A-Za-z0-9-]+)?(@[a-z]+)?$/, "a locale such as en_GB.UTF-8"],
  country: [/^[A-Z]{2}$/, "a two-letter country code such as JP"],
  interface: [/^[A-Za-z0-9_.-]{1,15}$/, "an interface name such as eth0"],
  address: [new RegExp(`^${IPV4}/([1-9]|[12]\\d|3[0-2])$`), "an IPv4 address with prefix such as 192.168.0.21/24"],
  ip: [new RegExp(`^${IPV4}$`), "an IPv4 address such as 192.168.0.1"],
  ssid: [/^[^\n\r\0]{1,32}$/, "an SSID of 1 to 32 characters on one line"],
} as const satisfies Record<string, readonly [RegExp, string]>;

export type CheckKind = keyof typeof CHECKS;

/** Why `value` is not a valid `kind`, or undefined when it is. */
export function invalid(kind: CheckKind, value: string): string | undefined {
  const [pattern, meaning] = CHECKS[kind];
  if (kind === "ssid" && Buffer.byteLength(value, "utf8") > 32) return `${JSON.stringify(value)} is longer than 32 bytes (an SSID's limit)`;
  return pattern.test(value) ? undefined : `${JSON.stringify(value)} is not ${meaning}`;
}

const KEY_TYPES = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)$/;

/** Why `line` is not one OpenSSH public key (type, base64 blob, optional comment). */
export function invalidKey(line: string): string | undefined {
  const [type, blob] = line.trim().split(/\s+/);
  if (/[\r\n]/.test(line.trim())) return "an authorized key must be one line";
  if (!type || !KEY_TYPES.test(type)) return `${JSON.stringify(line.slice(0, 40))} is not an OpenSSH public key (ssh-ed25519 AAAA... comment)`;
  if (!blob || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return `the key ${JSON.stringify(type)} has no base64 body`;
  return undefined;
}
