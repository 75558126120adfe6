/**
 * The doctor action (the end of site.yml): the checks of scripts/doctor.ts through the runner,
 * on two inventory hosts whose SSH port on loopback is closed (refused at once, so no check can
 * pass). Each host reports its own verdicts, nothing is changed (in check mode either), a
 * failed check is a warning naming the host, the check and the fix, and `strict` fails the host.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { CHECKS } from "../../../scripts/lib/doctor/checks.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPlaybook } from "../../../scripts/lib/playbook/load.ts";
import { run, play, t, inventory } from "./fake.ts";

let port = 0;
before(async () => {
  // A port that was free a moment ago: nothing listens there, so SSH is refused.
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  port = (server.address() as { port: number }).port;
  await new Promise((ok) => server.close(ok));
});

function rack() {
  const host = { ansible_host: "127.0.0.1", ansible_port: port, ansible_user: "nobody" };
  return inventory(["pi-1", "pi-2"], { "pi-1": { ...host, ssd_storage_device: "/dev/disk/by-id/ssd" }, "pi-2": host }, { cluster: ["pi-1", "pi-2"], ssd: ["pi-1"] });
}

test("warnings by default: every host its own failed checks, changed=0, the run does not fail", async () => {
  const r = await run(play([t("doctor", {}, { name: "health" })]), { inventory: rack() });
  assert.equal(r.summary.failed, false);
  for (const host of ["pi-1", "pi-2"]) {
    const [result] = r.results(host);
    assert.equal(result.status, "ok");
    assert.equal(result.data!.changed, false);
    const verdicts = result.data!.verdicts as Array<{ host: string; check: string; status: string; detail: string }>;
    assert.ok(verdicts.length > 0 && verdicts.every((v) => v.host === host), JSON.stringify(verdicts));
    assert.ok(verdicts.every((v) => CHECKS.includes(v.check as never)));
    assert.deepEqual(result.data!.failed_checks, ["memory-cgroup", "hostname-unique", "time-sync", "static-address", "ssd-mount", "iscsid"].filter((c) => verdicts.some((v) => v.check === c && v.status === "fail")));
    assert.ok((result.data!.failed_checks as string[]).includes("memory-cgroup"));
    assert.equal(r.summary.stats[host].changed, 0);
  }
  const warnings = r.events.flatMap((e) => (e.type === "warning" ? [e.message] : []));
  assert.ok(warnings.some((w) => /^pi-1: iscsid failed: not checked: /.test(w)), warnings.join("\n"));
  assert.ok(warnings.some((w) => /^pi-2: memory-cgroup failed: not checked: /.test(w)), warnings.join("\n"));
});

test("strict: a failed check fails that host, naming it and the check; check mode changes nothing either", async () => {
  const r = await run(play([t("doctor", { strict: "{{ site_doctor_strict }}" }, { name: "health" })], { vars: { site_doctor_strict: "true" } }), { inventory: rack(), check: true });
  assert.equal(r.summary.failed, true);
  const [result] = r.results("pi-1");
  assert.equal(result.status, "failed");
  assert.match(result.msg ?? "", /^pi-1: memory-cgroup failed: not checked: .*; iscsid failed: /);
  assert.equal(r.summary.stats["pi-1"].changed, 0);
});

test("the loader knows it (one-line form too) and refuses unknown arguments", () => {
  const dir = mkdtempSync(join(tmpdir(), "doctor-action-"));
  try {
    const parse = (task: string) => {
      writeFileSync(join(dir, "site.yml"), `- hosts: cluster\n  tasks:\n    - ${task}\n`);
      return loadPlaybook(join(dir, "site.yml"));
    };
    const [task] = parse("doctor: strict=true").plays[0].items;
    assert.deepEqual(task.kind === "task" && [task.module, task.args.strict], ["doctor", "true"]);
    assert.throws(() => parse("doctor: {fix: true}"), /fix/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
