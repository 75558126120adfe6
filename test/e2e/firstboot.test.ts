/**
 * firstboot end to end on disk images the test builds (an MBR, a FAT32 or FAT16 boot
 * partition made by mkfs.vfat at 4 MiB, files put in with mcopy; no loop devices, no mounts),
 * under Node and under Deno: the exact files written (read back with mtools, checked against
 * openssl and the IEEE Wi-Fi vector rather than our own code), cmdline.txt one line, a second
 * run that writes nothing (the image's bytes unchanged), refusals of anything that is not a Pi
 * boot partition and of this machine's root disk, and the password nowhere in the output or
 * on the card.
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { BOOKWORM_FILES, CMDLINE, TRIXIE_FILES, buildImage, imageToolsMissing, listFiles, putFile, readFile } from "../support/pi-image.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const deno = join(root, "node_modules", ".bin", "deno");
const missing = imageToolsMissing();
const dir = mkdtempSync(join(tmpdir(), "firstboot-e2e-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const PASSWORD = "correct horse battery staple";
// IEEE 802.11i's test vector: this SSID and passphrase give this key (wpa_passphrase agrees).
const SSID = "IEEE";
const PASSPHRASE = "password";
const PSK = "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e";
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHV0ZXN0a2V5Zm9yZmlyc3Rib290dGVzdHNvbmx5MTIz you@laptop";
const HOOK = "systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target";
const ENV = { FIRSTBOOT_PASSWORD: PASSWORD, FIRSTBOOT_WIFI_PSK: PASSPHRASE };

const inventory = join(dir, "hosts.yml");
writeFileSync(
  inventory,
  `all:
  vars:
    ansible_user: pi
    base_os_timezone: Asia/Tokyo
    base_os_admin_ssh_keys: ["${KEY}"]
  hosts:
    pi-1:
      static_ip_address: 192.168.0.21/24
      static_ip_gateway: 192.168.0.1
      static_ip_dns: [192.168.0.1]
      firstboot_wifi_ssid: ${SSID}
      firstboot_wifi_country: JP
`,
);

type Runtime = "node" | "deno" | "zx";

function firstboot(runtime: Runtime, args: string[], env: Record<string, string> = ENV) {
  const command =
    runtime === "deno"
      ? [deno, "run", "-A", "scripts/firstboot.ts"]
      : runtime === "zx"
        ? [join(root, "node_modules", ".bin", "zx"), "firstboot"]
        : [process.execPath, "--import", "tsx", "scripts/firstboot.ts"];
  const r = spawnSync(command[0], [...command.slice(1), ...args], {
    cwd: root,
    encoding: "utf8",
    // No terminal on stdin: nobody can be asked, so only --yes writes.
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...env, NO_COLOR: "1" },
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, output: `${r.stdout}\n${r.stderr}` };
}

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

function openssl(password: string, hash: string): string {
  const salt = /^\$6\$([^$]+)\$/.exec(hash)![1];
  return spawnSync("openssl", ["passwd", "-6", "-salt", salt, "-stdin"], { input: `${password}\n`, encoding: "utf8" }).stdout.trim();
}

function assertNoPassword(image: string, output: string) {
  assert.ok(!output.includes(PASSWORD), "the password is printed");
  assert.ok(!output.includes(PASSPHRASE + "\n") && !output.includes(`"${PASSPHRASE}"`), "the Wi-Fi passphrase is printed");
  assert.ok(!readFileSync(image).includes(Buffer.from(PASSWORD)), "the password is on the card");
}

let n = 0;
function image(files: Record<string, string>, fat: 16 | 32 = 32): string {
  const path = join(dir, `card-${++n}.img`);
  buildImage(path, { files, fat });
  return path;
}

for (const runtime of ["node", "deno"] as const) {
  const skip = missing || (runtime === "deno" && !existsSync(deno) && "deno is not installed (npm ci installs it as a dev dependency)");
  describe(`firstboot under ${runtime}`, { skip }, () => {
    test("bookworm image: firstrun.sh and the hook in cmdline.txt; a second run writes nothing", () => {
      const img = image(BOOKWORM_FILES, 32);
      const first = firstboot(runtime, ["--host", "pi-1", "-i", inventory, "--yes", img]);
      assert.equal(first.status, 0, first.output);
      assert.match(first.stdout, /layout +firstrun: no cloud-init files/);
      assert.match(first.stdout, /firstrun\.sh +new, \d+ bytes/);
      assertNoPassword(img, first.output);

      assert.deepEqual(listFiles(img), [...Object.keys(BOOKWORM_FILES), "firstrun.sh"].sort());
      for (const [name, content] of Object.entries(BOOKWORM_FILES)) if (name !== "cmdline.txt") assert.equal(readFile(img, name), content, name);
      const cmdline = readFile(img, "cmdline.txt");
      assert.equal(cmdline, `${CMDLINE.trimEnd()} ${HOOK}\n`, "one line: the original tokens, then the hook once");

      const script = readFile(img, "firstrun.sh");
      assert.equal(spawnSync("sh", ["-n", "-c", script]).status, 0, "firstrun.sh parses");
      const hash = /"\$USERCONF" pi '(\$6\$[^']+)'/.exec(script)?.[1];
      assert.ok(hash, script);
      assert.equal(openssl(PASSWORD, hash), hash, "openssl gives the same hash for the password and salt");
      assert.match(script, /"\$IMAGER" set_hostname pi-1\n/);
      assert.ok(script.includes(`"$IMAGER" enable_ssh -k '${KEY}'\n`));
      assert.ok(script.includes(`"$IMAGER" set_wlan ${SSID} ${PSK} JP\n`), "the Wi-Fi key as wpa_passphrase derives it");
      assert.match(script, /"\$IMAGER" set_timezone Asia\/Tokyo\n/);
      assert.match(script, /address1=192\.168\.0\.21\/24,192\.168\.0\.1\n/);
      assert.match(script, /\nrm -f \/boot\/firstrun\.sh\n.*\nexit 0\n$/);

      const before = sha256(img);
      const second = firstboot(runtime, ["--host", "pi-1", "-i", inventory, "--yes", img]);
      assert.equal(second.status, 0, second.output);
      assert.match(second.stdout, /firstrun\.sh +unchanged/);
      assert.match(second.stdout, /Nothing to write/);
      assert.equal(sha256(img), before, "the second run changed the image");
    });

    test("trixie image: user-data, network-config, meta-data and ds=nocloud; a second run writes nothing", () => {
      const img = image(TRIXIE_FILES, 16);
      const first = firstboot(runtime, ["--host", "pi-1", "-i", inventory, "--yes", "--keyboard", "jp", img]);
      assert.equal(first.status, 0, first.output);
      assert.match(first.stdout, /layout +cloud-init: the partition has user-data, meta-data, network-config/);
      assertNoPassword(img, first.output);
      assert.deepEqual(listFiles(img), Object.keys(TRIXIE_FILES).sort(), "no firstrun.sh, nothing else added");

      const userData = readFile(img, "user-data");
      assert.ok(userData.startsWith("#cloud-config\n"));
      const ud = parse(userData, { version: "1.1" });
      assert.equal(ud.hostname, "pi-1");
      assert.equal(ud.timezone, "Asia/Tokyo");
      assert.deepEqual(ud.keyboard, { model: "pc105", layout: "jp" });
      assert.equal(ud.users[0].name, "pi");
      assert.deepEqual(ud.users[0].ssh_authorized_keys, [KEY]);
      assert.equal(openssl(PASSWORD, ud.users[0].passwd), ud.users[0].passwd);
      const net = parse(readFile(img, "network-config"), { version: "1.1" }).network;
      assert.deepEqual(net.ethernets.eth0.addresses, ["192.168.0.21/24"]);
      assert.deepEqual(net.ethernets.eth0.routes, [{ to: "default", via: "192.168.0.1" }]);
      assert.deepEqual(net.wifis.wlan0["access-points"], { [SSID]: { password: PSK } });
      assert.equal(net.wifis.wlan0["regulatory-domain"], "JP");
      const id = /^instance-id: (pi-cluster-pi-1-[0-9a-f]{16})\n$/.exec(readFile(img, "meta-data"))?.[1];
      assert.ok(id, readFile(img, "meta-data"));
      assert.equal(readFile(img, "cmdline.txt"), `${CMDLINE.trimEnd()} ds=nocloud;i=${id}\n`);

      const before = sha256(img);
      const second = firstboot(runtime, ["--host", "pi-1", "-i", inventory, "--yes", "--keyboard", "jp", img]);
      assert.equal(second.status, 0, second.output);
      assert.match(second.stdout, /Nothing to write/);
      assert.equal(sha256(img), before);
    });

    test("a FAT partition without Pi boot files is refused, naming what is missing, and left as it was", () => {
      const img = image({ "config.txt": "", "cmdline.txt": "quiet\n", "readme.txt": "my stick" });
      const before = sha256(img);
      const r = firstboot(runtime, ["--host", "pi-1", "-i", inventory, "--yes", img]);
      assert.equal(r.status, 1, r.output);
      assert.match(r.stderr, /partition 1 \(FAT32\) is not a Raspberry Pi boot partition: no firmware \(start\*\.elf or bootcode\.bin\), no Raspberry Pi device trees/);
      assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, "no stack trace");
      assert.equal(sha256(img), before);
    });
  });
}

describe("firstboot refusals and the zx entry", { skip: missing }, () => {
  test("no FAT at all: a Linux partition, a FAT type with no file system, no partition table", () => {
    const cases: Array<[Parameters<typeof buildImage>[1], RegExp]> = [
      [{ partitionType: 0x83, noFat: true }, /has no FAT partition \(partition 1 type 0x83, partition 2 type 0x83\)/],
      [{ noFat: true }, /partition 1 is typed FAT \(0x0c\) but holds no FAT file system/],
    ];
    for (const [spec, message] of cases) {
      const img = join(dir, `nofat-${++n}.img`);
      buildImage(img, spec);
      const before = sha256(img);
      const r = firstboot("node", ["--host", "pi-1", "-i", inventory, "--yes", img]);
      assert.equal(r.status, 1, r.output);
      assert.match(r.stderr, message);
      assert.equal(sha256(img), before);
    }
    const zeros = join(dir, "zeros.img");
    writeFileSync(zeros, Buffer.alloc(1024 * 1024));
    const r = firstboot("node", ["--host", "pi-1", "-i", inventory, "--yes", zeros]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no partition table \(MBR\) and no FAT file system/);
  });

  test("without a terminal and without --yes nothing is written, and the message says what to add", () => {
    const img = image(BOOKWORM_FILES);
    const before = sha256(img);
    const r = firstboot("node", ["--host", "pi-1", "-i", inventory, img]);
    assert.equal(r.status, 5, r.output);
    assert.match(r.stdout, /firstrun\.sh +new/, "the plan is shown first");
    assert.match(r.stderr, /Not written: there is no terminal to ask on\n  hint: .*add --yes/);
    assert.equal(sha256(img), before);
    const check = firstboot("node", ["--host", "pi-1", "-i", inventory, "--check", img]);
    assert.equal(check.status, 0, check.output);
    assert.match(check.stdout, /Check mode \(--check\): nothing written/);
    assert.equal(sha256(img), before);
  });

  test("--check --diff shows each change as a diff with the hashes and the Wi-Fi key masked, and writes nothing", () => {
    const img = image(TRIXIE_FILES);
    assert.equal(firstboot("node", ["--host", "pi-1", "-i", inventory, "--yes", img]).status, 0);
    const before = sha256(img);
    const oldHash = parse(readFile(img, "user-data"), { version: "1.1" }).users[0].passwd;
    const r = firstboot("node", ["--host", "pi-1", "-i", inventory, "--check", "--diff", "--timezone", "UTC", img], { FIRSTBOOT_PASSWORD: "another password", FIRSTBOOT_WIFI_PSK: "another passphrase" });
    assert.equal(r.status, 0, r.output);
    assert.match(r.stdout, /--- before: a\/user-data\n\+\+\+ after: b\/user-data\n/);
    assert.match(r.stdout, /^-timezone: Asia\/Tokyo\n\+timezone: UTC$/m);
    assert.match(r.stdout, /^-    passwd: \*\*\*\n\+    passwd: \*\*\*$/m);
    assert.match(r.stdout, /^-          password: \*\*\*\n\+          password: \*\*\*$/m);
    assert.ok(!r.output.includes(oldHash) && !r.output.includes("$6$"), "a password hash is printed");
    assert.ok(!r.output.includes(PSK), "the Wi-Fi key is printed");
    assert.ok(!r.output.includes("another pass"), "a secret is printed");
    assert.equal(sha256(img), before);
  });

  test("without -i the inventory is ANSIBLE_INVENTORY's, as the runner reads it", () => {
    const img = image(BOOKWORM_FILES);
    const r = firstboot("node", ["--host", "pi-1", "--check", img], { ...ENV, ANSIBLE_INVENTORY: inventory });
    assert.equal(r.status, 0, r.output);
    assert.match(r.stdout, /Asia\/Tokyo/, "the plan is made from that inventory's variables");
  });

  test("no password in the environment and no terminal: refused, saying which variable to set", () => {
    const img = image(BOOKWORM_FILES);
    const r = firstboot("node", ["--host", "pi-1", "-i", inventory, "--yes", img], { FIRSTBOOT_WIFI_PSK: PASSPHRASE });
    assert.equal(r.status, 5, r.output);
    assert.match(r.stderr, /Password for pi on pi-1 is needed and there is no terminal to ask on\n  hint: .*FIRSTBOOT_PASSWORD/);
  });

  test("this machine's root disk is refused before anything is read from it", (t) => {
    const rootMount = readFileSync("/proc/self/mountinfo", "utf8").split("\n").find((l) => l.split(" ")[4] === "/");
    const fields = rootMount?.split(" ") ?? [];
    const source = fields[fields.indexOf("-") + 2];
    if (!source?.startsWith("/dev/") || !existsSync(source) || !statSync(source).isBlockDevice()) {
      t.skip(`the root file system is not on a block device here (${source})`);
      return;
    }
    // No --yes: even a wrong check could not write.
    const r = firstboot("node", ["--host", "pi-1", "-i", inventory, source]);
    assert.equal(r.status, 1, r.output);
    assert.match(r.stderr, /the disk this machine's root filesystem lives on/);
  });

  for (const runtime of ["node", "deno"] as const) {
    const noPty = spawnSync("script", ["--version"]).status !== 0 && "script (util-linux) is not installed";
    test(`on a terminal (${runtime}): asks for the password twice without echo, shows the plan, asks before writing`, { skip: noPty || (runtime === "deno" && !existsSync(deno) && "deno is not installed") }, async () => {
      const img = image(BOOKWORM_FILES);
      const inv = join(dir, "no-wifi.yml");
      writeFileSync(inv, `all:\n  hosts:\n    pi-9:\n      ansible_user: pi\n      base_os_admin_ssh_keys: ["${KEY}"]\n`);
      // script(1) gives the command a pseudo-terminal; answers are typed when their prompt shows.
      const runner = runtime === "deno" ? [deno, "run", "-A"] : [process.execPath, "--import", "tsx"];
      const command = [...runner, "scripts/firstboot.ts", "--host", "pi-9", "-i", inv, img].map((a) => `'${a}'`).join(" ");
      const child = spawn("script", ["-qec", command, "/dev/null"], { cwd: root, env: { ...process.env, FIRSTBOOT_PASSWORD: "", NO_COLOR: "1" } });
      const answers: Array<[string, string]> = [["Password for pi on pi-9: ", `${PASSWORD}\r`], ["(again): ", `${PASSWORD}\r`], ["[y/N] ", "y\r"]];
      let screen = "";
      let seen = 0; // where the next prompt is looked for (readline adds cursor codes after its prompt)
      child.stdout.on("data", (chunk: Buffer) => {
        screen += chunk.toString("utf8");
        const at = answers.length > 0 ? screen.indexOf(answers[0][0], seen) : -1;
        if (at >= 0) {
          seen = at + answers[0][0].length;
          child.stdin.write(answers.shift()![1]);
        }
      });
      const status = await new Promise<number | null>((done) => {
        const timer = setTimeout(() => child.kill(), 60_000);
        child.on("exit", (code) => {
          clearTimeout(timer);
          done(code);
        });
      });
      assert.equal(status, 0, screen);
      assert.equal(answers.length, 0, `not every question was asked:\n${screen}`);
      assert.ok(screen.indexOf("firstrun.sh     new") < screen.indexOf("[y/N]"), "the plan comes before the question");
      assert.ok(!screen.includes(PASSWORD), `the password was echoed:\n${screen}`);
      const hash = /"\$USERCONF" pi '(\$6\$[^']+)'/.exec(readFile(img, "firstrun.sh"))![1];
      assert.equal(openssl(PASSWORD, hash), hash);
    });
  }

  test("the partition itself (like /dev/sdb1): a FAT file system from byte 0", () => {
    const img = join(dir, "partition.img");
    rmSync(img, { force: true });
    const r0 = spawnSync("mkfs.vfat", ["-C", img, String(16 * 1024)], { env: { ...process.env, PATH: `${process.env.PATH}:/sbin:/usr/sbin` }, encoding: "utf8" });
    assert.equal(r0.status, 0, r0.stderr);
    for (const [name, content] of Object.entries(BOOKWORM_FILES)) {
      spawnSync("mcopy", ["-o", "-i", img, "-", `::/${name}`], { input: content, env: { ...process.env, MTOOLS_SKIP_CHECK: "1", MTOOLSRC: "/dev/null" } });
    }
    const r = firstboot("node", ["--host", "pi-1", "-i", inventory, "--yes", img]);
    assert.equal(r.status, 0, r.output);
    assert.match(r.stdout, /the FAT file system \(FAT16\) at byte 0/);
    const cmdline = spawnSync("mcopy", ["-n", "-i", img, "::/cmdline.txt", "-"], { encoding: "utf8", env: { ...process.env, MTOOLS_SKIP_CHECK: "1" } }).stdout;
    assert.equal(cmdline, `${CMDLINE.trimEnd()} ${HOOK}\n`);
  });

  test("npx zx firstboot: --help, and a run on an image", () => {
    const help = firstboot("zx", ["--help"]);
    assert.equal(help.status, 0, help.output);
    assert.match(help.stdout, /^Usage: firstboot --host NAME/);
    const img = image(BOOKWORM_FILES);
    const r = firstboot("zx", ["--host", "pi-1", "-i", inventory, "--yes", img]);
    assert.equal(r.status, 0, r.output);
    assert.ok(readFile(img, "cmdline.txt").endsWith(` ${HOOK}\n`));
  });
});
