/**
 * cloud-init's NoCloud seed files for Raspberry Pi OS trixie and later, the files the
 * Raspberry Pi Imager writes on the boot partition: `user-data` (#cloud-config: hostname,
 * user with password hash and keys, time zone, keyboard, locale), `network-config` (netplan
 * version 2: eth0 by DHCP or the static address, Wi-Fi) and `meta-data` (the instance id),
 * plus `ds=nocloud;i=<id>` on the kernel command line so cloud-init can tell its cache is
 * still valid at later boots. YAML is produced by the yaml library, so every value is quoted
 * as YAML 1.1 needs. The instance id is derived from the content: the same settings give the same
 * files (a re-run changes nothing); changed settings give a new id, so cloud-init applies them.
 */
import { createHash } from "node:crypto";
import { stringify } from "yaml";
import type { FirstbootSettings } from "./settings.ts";

/** Groups of Raspberry Pi OS's first user, as the Imager gives them. */
const GROUPS = "users,adm,dialout,audio,netdev,video,plugdev,cdrom,games,input,gpio,spi,i2c,render,sudo";

// cloud-init reads YAML 1.1 (PyYAML), where `yes`, `on` or `1e5` are not strings: written as
// 1.1, every such value comes out quoted.
const yaml = (value: unknown) => stringify(value, { version: "1.1", lineWidth: 0 });

export function renderUserData(s: FirstbootSettings): string {
  const config: Record<string, unknown> = {
    hostname: s.hostname,
    manage_etc_hosts: true,
    ...(s.timezone ? { timezone: s.timezone } : {}),
    ...(s.locale ? { locale: s.locale } : {}),
    ...(s.keyboard ? { keyboard: { model: "pc105", layout: s.keyboard } } : {}),
    enable_ssh: true,
    ssh_pwauth: false,
    users: [
      {
        name: s.user,
        groups: GROUPS,
        shell: "/bin/bash",
        lock_passwd: false,
        passwd: s.passwordHash,
        ssh_authorized_keys: s.authorizedKeys,
        sudo: "ALL=(ALL) NOPASSWD:ALL",
      },
    ],
  };
  return `#cloud-config\n# Written by pi-cluster-runner (scripts/firstboot.ts) for ${s.hostname}.\n${yaml(config)}`;
}

export function renderNetworkConfig(s: FirstbootSettings): string {
  const ip = s.staticIp;
  const ethernet = ip
    ? {
        [ip.interface]: {
          dhcp4: false,
          addresses: [ip.address],
          ...(ip.gateway ? { routes: [{ to: "default", via: ip.gateway }] } : {}),
          ...(ip.dns.length ? { nameservers: { addresses: ip.dns } } : {}),
          optional: true,
        },
      }
    : { eth0: { dhcp4: true, optional: true } };
  const network: Record<string, unknown> = { version: 2, ethernets: ethernet };
  if (s.wifi) {
    network.wifis = {
      wlan0: {
        dhcp4: true,
        "regulatory-domain": s.wifi.country,
        "access-points": { [s.wifi.ssid]: { password: s.wifi.psk, ...(s.wifi.hidden ? { hidden: true } : {}) } },
        optional: true,
      },
    };
  }
  return `# Written by pi-cluster-runner (scripts/firstboot.ts) for ${s.hostname}.\n${yaml({ network })}`;
}

/** The instance id: the host and a digest of what cloud-init is asked to do. */
export function instanceId(hostname: string, userData: string, networkConfig: string): string {
  const digest = createHash("sha256").update(userData).update("\0").update(networkConfig).digest("hex").slice(0, 16);
  return `pi-cluster-${hostname}-${digest}`;
}

export function renderMetaData(id: string): string {
  return `instance-id: ${id}\n`;
}

/** The kernel command line token that points cloud-init at the seed and its instance id. */
export function nocloudToken(id: string): string {
  return `ds=nocloud;i=${id}`;
}
