/**
 * timesync_info's probe on a real shell: chrony installed but its daemon not running (the lab's
 * containers, a stopped unit) must read as chrony with no sources, not fail the ntp role.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseTimesyncProbe, timesyncProbe } from "../../../scripts/lib/modules/timesync_info.ts";

test("chronyc that cannot talk to its daemon: the probe succeeds and reports chrony with no sources", () => {
  const dir = mkdtempSync(join(tmpdir(), "timesync-info-"));
  try {
    // chronyc's own answer when chronyd is not running: the message on stdout, exit status 1.
    writeFileSync(join(dir, "chronyc"), "#!/bin/sh\necho '506 Cannot talk to daemon'\nexit 1\n");
    chmodSync(join(dir, "chronyc"), 0o755);
    writeFileSync(join(dir, "pi-cluster.conf"), "allow 10.0.0.0/24\n");
    const r = spawnSync("sh", ["-c", timesyncProbe(join(dir, "pi-cluster.conf"), join(dir, "none.conf"))], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(parseTimesyncProbe(r.stdout), { source: "chrony", sources: [], configured: "", in_use: "", synchronized: "" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
