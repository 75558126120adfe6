import { test } from "node:test";
import assert from "node:assert/strict";
import { requireAptSuccess, unreachableSourceLine } from "../../../scripts/lib/modules/support/apt-errors.ts";
import { ModuleFailure } from "../../../scripts/lib/modules/types.ts";

const run = (rc: number, stdout: string, stderr = "") => ({ rc, stdout, stderr });
const failure = (f: () => unknown): ModuleFailure => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ModuleFailure, String(e));
    return e;
  }
  assert.fail("no failure thrown");
};

test("the unreachable source is named by apt's Failed to fetch line, else by its connect error", () => {
  assert.equal(
    unreachableSourceLine("Err:1 http://m/debian bookworm InRelease\n  Could not connect to 10.0.0.1:3142 (10.0.0.1). - connect (111: Connection refused)\nW: Failed to fetch http://m/debian/dists/bookworm/InRelease  Could not connect\n"),
    "W: Failed to fetch http://m/debian/dists/bookworm/InRelease  Could not connect",
  );
  assert.equal(unreachableSourceLine("Err:1 http://m/x\n  Could not resolve 'm'\n"), "Could not resolve 'm'");
  assert.equal(unreachableSourceLine("E: Unable to locate package nosuchpkg\n"), undefined);
  assert.equal(unreachableSourceLine("E: Sub-process /usr/bin/dpkg returned an error code (1)\n"), undefined);
});

test("a failure that is not about the source keeps apt's words and gives no network hint", () => {
  const e = failure(() => requireAptSuccess(run(100, "", "E: Unable to locate package nosuchpkg\n"), "apt-get", "pi-1"));
  assert.equal(e.message, "apt-get failed on pi-1: E: Unable to locate package nosuchpkg");
});

test("update's exit 0 is success unless an index could not be fetched; install's exit 0 always is", () => {
  const warned = run(0, "Hit:1 http://m bookworm InRelease\n", "W: Failed to fetch http://m/dists/x/InRelease  Connection timed out\n");
  assert.match(failure(() => requireAptSuccess(warned, "apt-get update", "pi-2", { update: true })).message, /^apt-get update failed on pi-2: W: Failed to fetch .*Connection timed out\npi-2 could not reach its package source: .*"apt-get update" on pi-2 by hand/s);
  assert.equal(requireAptSuccess(warned, "apt-get", "pi-2"), warned);
  const clean = run(0, "Hit:1 http://m bookworm InRelease\nReading package lists...\n");
  assert.equal(requireAptSuccess(clean, "apt-get update", "pi-2", { update: true }), clean);
});
