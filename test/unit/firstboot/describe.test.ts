/** The plan printed before writing: key fingerprints as ssh-keygen shows them; no hash, no Wi-Fi key. */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describePlan, fingerprint } from "../../../scripts/lib/firstboot/describe.ts";
import { planFiles } from "../../../scripts/lib/firstboot/plan.ts";
import type { FirstbootSettings } from "../../../scripts/lib/firstboot/settings.ts";

const keygen = spawnSync("ssh-keygen", ["-?"]).error === undefined;
const dir = mkdtempSync(join(tmpdir(), "firstboot-describe-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("fingerprints match ssh-keygen -l", { skip: !keygen && "ssh-keygen is not installed" }, () => {
  for (const type of ["ed25519", "rsa"]) {
    const file = join(dir, `id_${type}`);
    assert.equal(spawnSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", "me@laptop", "-f", file]).status, 0);
    const line = readFileSync(`${file}.pub`, "utf8").trim();
    const [, sha] = spawnSync("ssh-keygen", ["-l", "-E", "sha256", "-f", `${file}.pub`], { encoding: "utf8" }).stdout.split(" ");
    assert.equal(fingerprint(line), `${line.split(" ")[0]} ${sha} me@laptop`);
  }
});

test("the plan names the settings and each file's fate, never the hash or the Wi-Fi key", () => {
  const psk = "ab".repeat(32);
  const s: FirstbootSettings = {
    hostname: "pi-1",
    user: "pi",
    passwordHash: "$6$saltsalt$hashhashhash",
    authorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKey you@laptop"],
    wifi: { ssid: "Home", psk, country: "JP", hidden: true },
    staticIp: { interface: "eth0", address: "192.168.0.21/24", gateway: "192.168.0.1", dns: ["192.168.0.1"] },
  };
  const files = planFiles("firstrun", s, (name) => (name === "cmdline.txt" ? "console=tty1 rootwait\n" : undefined));
  const text = describePlan({ host: "pi-1", target: "/dev/sdb", kind: "device", where: "partition 1 (FAT32)", offset: 4194304, layoutReason: "firstrun: test" }, s, files);
  assert.match(text, /^firstboot: pi-1 -> \/dev\/sdb \(block device\), partition 1 \(FAT32\) at byte 4194304\n/);
  assert.match(text, /  Wi-Fi +"Home" \(JP, hidden; key derived as wpa_passphrase\)\n/);
  assert.match(text, /  address +192\.168\.0\.21\/24 on eth0 via 192\.168\.0\.1, DNS 192\.168\.0\.1\n/);
  assert.match(text, /  firstrun\.sh +new, \d+ bytes\n/);
  assert.match(text, /  cmdline\.txt +\+systemd\.run=\/boot\/firstrun\.sh \+systemd\.run_success_action=reboot \+systemd\.unit=kernel-command-line\.target\n/);
  assert.ok(!text.includes("$6$") && !text.includes(psk));
});
