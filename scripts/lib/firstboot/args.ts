/**
 * firstboot's command line: `firstboot.ts --host pi-1 [-i inventory] [options] TARGET`.
 * Mistakes are UsageErrors (exit 5), as for the runner.
 */
import { UsageError, parseFlags, type Flag } from "../cli/flags.ts";
import type { Overrides } from "./host-settings.ts";

export interface FirstbootOptions extends Overrides {
  host?: string;
  inventory: string[];
  target?: string;
  layout: "auto" | "firstrun" | "cloud-init";
  yes: boolean;
  check: boolean;
  diff: boolean;
  help: boolean;
  version: boolean;
}

export const HELP = `Usage: firstboot --host NAME [-i INVENTORY] [options] TARGET

Prepares a freshly flashed Raspberry Pi OS card (or .img file) for a headless first boot,
from the inventory host's variables: SSH on with the authorized keys, the user the runner logs
in as with a password hash, the hostname, optional Wi-Fi, time zone, keyboard and locale, and
the static address (static_ip_*). Bookworm images get the Imager's firstrun.sh, trixie and
later cloud-init's user-data/network-config/meta-data: detected from the image. Writes the FAT
boot partition with mtools, without mounting; refuses anything that is not a Raspberry Pi boot
partition, a mounted device and this machine's own disk. Shows what it will write and asks.

TARGET                    the card's block device (/dev/sdb, see lsblk) or an .img file
Options:
  --host NAME             the inventory host this card is for (required)
  -i, --inventory SRC     inventory file or folder (default: ANSIBLE_INVENTORY, ansible.cfg's
                          inventory, else inventory/hosts.yml)
  --authorized-key FILE   public key file(s) to authorize (repeatable; default:
                          base_os_admin_ssh_keys, else ansible_ssh_private_key_file's .pub)
  --timezone TZ           default: base_os_timezone
  --keyboard LAYOUT       e.g. jp (default: firstboot_keyboard)
  --locale LOCALE         e.g. en_GB.UTF-8 (default: firstboot_locale)
  --wifi-ssid SSID        default: firstboot_wifi_ssid (none: no Wi-Fi)
  --wifi-country CC       default: firstboot_wifi_country (needed with Wi-Fi)
  --wifi-hidden           the network does not broadcast its SSID
  --layout L              auto (default), firstrun or cloud-init
  -C, --check             show what would be written, write nothing
  -D, --diff              also show each file's changes as a diff (password hash, Wi-Fi key: ***)
  -y, --yes               write without asking
  -h, --help              this text          --version   the version

Secrets are asked on the terminal without echo, or taken from the environment:
  FIRSTBOOT_PASSWORD      the user's password (only its SHA-512 crypt hash is written)
  FIRSTBOOT_WIFI_PSK      the Wi-Fi passphrase (only the derived key is written, as wpa_passphrase)
Exit codes: 0 ok, 1 refused or failed (nothing written), 4 inventory error, 5 bad options,
99 interrupted.
`;

const LAYOUTS = ["auto", "firstrun", "cloud-init"] as const;

const FLAGS: Flag<FirstbootOptions>[] = [
  { long: "host", value: true, apply: (o, v) => (o.host = v) },
  { long: "inventory", short: "i", value: true, apply: (o, v) => o.inventory.push(v) },
  { long: "authorized-key", value: true, apply: (o, v) => o.authorizedKeyFiles.push(v) },
  { long: "timezone", value: true, apply: (o, v) => (o.timezone = v) },
  { long: "keyboard", value: true, apply: (o, v) => (o.keyboard = v) },
  { long: "locale", value: true, apply: (o, v) => (o.locale = v) },
  { long: "wifi-ssid", value: true, apply: (o, v) => (o.wifiSsid = v) },
  { long: "wifi-country", value: true, apply: (o, v) => (o.wifiCountry = v) },
  { long: "wifi-hidden", apply: (o) => (o.wifiHidden = true) },
  {
    long: "layout",
    value: true,
    apply: (o, v) => {
      if (!(LAYOUTS as readonly string[]).includes(v)) throw new UsageError(`--layout must be one of ${LAYOUTS.join(", ")}, got ${JSON.stringify(v)}`);
      o.layout = v as FirstbootOptions["layout"];
    },
  },
  { long: "check", short: "C", apply: (o) => (o.check = true) },
  { long: "diff", short: "D", apply: (o) => (o.diff = true) },
  { long: "yes", short: "y", apply: (o) => (o.yes = true) },
  { long: "help", short: "h", apply: (o) => (o.help = true) },
  { long: "version", apply: (o) => (o.version = true) },
];

export function parseFirstbootArgs(argv: string[]): FirstbootOptions {
  const o: FirstbootOptions = { inventory: [], authorizedKeyFiles: [], layout: "auto", yes: false, check: false, diff: false, help: false, version: false };
  const operands = parseFlags(argv, FLAGS, o);
  if (o.help || o.version) return o;
  if (!o.host) throw new UsageError("--host is required: the inventory host this card is for", "Example: firstboot --host pi-1 /dev/sdb");
  if (operands.length !== 1) throw new UsageError(operands.length === 0 ? "no TARGET: give the card's device (e.g. /dev/sdb) or an .img file" : `one TARGET only, got ${operands.length}: ${operands.map((a) => JSON.stringify(a)).join(" ")}`);
  o.target = operands[0];
  return o;
}
