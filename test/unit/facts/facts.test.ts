/**
 * Facts tested as data, as pyinfra's: every test/unit/facts/<fact>/<case>.json is
 *
 * {
 *   "description": "where the output was captured",
 *   "output": "text" | ["line", ...],   // what the fact's command printed (lines joined with \n + final \n)
 *   "expect": { ... }                   // deep subset of the parsed facts
 * }
 *
 * <fact> is a Fact's name (scripts/lib/facts/*.ts), or "gather" for a whole gathered output
 * parsed by parseFacts (sections and all).
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { FACTS, gatherCommand, parseFacts, splitSections } from "../../../scripts/lib/facts/gather.ts";

const here = dirname(fileURLToPath(import.meta.url));

function assertSubset(actual: unknown, expected: unknown, path: string): void {
  if (expected && typeof expected === "object" && !Array.isArray(expected)) {
    assert.ok(actual && typeof actual === "object", `${path}: expected an object, got ${JSON.stringify(actual)}`);
    for (const [k, v] of Object.entries(expected)) assertSubset((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
  } else {
    assert.deepEqual(actual, expected, path);
  }
}

for (const folder of readdirSync(here).filter((f) => statSync(join(here, f)).isDirectory()).sort()) {
  const fact = FACTS.find((f) => f.name === folder);
  describe(`fact ${folder}`, () => {
    test("is a known fact", () => assert.ok(fact || folder === "gather", `no fact named ${folder}`));
    for (const file of readdirSync(join(here, folder)).filter((f) => f.endsWith(".json")).sort()) {
      test(file.replace(/\.json$/, ""), () => {
        const c = JSON.parse(readFileSync(join(here, folder, file), "utf8")) as { output: string | string[]; expect: Record<string, unknown> };
        const output = Array.isArray(c.output) ? c.output.join("\n") + "\n" : c.output;
        const parsed = folder === "gather" ? parseFacts(output) : fact!.parse(output);
        assertSubset(parsed, c.expect, folder);
      });
    }
  });
}

describe("gather", () => {
  test("one command with a section per fact, every parser tolerates an empty section", () => {
    const command = gatherCommand();
    for (const f of FACTS) assert.ok(command.includes(`@@fact ${f.name}`), f.name);
    const empty = parseFacts(FACTS.map((f) => `@@fact ${f.name}`).join("\n") + "\n");
    assert.equal((empty.pi as { is_pi: boolean }).is_pi, false);
    assert.deepEqual(empty.all_ipv4_addresses, []);
  });
  test("sections split by marker, text kept byte for byte", () => {
    const s = splitSections("@@fact a\nx\n y \n@@fact b\n@@fact c\nz\n");
    assert.equal(s.get("a"), "x\n y \n");
    assert.equal(s.get("b"), "");
    assert.equal(s.get("c"), "z\n");
  });
});

describe("system", () => {
  test("userspace_architecture is left out on ARM and when getconf printed nothing, as Ansible's", () => {
    const fact = FACTS.find((f) => f.name === "system")!;
    const arm = fact.parse("machine=aarch64\nuserspace_bits=32\n");
    assert.equal(arm.userspace_bits, "32");
    assert.ok(!("userspace_architecture" in arm), JSON.stringify(arm));
    const none = fact.parse("machine=x86_64\nuserspace_bits=\n");
    assert.ok(!("userspace_bits" in none) && !("userspace_architecture" in none), JSON.stringify(none));
  });
});
