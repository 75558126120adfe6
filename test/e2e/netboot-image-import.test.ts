/**
 * netboot-master's OS import step, the role's own script taken from tasks/clients.yml and run
 * here for real (sh, od, xz, debugfs, mcopy) on disk images built like a flashed card in plain
 * files: the MBR read, the ext4 root and FAT boot partition copied out without mounts, a new
 * image replacing the tree whole, and every bad image refused with its reason and the old tree
 * left as it was. (The lab suite runs the same step on a node through the runner.)
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { buildOsImage, osImageToolsMissing } from "../support/os-image.ts";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const TASK = "Import the OS tree from the image (once per image)";
const missing = osImageToolsMissing() || (spawnSync("sh", ["-c", "PATH=$PATH:/sbin:/usr/sbin command -v debugfs"]).status === 0 ? false : "debugfs is not installed (apt-get install e2fsprogs)");

/** The role's import script (argv[2] of the command task). */
function importScript(): string {
  const tasks = parse(readFileSync(join(repo, "roles/netboot-master/tasks/clients.yml"), "utf8")) as Array<Record<string, any>>;
  const task = tasks.find((t) => t.name === TASK);
  assert.ok(task, `no task "${TASK}" in clients.yml`);
  const argv = task["ansible.builtin.command"].argv as string[];
  assert.deepEqual(argv.slice(0, 2), ["sh", "-ec"]);
  return argv[2];
}

function runImport(base: string, source: string, sum: string) {
  const r = spawnSync("sh", ["-ec", importScript(), "netboot-import", base, source, sum], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${process.env.PATH}:/sbin:/usr/sbin` },
  });
  return { rc: r.status, stderr: r.stderr };
}

function tree(root: string, files: Record<string, string>): string {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
  return root;
}

/** Overwrites bytes of a file (MBR edits). */
function poke(file: string, offset: number, bytes: number[]): void {
  const fd = openSync(file, "r+");
  try {
    writeSync(fd, Buffer.from(bytes), 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

describe("netboot-master: importing a Raspberry Pi OS image without mounts", { skip: missing, concurrency: false }, () => {
  let dir: string;
  let base: string;
  let image: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "netboot-import-"));
    base = join(dir, "base");
    const root = tree(join(dir, "root-a"), {
      "boot/firmware/start4.elf": "firmware A\n",
      "boot/firmware/config.txt": "arm_64bit=1\n",
      "boot/firmware/overlays/README": "overlays\n",
      "etc/hostname": "raspberrypi\n",
      "etc/machine-id": "0123456789abcdef0123456789abcdef\n",
      "etc/ssh/ssh_host_ed25519_key": "the image's shared key\n",
      "etc/ssh/sshd_config": "# image\n",
      "boot/vmlinuz-6.6": "kernel\n",
      "old-only": "in image A only\n",
    });
    symlinkSync("vmlinuz-6.6", join(root, "boot/vmlinuz"));
    image = buildOsImage(root, join(dir, "a.img"), { xz: true });
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("an .img.xz: the ext4 root and the FAT boot partition, the image's identity stripped, nothing left over", () => {
    const r = runImport(base, image, "sum-a");
    assert.equal(r.rc, 0, r.stderr);
    const read = (rel: string) => readFileSync(join(base, rel), "utf8");
    assert.equal(read("etc/hostname"), "raspberrypi\n");
    assert.equal(read("boot/firmware/start4.elf"), "firmware A\n");
    assert.equal(read("boot/firmware/overlays/README"), "overlays\n");
    assert.equal(readlinkSync(join(base, "boot/vmlinuz")), "vmlinuz-6.6");
    assert.equal(read("etc/machine-id"), "", "the image's machine-id was kept");
    assert.deepEqual(readdirSync(join(base, "etc/ssh")), ["sshd_config"], "the image's host keys were kept");
    assert.ok(existsSync(join(base, ".netboot-import-sum-a")), "no marker");
    assert.ok(!existsSync(join(base, "lost+found")), "lost+found copied");
    assert.deepEqual(readdirSync(dir).sort(), ["a.img.xz", "base", "root-a"], "temporary files left beside the tree");
  });

  test("a different image (plain .img) replaces the tree whole", () => {
    const root = tree(join(dir, "root-b"), { "boot/firmware/start4.elf": "firmware B\n", "etc/hostname": "raspberrypi\n" });
    const b = buildOsImage(root, join(dir, "b.img"));
    const r = runImport(base, b, "sum-b");
    assert.equal(r.rc, 0, r.stderr);
    assert.equal(readFileSync(join(base, "boot/firmware/start4.elf"), "utf8"), "firmware B\n");
    assert.ok(!existsSync(join(base, "old-only")), "a file of the old tree survived");
    assert.ok(!existsSync(join(base, ".netboot-import-sum-a")) && existsSync(join(base, ".netboot-import-sum-b")), "markers");
    rmSync(b);
    rmSync(root, { recursive: true });
  });

  const refused: Array<[string, (img: string) => void, RegExp]> = [
    ["not a disk image (no MBR signature)", (img) => poke(img, 510, [0, 0]), /is not a disk image \(no MBR signature\)/],
    ["a GPT disk (protective MBR, type 0xee)", (img) => poke(img, 450, [0xee]), /has a GPT partition table; only MBR images/],
    ["no Linux partition", (img) => poke(img, 466, [0x07]), /has no Linux \(type 83\) partition/],
    ["a Linux partition that holds no ext4 (the FAT marked 0x83)", (img) => { poke(img, 450, [0x83]); poke(img, 466, [0x07]); }, /the root partition \(offset 4194304\) could not be read/],
  ];
  for (const [what, spoil, message] of refused) {
    test(`refused with its reason, the old tree untouched: ${what}`, () => {
      const bad = join(dir, "bad.img");
      spawnSync("sh", ["-c", 'xz -dc -- "$1" > "$2"', "-", image, bad]);
      spoil(bad);
      const r = runImport(base, bad, "sum-bad");
      rmSync(bad);
      assert.notEqual(r.rc, 0, "the bad image was imported");
      assert.match(r.stderr, message);
      assert.equal(readFileSync(join(base, "boot/firmware/start4.elf"), "utf8"), "firmware B\n", "the old tree changed");
      assert.deepEqual(readdirSync(dir).sort(), ["a.img.xz", "base", "root-a"], "temporary files left beside the tree");
    });
  }
});
