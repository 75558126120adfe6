/** --json: Ansible's json callback layout, written atomically. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonReport } from "../../../scripts/lib/report/json.ts";
import { events } from "./sample.ts";

function report(): JsonReport {
  const r = new JsonReport();
  for (const e of events) r.handle(e);
  return r;
}

test("plays -> tasks -> hosts, with Ansible's result fields", () => {
  const data = report().data;
  assert.equal(data.plays.length, 1);
  const play = data.plays[0];
  assert.equal(play.play.name, "Configure the cluster");
  assert.match(play.play.id, /^[0-9a-f-]{36}$/);
  assert.deepEqual(play.tasks.map((t) => t.task.name), ["ntp : Ensure NTP server is set", "ntp : Install packages"]);
  const first = play.tasks[0].hosts;
  assert.equal(first["pi-1"].changed, false);
  assert.equal(first["pi-1"].msg, "drop-in present");
  assert.equal(first["pi-2"].changed, true);
  assert.equal(first["pi-2"].dest, "/etc/ntp.conf");
  assert.equal(first["pi-2"].action, "copy");
  const second = play.tasks[1].hosts;
  assert.equal(second["pi-2"].failed, true);
  assert.deepEqual((second["pi-1"].results as Array<{ item: string; changed: boolean }>).map((r) => [r.item, r.changed]), [["vim", false], ["git", true]]);
});

test("stats per host with Ansible's names", () => {
  assert.deepEqual(report().data.stats["pi-2"], { ok: 1, changed: 1, failures: 1, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 });
});

test("a run cut off before its recap (SIGTERM) still has stats, counted from the results", () => {
  const r = new JsonReport();
  for (const e of events) if (e.type !== "recap") r.handle(e);
  assert.deepEqual(r.data.stats, report().data.stats);
});

test("written atomically (no temp file left) and parseable", () => {
  const dir = mkdtempSync(join(tmpdir(), "json-report-"));
  try {
    const file = join(dir, "report.json");
    report().write(file);
    assert.deepEqual(readdirSync(dir), ["report.json"]);
    const parsed = JSON.parse(readFileSync(file, "utf8"));
    assert.deepEqual(Object.keys(parsed).sort(), ["custom_stats", "global_custom_stats", "plays", "stats"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
