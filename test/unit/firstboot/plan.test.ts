/** The files to write: cmdline.txt stays ONE line with our tokens once; a re-plan changes nothing. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cmdlineChange, planFiles } from "../../../scripts/lib/firstboot/plan.ts";
import type { FirstbootSettings } from "../../../scripts/lib/firstboot/settings.ts";

const S: FirstbootSettings = { hostname: "pi-1", user: "pi", passwordHash: "$6$x$y", authorizedKeys: ["ssh-ed25519 AAAA k"] };
const CMDLINE = "console=serial0,115200 console=tty1 root=PARTUUID=1234abcd-02 rootfstype=ext4 fsck.repair=yes rootwait quiet\n";
const HOOK = "systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target";

function card(files: Record<string, string>) {
  return (name: string) => files[name];
}

test("firstrun: firstrun.sh, then cmdline.txt with the hook appended once", () => {
  const files = planFiles("firstrun", S, card({ "cmdline.txt": CMDLINE }));
  assert.deepEqual(files.map((f) => f.name), ["firstrun.sh", "cmdline.txt"]);
  assert.equal(files[1].content, `${CMDLINE.trimEnd()} ${HOOK}\n`);
  assert.equal(files[0].before, undefined);
});

test("planning again over the result changes nothing", () => {
  for (const layout of ["firstrun", "cloud-init"] as const) {
    const card1: Record<string, string> = { "cmdline.txt": CMDLINE };
    for (const f of planFiles(layout, S, card(card1))) card1[f.name] = f.content;
    const again = planFiles(layout, S, card(card1));
    assert.deepEqual(again.filter((f) => f.before !== f.content), [], layout);
  }
});

test("a cmdline.txt broken over lines or with a stale hook becomes one line with each token once", () => {
  const messy = `console=tty1 root=PARTUUID=1-02\nrootwait systemd.run=/boot/firmware/firstrun.sh\n\n`;
  const [, cmdline] = planFiles("firstrun", S, card({ "cmdline.txt": messy }));
  assert.equal(cmdline.content, `console=tty1 root=PARTUUID=1-02 rootwait ${HOOK}\n`);
  assert.equal(cmdline.content.split("\n").length, 2);
});

test("cloud-init: the three seed files, and ds=nocloud with their instance id (an old one replaced)", () => {
  const files = planFiles("cloud-init", S, card({ "cmdline.txt": `${CMDLINE.trimEnd()} ds=nocloud;i=old\n`, "user-data": "#cloud-config\n" }));
  assert.deepEqual(files.map((f) => f.name), ["user-data", "network-config", "meta-data", "cmdline.txt"]);
  const id = /instance-id: (\S+)/.exec(files[2].content)![1];
  assert.equal(files[3].content, `${CMDLINE.trimEnd()} ds=nocloud;i=${id}\n`);
  assert.equal(files[0].before, "#cloud-config\n");
});

test("cmdlineChange names added and removed tokens", () => {
  assert.deepEqual(cmdlineChange("a b ds=nocloud;i=1\n", "a b ds=nocloud;i=2 c\n"), { added: ["ds=nocloud;i=2", "c"], removed: ["ds=nocloud;i=1"] });
});
