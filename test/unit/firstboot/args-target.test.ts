/** firstboot's flags, and the pure parts of the target checks (mountinfo, device numbers). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseFirstbootArgs } from "../../../scripts/lib/firstboot/args.ts";
import { UsageError } from "../../../scripts/lib/cli/args.ts";
import { devName, parseMountinfo, whyNotWritable, type DiskFacts } from "../../../scripts/lib/firstboot/target.ts";

test("flags and the one target", () => {
  const o = parseFirstbootArgs(["--host", "pi-1", "-i", "inv.yml", "--authorized-key=a.pub", "--authorized-key", "b.pub", "-Cy", "--wifi-hidden", "--layout", "cloud-init", "/dev/sdb"]);
  assert.equal(o.host, "pi-1");
  assert.deepEqual(o.inventory, ["inv.yml"]);
  assert.deepEqual(o.authorizedKeyFiles, ["a.pub", "b.pub"]);
  assert.equal(o.check, true);
  assert.equal(o.yes, true);
  assert.equal(o.wifiHidden, true);
  assert.equal(o.layout, "cloud-init");
  assert.equal(o.target, "/dev/sdb");
  assert.equal(parseFirstbootArgs(["--host", "x", "--", "-odd-name.img"]).target, "-odd-name.img");
  assert.equal(parseFirstbootArgs(["--help"]).help, true);
});

test("mistakes are usage errors (exit 5) that say what to do", () => {
  const cases: Array<[string[], RegExp]> = [
    [["/dev/sdb"], /--host is required/],
    [["--host", "pi-1"], /no TARGET/],
    [["--host", "pi-1", "a.img", "b.img"], /one TARGET only/],
    [["--host", "pi-1", "--yess", "a.img"], /unknown option --yess; did you mean --yes\?/],
    [["--host", "pi-1", "--layout", "netboot", "a.img"], /--layout must be one of auto, firstrun, cloud-init/],
    [["--host"], /--host needs a value/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(() => parseFirstbootArgs(argv), (e: unknown) => e instanceof UsageError && e.exitCode === 5 && message.test(e.message), argv.join(" "));
  }
});

test("mountinfo: device, mount point (octal escapes undone), source", () => {
  const text = "29 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n40 29 8:17 / /media/me/boot\\040fs rw - vfat /dev/sdb1 rw\n";
  assert.deepEqual(parseMountinfo(text), [
    { dev: "254:0", mountPoint: "/", source: "/dev/vda" },
    { dev: "8:17", mountPoint: "/media/me/boot fs", source: "/dev/sdb1" },
  ]);
});

test("device numbers as the kernel splits them", () => {
  assert.equal(devName(8 * 256 + 16), "8:16");
  assert.equal(devName(179 * 256 + 1), "179:1");
  assert.equal(devName(259 * 256 + 3), "259:3");
  // minor numbers above 255 (the 12 high bits live above the major)
  assert.equal(devName((300 & 0xff) | (8 << 8) | ((300 & ~0xff) << 12)), "8:300");
});

test("a disk is refused when it holds the root filesystem, is mounted, is swap or is held by device-mapper", () => {
  const card = (over: Partial<DiskFacts> = {}): DiskFacts => ({
    disk: "sdb",
    devs: new Map([["8:16", "sdb"], ["8:17", "sdb1"], ["8:18", "sdb2"]]),
    mounts: parseMountinfo("29 1 254:0 / / rw - ext4 /dev/vda rw\n"),
    rootDisks: new Set(["vda"]),
    swaps: ["/dev/zram0"],
    holders: new Map([["sdb", []], ["sdb1", []], ["sdb2", []]]),
    ...over,
  });
  assert.equal(whyNotWritable("/dev/sdb", card()), undefined, "a card in a reader, nothing using it");
  assert.match(whyNotWritable("/dev/sdb", card({ rootDisks: new Set(["sdb"]) }))!.message, /it is on \/dev\/sdb, the disk this machine's root filesystem lives on/);
  const mounted = whyNotWritable("/dev/sdb", card({ mounts: parseMountinfo("40 29 8:17 / /media/me/bootfs rw - vfat /dev/sdb1 rw\n") }))!;
  assert.equal(mounted.message, 'Refusing "/dev/sdb": /dev/sdb is mounted (/dev/sdb1 on /media/me/bootfs)');
  assert.match(mounted.hint!, /umount \/media\/me\/bootfs/);
  assert.match(whyNotWritable("/dev/sdb", card({ swaps: ["/dev/sdb2"] }))!.message, /\/dev\/sdb2 is in use as swap/);
  assert.match(whyNotWritable("/dev/sdb", card({ holders: new Map([["sdb2", ["dm-0"]]]) }))!.message, /\/dev\/sdb2 is in use by dm-0/);
});
