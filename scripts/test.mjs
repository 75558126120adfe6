#!/usr/bin/env node
// Runs the test suites with node's test runner: unit tests (no I/O beyond loopback), then
// the lab suite (real nodes), which reports itself skipped where this machine cannot host
// a lab. `node scripts/test.mjs unit` runs the unit tests only.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const only = process.argv[2];
const find = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith(".test.ts") ? [path] : [];
  });

const suites = only ? [only] : ["unit", "e2e", "lab"];
let failed = false;
for (const suite of suites) {
  let files;
  try {
    files = find(join("test", suite)).sort();
  } catch {
    continue;
  }
  if (files.length === 0) continue;
  console.log(`\n# ${suite} tests (${files.length} files)`);
  const concurrency = suite === "unit" ? [] : ["--test-concurrency=1"];
  const r = spawnSync(process.execPath, ["--import", "tsx", "--test", ...concurrency, ...files], { stdio: "inherit" });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
