/**
 * Named probes' parsers tested as data, in the facts' layout (test/unit/facts/): every
 * test/unit/probes/<probe>/<case>.json is
 *
 * {
 *   "description": "where the output comes from",
 *   "input": { ... },                   // the probe's input (omitted when it takes none)
 *   "output": "text" | ["line", ...],   // what the probe's command printed (lines joined with \n + final \n)
 *   "rc": 0,                            // optional exit status (default 0)
 *   "expect": { ... }                   // the parsed state, exactly (keys whose value is undefined left out)
 * }
 *
 * <probe> is a Probe's name (scripts/lib/modules/probes.ts). The module fixtures
 * (test/unit/modules/) give modules parsed state; these hold the parsers to the text, and
 * test/e2e/probes.test.ts holds the commands to a real shell.
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ALL_PROBES } from "../../../scripts/lib/modules/probes.ts";

const here = dirname(fileURLToPath(import.meta.url));

/** The value without its undefined-valued keys, as JSON would carry it. */
function defined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(defined);
  if (value && typeof value === "object" && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, defined(v)]));
  }
  return value;
}

for (const folder of readdirSync(here).filter((f) => statSync(join(here, f)).isDirectory()).sort()) {
  const probe = ALL_PROBES.find((p) => p.name === folder);
  describe(`probe ${folder}`, () => {
    test("is a named probe", () => assert.ok(probe, `no probe named ${folder} in scripts/lib/modules/probes.ts`));
    for (const file of readdirSync(join(here, folder)).filter((f) => f.endsWith(".json")).sort()) {
      test(file.replace(/\.json$/, ""), () => {
        const c = JSON.parse(readFileSync(join(here, folder, file), "utf8")) as { input?: unknown; output: string | string[]; rc?: number; expect: unknown };
        const stdout = Array.isArray(c.output) ? c.output.join("\n") + "\n" : c.output;
        assert.deepEqual(defined(probe!.parse({ rc: c.rc ?? 0, stdout, stderr: "" }, c.input)), c.expect);
      });
    }
  });
}
