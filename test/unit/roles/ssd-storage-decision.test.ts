/**
 * What ssd-storage decides for each disk state disk_info reads: the role's own "Decide what to
 * do with the disk" and "Refuse a disk that holds something else" tasks, rendered with the
 * module's parse of the real probe output captured on lab nodes (test/unit/modules/disk_info).
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { Templar } from "../../../scripts/lib/template/templar.ts";
import { parseDiskProbe } from "../../../scripts/lib/modules/disk_info.ts";

const here = dirname(fileURLToPath(import.meta.url));
const role = resolve(here, "../../../roles/ssd-storage");
const fixtures = resolve(here, "../modules/disk_info");
const defaults = parse(readFileSync(join(role, "defaults/main.yml"), "utf8")) as Record<string, unknown>;
const tasks = parse(readFileSync(join(role, "tasks/main.yml"), "utf8")) as Array<Record<string, any>>;
const block = tasks.find((t) => t.name === "Prepare the SSD")!.block as Array<Record<string, any>>;

function task(name: string): Record<string, any> {
  const t = block.find((x) => x.name === name);
  assert.ok(t, `no task "${name}" in roles/ssd-storage/tasks/main.yml`);
  return t;
}

/** The disk_info result for a fixture's captured output, as the role registers it. */
function probed(fixture: string): Record<string, unknown> {
  const f = JSON.parse(readFileSync(join(fixtures, `${fixture}.json`), "utf8")) as { args: { device: string }; responses: Array<{ stdout: string[] }> };
  return { ssd_storage_device: f.args.device, __ssd_storage_info: parseDiskProbe(f.args.device, f.responses[0].stdout.join("\n") + "\n") };
}

/** The verdict and, when the host fails, the message. */
function decide(fixture: string, hostVars: Record<string, unknown> = {}): { verdict: string; message?: string } {
  const vars = { ...defaults, inventory_hostname: "pi-2", ...probed(fixture), ...hostVars };
  const facts = new Templar(vars).render(task("Decide what to do with the disk")["ansible.builtin.set_fact"]) as Record<string, unknown>;
  const verdict = String(facts.__ssd_storage_verdict);
  const refuse = task("Refuse a disk that holds something else");
  const all = { ...vars, ...facts };
  const fails = Boolean(new Templar(all).renderString(`{{ ${refuse.when} }}`));
  return { verdict, message: fails ? String(new Templar(all).render(refuse["ansible.builtin.fail"]).msg) : undefined };
}

describe("ssd-storage decides from disk_info", () => {
  test("a blank disk is prepared", () => {
    assert.deepEqual(decide("blank"), { verdict: "blank", message: undefined });
  });

  test("our own disk is recognised, unmounted or mounted on the mount point (also bind-mounted for /var/lib/rancher)", () => {
    assert.equal(decide("prepared-unmounted").verdict, "ours");
    assert.equal(decide("prepared-mounted-with-bind").verdict, "ours");
    // Another label is not ours.
    const other = decide("prepared-unmounted", { ssd_storage_label: "other" });
    assert.equal(other.verdict, "foreign");
    assert.match(other.message!, /^Refusing to touch \/dev\/loop0: it is not blank and not a disk this role prepared\. Found: .*label=pi-cluster-ssd\. Nothing was changed\./);
  });

  test("our named partition without a filesystem is formatted (a run stopped between parted and mkfs)", () => {
    assert.equal(decide("partitioned-unformatted").verdict, "partitioned");
    assert.equal(decide("partitioned-unformatted", { ssd_storage_label: "other" }).verdict, "foreign");
  });

  test("a disk with data is refused, naming what is on it, and wiped only when this host says ssd_storage_wipe: true", () => {
    const refused = decide("disk-with-data");
    assert.equal(refused.verdict, "foreign");
    assert.match(refused.message!, /whole-disk signature ext4 label=userdata/);
    assert.match(refused.message!, /set ssd_storage_wipe: true in the\s+host variables of pi-2 only/);
    assert.equal(decide("disk-with-data", { ssd_storage_wipe: true }).verdict, "wipe");
    // Only true itself: a string such as "yes" destroys nothing.
    assert.equal(decide("disk-with-data", { ssd_storage_wipe: "yes" }).verdict, "foreign");
  });

  test("a disk mounted elsewhere is refused, even with ssd_storage_wipe: true", () => {
    const refused = decide("mounted-elsewhere");
    assert.equal(refused.verdict, "foreign");
    assert.match(refused.message!, /mounted on \/mnt\/other disk/);
    const wipe = decide("mounted-elsewhere", { ssd_storage_wipe: true });
    assert.equal(wipe.verdict, "foreign");
    assert.match(wipe.message!, /ssd_storage_wipe is true but the disk is in use: unmount it first/);
  });

  test("the system disk is refused, even with ssd_storage_wipe: true", () => {
    for (const fixture of ["system-disk-partitions", "system-disk-unreadable"]) {
      for (const wipe of [false, true]) {
        const d = decide(fixture, { ssd_storage_wipe: wipe });
        assert.equal(d.verdict, "system", `${fixture} wipe=${wipe}`);
        assert.match(d.message!, /^Refusing to touch \S+: it holds the running system of pi-2 \(.*\)\. Nothing was changed\./);
      }
    }
  });

  test("a missing disk or a partition is refused with what the host has", () => {
    assert.deepEqual(decide("missing-path"), {
      verdict: "missing",
      message: "Cannot use ssd_storage_device /dev/disk/by-id/usb-none: /dev/disk/by-id/usb-none does not exist (disks: /dev/loop0 1.0 GiB).",
    });
    assert.equal(decide("missing-serial").message, "Cannot use ssd_storage_device serial:2049A1801234: no disk with serial 2049A1801234 (disks: /dev/loop0 1.0 GiB).");
    assert.deepEqual(decide("partition-named"), {
      verdict: "error",
      message: "Cannot use ssd_storage_device /dev/loop0p1: /dev/loop0p1 is a part, not a whole disk: name the disk itself.",
    });
  });

  test("a name that is neither a path nor serial:XXXX is refused before the disk is read", () => {
    const check = task("Refuse a disk name that is neither a path nor a serial")["ansible.builtin.assert"];
    const holds = (device: string) => Boolean(new Templar({ ssd_storage_device: device }).renderString(`{{ ${check.that} }}`));
    for (const good of ["/dev/disk/by-id/usb-SanDisk_SDSSDH3_1T00_0123456789AB-0:0", "/dev/sda", "serial:2049A1801234"]) assert.equal(holds(good), true, good);
    for (const bad of ["sda", "serial:", "-rf", "/dev/sd a", "by-id/usb-x"]) assert.equal(holds(bad), false, bad);
  });
});
