/**
 * Plain scalars resolve as PyYAML (Ansible's loader) resolves them, YAML 1.1 with PyYAML's own
 * rules: booleans without y/n, and floats only with a dot and a signed exponent. `e1` was NaN
 * and `1e3` the number 1000, where Ansible has the strings "e1" and "1e3".
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseYaml } from "../../../scripts/lib/yaml/load.ts";

// [written, what PyYAML 6 (yaml.safe_load) gives]
const CASES: Array<[string, unknown]> = [
  ["e1", "e1"],
  ["-e5", "-e5"],
  ["1e3", "1e3"],
  [".5e1", ".5e1"],
  ["1.5e3", "1.5e3"],
  ["1.5e+3", 1500],
  ["1.5", 1.5],
  ["-2.", -2],
  ["3.14_15", 3.1415],
  ["1:30.5", 90.5],
  ["1:20", 80],
  ["017", 15],
  ["0o17", "0o17"],
  ["0x1F", 31],
  ["1_000", 1000],
  ["-.inf", -Infinity],
  ["yes", true],
  ["n", "n"],
];

test("plain scalars resolve as PyYAML", () => {
  for (const [written, expected] of CASES) assert.deepEqual(parseYaml(`v: ${written}`, "f.yml"), { v: expected }, written);
  assert.ok(Number.isNaN((parseYaml("v: .nan", "f.yml") as { v: number }).v));
});
