/**
 * Every named probe (scripts/lib/modules/probes.ts) on a real POSIX target (the loopback
 * sshd of test/support/sshd.ts when available, else this machine's sh): the probe's command
 * runs against paths this test made under /tmp, its parser reads the output, and the result
 * must equal what a module fixture written for that state expands to (test/support/probe-states.ts).
 * So a fixture's `state` has the shape the real probe returns, and a reworded command that
 * its parser no longer reads fails here rather than on a host.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { hostname, release, tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { ALL_PROBES } from "../../scripts/lib/modules/probes.ts";
import type { Probe } from "../../scripts/lib/modules/types.ts";
import type { Transport } from "../../scripts/lib/transport/types.ts";
import { EXPAND_STATE, type FixtureFile } from "../support/probe-states.ts";
import { openTarget } from "../support/module-target.ts";

let transport: Transport;
let closeTarget: () => Promise<void>;
let dir = "";

before(async () => {
  const target = await openTarget();
  transport = target.transport;
  closeTarget = target.close;
  console.log(`# named probes against ${target.kind}`);
  dir = mkdtempSync(join(tmpdir(), "probes-e2e-"));
});

after(async () => {
  await closeTarget?.();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const id = (flag: string) => spawnSync("id", [flag], { encoding: "utf8" }).stdout.trim();

/** A path as a fixture describes it, every field taken from the path itself (lstat, or stat when following). */
function described(path: string, extra: { content?: boolean; sha1?: boolean; follow?: boolean } = {}): FixtureFile {
  if (!existsSync(path) && !isLink(path)) return { exists: false };
  const st = extra.follow ? lstatSync(readLinkTarget(path)) : lstatSync(path);
  const type = st.isDirectory() ? "directory" : st.isSymbolicLink() ? "link" : "file";
  const file: FixtureFile = {
    type,
    mode: (st.mode & 0o7777).toString(8).padStart(4, "0"),
    owner: id("-un"),
    group: id("-gn"),
    uid: st.uid,
    gid: st.gid,
    size: st.size,
    mtime: Math.floor(st.mtimeMs / 1000),
  };
  if (type === "file" && extra.content) file.content = readFileSync(path, "utf8");
  else if (type === "file" && extra.sha1) file.sha1 = createHash("sha1").update(readFileSync(path)).digest("hex");
  return file;
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function readLinkTarget(path: string): string {
  return isLink(path) ? join(path, "..", spawnSync("readlink", [path], { encoding: "utf8" }).stdout.trim()) : path;
}

interface ProbeCase {
  /** Makes the paths under `root` and returns the probe's input and the fixture state it must equal. */
  setup(root: string): { input: unknown; fixture: unknown; stdin?: string };
}

const file = (path: string, content: string, mode = 0o644) => {
  writeFileSync(path, content, { mode });
  return path;
};

/** One case per named probe (a new probe without a case fails the completeness test below). */
const CASES: Record<string, ProbeCase> = {
  "remote-file": {
    setup(root) {
      const path = file(join(root, "a.conf"), "x = 1\n", 0o640);
      return { input: { path, options: { content: true, checksum: true } }, fixture: described(path, { content: true }) };
    },
  },
  "put-file": {
    setup(root) {
      const dest = join(root, "dest");
      mkdirSync(dest);
      file(join(dest, "b.txt"), "old\n");
      const source = file(join(root, "src.txt"), "new\n");
      const req = { dest, basename: "b.txt", remoteSource: source, content: "", afterHeader: "" };
      return {
        input: { req, diff: true },
        fixture: { dest: described(dest), child: described(join(dest, "b.txt"), { content: true }), source: described(source, { content: true }) },
      };
    },
  },
  "boot-files": {
    setup(root) {
      const present = file(join(root, "cmdline.txt"), "console=tty1 root=PARTUUID=abc-02\n");
      const candidates = [join(root, "firmware", "cmdline.txt"), present];
      return { input: { candidates, fileName: "cmdline.txt" }, fixture: [{ exists: false }, described(present, { content: true })] };
    },
  },
  "file-paths": {
    setup(root) {
      const src = file(join(root, "data"), "d\n");
      const path = join(root, "data.hard");
      linkSync(src, path);
      const st = lstatSync(src);
      const inode = `${st.dev}:${st.ino}`;
      return {
        input: { args: { path, src, state: "hard" } },
        fixture: { path: described(path), target: described(path), source: described(src), inodes: [inode, inode] },
      };
    },
  },
  "copy-tree": {
    setup(root) {
      const tree = join(root, "tree");
      mkdirSync(tree);
      const a = file(join(tree, "a"), "a\n");
      const link = join(tree, "l");
      symlinkSync("a", link);
      const entries = [{ path: tree, dir: true }, { path: a, dir: false }, { path: join(tree, "missing"), dir: false }, { path: link, dir: false }];
      const linked: FixtureFile = { ...described(link), linkTarget: "a", linkTargetType: "file", sha1: described(a, { sha1: true }).sha1 };
      return { input: { dest: tree, entries }, fixture: [described(tree), described(a, { sha1: true }), { exists: false }, linked] };
    },
  },
  "authorized-keys": {
    setup(root) {
      const path = file(join(root, "authorized_keys"), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOne admin@laptop\n", 0o600);
      return {
        input: { user: id("-un"), path },
        fixture: { uid: id("-u"), gid: id("-g"), path, dirExists: true, file: described(path, { content: true }) },
      };
    },
  },
  "download-target": {
    setup(root) {
      const dest = join(root, "downloads");
      mkdirSync(dest);
      const child = file(join(dest, "image.img"), "image\n");
      const sum = createHash("sha256").update("image\n").digest("hex");
      const sums = file(join(root, "SHA256SUMS"), `${sum}  image.img\n`);
      const curl = spawnSync("sh", ["-c", "command -v curl"]).status === 0;
      const wget = spawnSync("sh", ["-c", "command -v wget"]).status === 0;
      const fixture: Record<string, unknown> = { dest: described(dest), child: described(child), childSum: sum, checksumFile: `${sum}  image.img\n` };
      if (curl || wget) fixture.downloader = curl ? "curl" : "wget";
      return {
        input: { args: { url: `file://${child}`, dest }, url: `file://${child}`, filename: "image.img", sum: { algorithm: "sha256", url: `file://${sums}` } },
        fixture,
      };
    },
  },
  locales: {
    setup() {
      const listed = spawnSync("locale", ["-a"], { encoding: "utf8", env: { ...process.env, LC_ALL: "C" } }).stdout;
      return {
        input: undefined,
        fixture: { locales: listed.split("\n").map((l) => l.trim()).filter(Boolean), localeGen: described("/etc/locale.gen", { content: true }) },
      };
    },
  },
  "kernel-module": {
    setup(root) {
      const loadFile = file(join(root, "modules-load.conf"), "pi_cluster_no_such_module\n");
      return {
        input: { module: "pi-cluster-no-such-module", loadFile, optionsFile: join(root, "modprobe.conf") },
        fixture: { loaded: "no", modulesTree: existsSync(`/lib/modules/${release()}`), loadFile: described(loadFile, { content: true }), optionsFile: { exists: false } },
      };
    },
  },
  mount: {
    setup(root) {
      const fstab = file(join(root, "fstab"), "UUID=0f0e-11 /mnt/ssd ext4 defaults,nofail 0 2\n");
      return { input: { path: "/", fstab }, fixture: { fstab: described(fstab, { content: true }), mounted: true, dirExists: true } };
    },
  },
  sysctl: {
    setup(root) {
      const conf = file(join(root, "99-test.conf"), "kernel.ostype = Linux\n");
      return { input: { key: "kernel.ostype", file: conf }, fixture: { live: readFileSync("/proc/sys/kernel/ostype", "utf8").trim(), file: described(conf, { content: true }) } };
    },
  },
  account: {
    setup() {
      const user = id("-un");
      const [, , uid, gid, comment, home, shell] = (spawnSync("getent", ["passwd", user], { encoding: "utf8" }).stdout.trim()).split(":");
      const primaryGroup = id("-gn");
      return {
        // "pi-cluster-no-such-group" must not be listed as known.
        input: { name: user, groups: [primaryGroup, "pi-cluster-no-such-group"], password: false },
        fixture: {
          entry: { uid: Number(uid), gid: Number(gid), comment, home, shell },
          groups: spawnSync("id", ["-Gn", user], { encoding: "utf8" }).stdout.trim().split(/\s+/),
          primaryGroup,
          knownGroups: [primaryGroup],
        },
      };
    },
  },
  group: {
    setup() {
      return { input: { name: id("-gn") }, fixture: { exists: true, gid: Number(id("-g")) } };
    },
  },
  hostname: {
    setup() {
      const systemd = existsSync("/run/systemd/system") && spawnSync("sh", ["-c", "command -v hostnamectl"]).status === 0;
      const stored = existsSync("/etc/hostname") ? readFileSync("/etc/hostname", "utf8").trim() : "";
      return { input: undefined, fixture: { running: hostname(), static: stored, systemd } };
    },
  },
  alternatives: {
    // A group no package made (nothing on this machine is changed): empty, and the path found.
    setup(root) {
      const path = file(join(root, "editor"), "#!/bin/sh\n", 0o755);
      return { input: { name: "pi-cluster-no-such-alternative", path }, fixture: { group: { slaveLinks: {}, alternatives: {} }, pathExists: true } };
    },
  },
  "dpkg-selection": {
    setup() {
      // dpkg itself is installed wherever dpkg runs; its selection is the first word of its status.
      const status = spawnSync("dpkg-query", ["-W", "-f=${Status}", "dpkg"], { encoding: "utf8" }).stdout;
      return { input: { name: "dpkg" }, fixture: status.split(" ")[0] };
    },
  },
  "device-signature": {
    // An image file, as the module accepts one: mkfs with a label and UUID of our choosing.
    setup(root) {
      const image = join(root, "disk.img");
      writeFileSync(image, "");
      spawnSync("truncate", ["-s", "4M", image]);
      const uuid = "6f1c2a3e-9a4b-4c5d-8e7f-0123456789ab";
      const made = spawnSync("mkfs.ext4", ["-q", "-F", "-L", "probe-test", "-U", uuid, image], { encoding: "utf8" });
      assert.equal(made.status, 0, made.stderr);
      return { input: { dev: image }, fixture: { exists: true, type: "ext4", label: "probe-test", uuid, size: 4 * 1024 * 1024 } };
    },
  },
  "disk-layout": {
    // An image file with an msdos table and one partition from 1 MiB to the end.
    setup(root) {
      const image = join(root, "disk.img");
      writeFileSync(image, "");
      spawnSync("truncate", ["-s", "8M", image]);
      const made = spawnSync("parted", ["-s", image, "mklabel", "msdos", "mkpart", "primary", "1MiB", "100%"], { encoding: "utf8" });
      assert.equal(made.status, 0, made.stderr);
      const size = 8 * 1024 * 1024;
      return {
        input: { dev: image },
        fixture: {
          disk: { dev: image, size, table: "msdos", model: "", logical_block: 512, physical_block: 512 },
          partitions: [{ num: 1, begin: 1024 * 1024, end: size - 1, size: size - 1024 * 1024, fstype: "", name: "", flags: [] }],
          signature: { ptType: "dos" },
        },
      };
    },
  },
  "bootloader-config": {
    // No Raspberry Pi here: the probe must say so and read nothing else.
    setup() {
      assert.notEqual(spawnSync("sh", ["-c", "command -v rpi-eeprom-config"]).status, 0, "this test expects a machine without rpi-eeprom-config");
      return { input: undefined, fixture: { tool: false } };
    },
  },
  timezone: {
    // This machine's records of its zone, each read without the probe; Etc/UTC ships with tzdata.
    setup() {
      const tdc = spawnSync("timedatectl", ["show", "-p", "Timezone", "--value"], { encoding: "utf8" });
      const link = isLink("/etc/localtime") ? spawnSync("readlink", ["/etc/localtime"], { encoding: "utf8" }).stdout.trim().replace(/^.*zoneinfo\//, "") : "";
      const fixture: Record<string, unknown> = { timedatectl: tdc.status === 0 ? tdc.stdout.trim() : "", link, known: existsSync("/usr/share/zoneinfo/Etc/UTC") };
      if (existsSync("/etc/timezone")) fixture.file = readFileSync("/etc/timezone", "utf8").trim();
      return { input: { name: "Etc/UTC" }, fixture };
    },
  },
  "debconf-answers": {
    // debconf's own questions, as its database (config.dat) records them.
    setup() {
      const answers: Record<string, string> = {};
      for (const stanza of readFileSync("/var/cache/debconf/config.dat", "utf8").split(/\n\n+/)) {
        const field = (name: string) => new RegExp(`^${name}: ?(.*)$`, "m").exec(stanza)?.[1];
        if ((field("Owners") ?? "").split(/,\s*/).includes("debconf")) answers[field("Name")!] = field("Value") ?? "";
      }
      return { input: { owner: "debconf" }, fixture: answers };
    },
  },
  crontab: {
    // This user's own crontab (usually none on a test machine), as crontab -l prints it here.
    setup() {
      const listed = spawnSync("crontab", ["-l"], { encoding: "utf8" });
      return { input: { user: id("-un") }, fixture: { crontab: listed.status === 0 ? listed.stdout : "" } };
    },
  },
  "known-hosts": {
    // Two hosts, one of them hashed by ssh-keygen -H; the probe finds the hashed one's line.
    setup(root) {
      const path = file(join(root, "known_hosts"), "gitlab.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGit\nnode1.lan ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINode\n");
      assert.equal(spawnSync("ssh-keygen", ["-H", "-f", path]).status, 0);
      const hashed = readFileSync(path, "utf8").split("\n")[1];
      return {
        input: { path, host: "node1.lan" },
        fixture: { path, file: described(path, { content: true }), keygenFound: `# Host node1.lan found: line 2 \n${hashed}\n` },
      };
    },
  },
  "apt-sources": {
    // This machine's own one-line sources, read here without the probe (apt's default paths).
    setup() {
      const files: Array<{ path: string; content: string }> = [];
      if (existsSync("/etc/apt/sources.list")) files.push({ path: "/etc/apt/sources.list", content: readFileSync("/etc/apt/sources.list", "utf8") });
      const parts = spawnSync("sh", ["-c", "for f in /etc/apt/sources.list.d/*.list; do [ -f \"$f\" ] && echo \"$f\"; done; true"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
      for (const path of parts) files.push({ path, content: readFileSync(path, "utf8") });
      return { input: undefined, fixture: { files } };
    },
  },
  "debconf-password-same": {
    // A question nobody asked holds no password: never the same as the one sent.
    setup() {
      return { input: { question: "pi-cluster/no-such-question" }, stdin: "not-a-secret\n", fixture: false };
    },
  },
};

/** The value without its undefined-valued keys (a module reads them as absent). */
function defined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(defined);
  if (value && typeof value === "object" && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, defined(v)]));
  }
  return value;
}

test("every named probe has a case here and a fixture expander", () => {
  const names = ALL_PROBES.map((p) => p.name).sort();
  assert.equal(new Set(names).size, names.length, "probe names are unique");
  assert.deepEqual(Object.keys(CASES).sort(), names);
  assert.deepEqual(Object.keys(EXPAND_STATE).sort(), names);
});

for (const probe of ALL_PROBES as Array<Probe<unknown, unknown>>) {
  test(`probe ${probe.name}: the real output parses to what its fixture state says`, async () => {
    const root = join(dir, probe.name);
    mkdirSync(root);
    const { input, fixture, stdin } = CASES[probe.name].setup(root);
    const r = await transport.exec(probe.command(input), { stdin });
    assert.equal(r.rc, 0, `${probe.name} failed: ${r.stderr}`);
    assert.deepEqual(defined(probe.parse(r, input)), defined(EXPAND_STATE[probe.name](fixture, input)));
  });
}
