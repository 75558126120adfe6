/**
 * What lands on the card: firstrun.sh (a script that runs as root: every value quoted, the
 * clean-up line where bookworm's imager_fixup expects it) and cloud-init's files (YAML 1.1 as
 * cloud-init reads it: values that look like booleans or numbers stay strings).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { parse } from "yaml";
import { renderFirstrun } from "../../../scripts/lib/firstboot/firstrun.ts";
import { instanceId, renderMetaData, renderNetworkConfig, renderUserData } from "../../../scripts/lib/firstboot/cloud-init.ts";
import type { FirstbootSettings } from "../../../scripts/lib/firstboot/settings.ts";
import { sha512Crypt } from "../../../scripts/lib/template/sha512-crypt.ts";

const HASH = sha512Crypt("hunter22", "Be8hyALjHZSoe9Gj");
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx you@laptop";

function settings(extra: Partial<FirstbootSettings> = {}): FirstbootSettings {
  return { hostname: "pi-1", user: "pi", passwordHash: HASH, authorizedKeys: [KEY], timezone: "Asia/Tokyo", ...extra };
}

/** Runs the script's words through sh with every tool replaced by a recorder. */
function commandsOf(script: string): string[] {
  const prelude = 'rec() { printf "%s|" "$@"; printf "\\n"; }\n';
  const body = script
    .replace(/^IMAGER=.*$/m, "IMAGER=rec_imager")
    .replace(/^USERCONF=.*$/m, "USERCONF=rec_userconf")
    .replace(/\[ -x "\$tool" \] \|\| /, "true || ");
  const stubbed = `${prelude}rec_imager() { rec imager "$@"; }\nrec_userconf() { rec userconf "$@"; }\nraspi_config() { :; }\n${body.split("\n").filter((l) => !/^(install|cat >|chmod|rm -f|sed -i)/.test(l) && !/^(\[|#|address1|id=|uuid|type=|interface|autoconnect|method|dns|ignore|PI_CLUSTER)/.test(l)).join("\n")}`;
  const r = spawnSync("sh", ["-c", stubbed], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split("\n");
}

test("firstrun.sh passes each value as one word, whatever quotes it holds", () => {
  const script = renderFirstrun(settings({ wifi: { ssid: "it's $(reboot) `x`", psk: "ab".repeat(32), country: "JP", hidden: true } }));
  assert.equal(spawnSync("sh", ["-n", "-c", script]).status, 0, "the script parses");
  assert.deepEqual(commandsOf(script), [
    "imager|set_hostname|pi-1|",
    `imager|enable_ssh|-k|${KEY}|`,
    `userconf|pi|${HASH}|`,
    `imager|set_wlan|-h|it's $(reboot) \`x\`|${"ab".repeat(32)}|JP|`,
    "imager|set_timezone|Asia/Tokyo|",
  ]);
});

test("firstrun.sh ends with its own removal, the only rm ...firstrun.sh line (imager_fixup cuts there)", () => {
  const script = renderFirstrun(settings({ staticIp: { interface: "eth0", address: "192.168.0.21/24", gateway: "192.168.0.1", dns: ["192.168.0.1"] } }));
  const lines = script.trimEnd().split("\n");
  const cut = lines.filter((l) => /rm.*firstrun\.sh$/.test(l));
  assert.deepEqual(cut, ["rm -f /boot/firstrun.sh"]);
  assert.deepEqual(lines.slice(-3), ["rm -f /boot/firstrun.sh", "sed -i 's| systemd\\.run[^ ]*||g; s| systemd\\.unit=kernel-command-line\\.target||g' /boot/cmdline.txt", "exit 0"]);
  // The clean-up sed really removes the three tokens and nothing else.
  const r = spawnSync("sed", ["s| systemd\\.run[^ ]*||g; s| systemd\\.unit=kernel-command-line\\.target||g"], {
    input: "console=tty1 root=PARTUUID=1-02 rootwait systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target\n",
    encoding: "utf8",
  });
  assert.equal(r.stdout, "console=tty1 root=PARTUUID=1-02 rootwait\n");
});

test("the static address is the static-ip role's own NetworkManager keyfile, mode 0600", () => {
  const script = renderFirstrun(settings({ staticIp: { interface: "eth0", address: "192.168.0.21/24", gateway: "192.168.0.1", dns: ["192.168.0.1", "1.1.1.1"] } }));
  assert.match(script, /cat > \/etc\/NetworkManager\/system-connections\/pi-cluster-eth0\.nmconnection <<'PI_CLUSTER_EOF'\n/);
  assert.match(script, /\[ipv4\]\nmethod=manual\naddress1=192\.168\.0\.21\/24,192\.168\.0\.1\ndns=192\.168\.0\.1;1\.1\.1\.1;\n/);
  assert.match(script, /chmod 600 \/etc\/NetworkManager\/system-connections\/pi-cluster-eth0\.nmconnection\n/);
  assert.doesNotMatch(renderFirstrun(settings()), /NetworkManager/);
});

test("user-data: #cloud-config, the user with hash, keys and sudo; YAML 1.1 look-alikes stay strings", () => {
  const text = renderUserData(settings({ keyboard: "jp", locale: "en_GB.UTF-8", hostname: "on" }));
  assert.ok(text.startsWith("#cloud-config\n"));
  const data = parse(text, { version: "1.1" });
  assert.equal(data.hostname, "on", "PyYAML would read a bare on as true");
  assert.equal(data.timezone, "Asia/Tokyo");
  assert.equal(data.locale, "en_GB.UTF-8");
  assert.deepEqual(data.keyboard, { model: "pc105", layout: "jp" });
  assert.equal(data.ssh_pwauth, false);
  assert.deepEqual(data.users, [
    {
      name: "pi",
      groups: "users,adm,dialout,audio,netdev,video,plugdev,cdrom,games,input,gpio,spi,i2c,render,sudo",
      shell: "/bin/bash",
      lock_passwd: false,
      passwd: HASH,
      ssh_authorized_keys: [KEY],
      sudo: "ALL=(ALL) NOPASSWD:ALL",
    },
  ]);
});

test("network-config: DHCP on eth0 by default; the static address, gateway and DNS; Wi-Fi with its derived key", () => {
  assert.deepEqual(parse(renderNetworkConfig(settings()), { version: "1.1" }), { network: { version: 2, ethernets: { eth0: { dhcp4: true, optional: true } } } });
  const psk = "1234567890".repeat(6) + "1e10";
  const data = parse(
    renderNetworkConfig(settings({
      staticIp: { interface: "eth0", address: "192.168.0.21/24", gateway: "192.168.0.1", dns: ["192.168.0.1"] },
      wifi: { ssid: "yes", psk, country: "JP", hidden: false },
    })),
    { version: "1.1" },
  );
  assert.deepEqual(data.network.ethernets.eth0, {
    dhcp4: false,
    addresses: ["192.168.0.21/24"],
    routes: [{ to: "default", via: "192.168.0.1" }],
    nameservers: { addresses: ["192.168.0.1"] },
    optional: true,
  });
  assert.deepEqual(data.network.wifis.wlan0, { dhcp4: true, "regulatory-domain": "JP", "access-points": { yes: { password: psk } }, optional: true });
});

test("the instance id follows the content: same settings, same id; other settings, another id", () => {
  const a = instanceId("pi-1", renderUserData(settings()), renderNetworkConfig(settings()));
  assert.equal(a, instanceId("pi-1", renderUserData(settings()), renderNetworkConfig(settings())));
  assert.match(a, /^pi-cluster-pi-1-[0-9a-f]{16}$/);
  assert.notEqual(a, instanceId("pi-1", renderUserData(settings({ timezone: "UTC" })), renderNetworkConfig(settings())));
  assert.equal(renderMetaData(a), `instance-id: ${a}\n`);
});
