/**
 * The editor schemas in scripts/schemas/modules/ are copies of the modules' own schemas: a
 * module whose schema changed without `node --import tsx scripts/gen-schemas.ts` leaves editors
 * offering options that no longer exist (template.json once described trim_blocks wrongly).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "../../..");

test("every module's editor schema is up to date (gen-schemas --check)", () => {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(repo, "scripts/gen-schemas.ts"), "--check"], { cwd: repo, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
});
