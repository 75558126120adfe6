/**
 * The single entry of the lab tests: boots ONE lab for every suite (test/lab/*.suite.ts),
 * and tears it down afterwards even when tests fail. Where the machine cannot host a lab,
 * every suite reports itself skipped with the reason.
 */
import { after, before, test } from "node:test";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { STANDARD_LAB, bootLab, currentLab, labAvailable, setCurrentLab, setLabSkipReason } from "../support/lab.ts";

const reason = await labAvailable(STANDARD_LAB);
setLabSkipReason(reason);
if (!reason) {
  // A cold machine builds both base root filesystems first (~4 min); later runs take seconds.
  before(async () => setCurrentLab(await bootLab(STANDARD_LAB)), { timeout: 20 * 60_000 });
  after(async () => {
    try {
      await currentLab().down();
    } catch {
      // never booted: nothing to take down but leftovers, which bootLab already cleared
    }
    setCurrentLab(undefined);
  });
}

else {
  // Suites skip themselves too, but a skipped suite is not counted in the summary: this is.
  test("lab tests", { skip: `no lab: ${reason}` }, () => {});
}

const here = dirname(fileURLToPath(import.meta.url));
for (const file of readdirSync(here).filter((f) => f.endsWith(".suite.ts")).sort()) {
  await import(pathToFileURL(join(here, file)).href);
}
