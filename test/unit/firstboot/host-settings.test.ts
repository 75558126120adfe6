/** Inventory variables to first-boot settings, with the roles' names and defaults; mistakes name the host and the variable. */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadInventory } from "../../../scripts/lib/inventory/inventory.ts";
import { hostSettings, type Overrides } from "../../../scripts/lib/firstboot/host-settings.ts";
import { UserError } from "../../../scripts/lib/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "firstboot-settings-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKey you@laptop";
const NONE: Overrides = { authorizedKeyFiles: [] };

function inventory(yaml: string) {
  const file = join(dir, `hosts-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, yaml);
  return loadInventory([file]);
}

const RACK = `
all:
  vars:
    ansible_user: pi
    base_os_timezone: Asia/Tokyo
    base_os_admin_ssh_keys: ["${KEY}"]
    static_ip_gateway: 192.168.0.1
    static_ip_dns: [192.168.0.1]
  hosts:
    pi-1:
      static_ip_address: 192.168.0.21/24
      firstboot_wifi_ssid: Home
      firstboot_wifi_country: jp
    pi-2:
      base_os_hostname: "{{ inventory_hostname }}-node"
      firstboot_keyboard: jp
`;

test("the roles' variables: user, keys, time zone, static address; Wi-Fi country upper-cased", () => {
  assert.deepEqual(hostSettings(inventory(RACK), "pi-1", NONE, dir), {
    hostname: "pi-1",
    user: "pi",
    authorizedKeys: [KEY],
    timezone: "Asia/Tokyo",
    wifi: { ssid: "Home", country: "JP", hidden: false },
    staticIp: { interface: "eth0", address: "192.168.0.21/24", gateway: "192.168.0.1", dns: ["192.168.0.1"] },
  });
});

test("templated base_os_hostname; no static address means DHCP; flags win over variables", () => {
  const s = hostSettings(inventory(RACK), "pi-2", { authorizedKeyFiles: [], timezone: "Europe/London", keyboard: "gb" }, dir);
  assert.equal(s.hostname, "pi-2-node");
  assert.equal(s.staticIp, undefined);
  assert.equal(s.timezone, "Europe/London");
  assert.equal(s.keyboard, "gb");
});

test("the role default time zone applies when the inventory sets none", () => {
  const s = hostSettings(inventory(`all:\n  hosts:\n    n1:\n      ansible_user: admin\n      base_os_admin_ssh_keys: ["${KEY}"]\n`), "n1", NONE, dir);
  assert.equal(s.timezone, "Etc/UTC");
  assert.equal(s.user, "admin");
});

test("the key beside ansible_ssh_private_key_file, and --authorized-key files", () => {
  writeFileSync(join(dir, "id_test.pub"), `${KEY}\n`);
  writeFileSync(join(dir, "more.pub"), `# a comment\n${KEY}\n\nssh-rsa AAAAB3NzaC1yc2E other\n`);
  const inv = inventory(`all:\n  hosts:\n    n1:\n      ansible_user: pi\n      ansible_ssh_private_key_file: ${join(dir, "id_test")}\n`);
  assert.deepEqual(hostSettings(inv, "n1", NONE, dir).authorizedKeys, [KEY]);
  assert.deepEqual(hostSettings(inv, "n1", { authorizedKeyFiles: ["more.pub"] }, dir).authorizedKeys, [KEY, "ssh-rsa AAAAB3NzaC1yc2E other"]);
});

function fails(yaml: string, host: string, pattern: RegExp, overrides = NONE) {
  assert.throws(() => hostSettings(inventory(yaml), host, overrides, dir), (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.match(e.format(), pattern);
    return true;
  });
}

test("mistakes name the host, the variable and the value", () => {
  const base = (vars: string) => `all:\n  hosts:\n    pi-1:\n      ansible_user: pi\n      base_os_admin_ssh_keys: ["${KEY}"]\n${vars}`;
  fails(base("      base_os_hostname: pi_1\n"), "pi-1", /hosts-\w+\.yml: host pi-1: base_os_hostname: "pi_1" is not a hostname/);
  fails(base("      static_ip_address: 192.168.0.300/24\n"), "pi-1", /static_ip_address: "192\.168\.0\.300\/24" is not an IPv4 address with prefix/);
  fails(base("      firstboot_wifi_ssid: Home\n"), "pi-1", /Wi-Fi needs a country/);
  fails(base("      base_os_timezone: \"Asia/Tokyo; reboot\"\n"), "pi-1", /base_os_timezone: "Asia\/Tokyo; reboot" is not a time zone name/);
  fails(`all:\n  hosts:\n    pi-1:\n      base_os_admin_ssh_keys: ["${KEY}"]\n`, "pi-1", /no user to create: set ansible_user/);
  fails(`all:\n  hosts:\n    pi-1:\n      ansible_user: "pi; rm -rf /"\n`, "pi-1", /ansible_user: "pi; rm -rf \/" is not a user name/);
  fails(`all:\n  hosts:\n    pi-1:\n      ansible_user: pi\n`, "pi-1", /no SSH key to authorize/);
  fails(`all:\n  hosts:\n    pi-1:\n      ansible_user: pi\n      base_os_admin_ssh_keys: ["not a key"]\n`, "pi-1", /is not an OpenSSH public key/);
  fails(RACK, "pi-3", /Host "pi-3" is not in the inventory; did you mean "pi-1"\?/);
});
