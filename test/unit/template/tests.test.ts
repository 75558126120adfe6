/** Every Jinja/Ansible test as data: an expression and its value. */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Templar } from "../../../scripts/lib/template/templar.ts";

describe("tests (x is ...)", () => {
  let dir: string;
  let t: Templar;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tmpl-tests-"));
    writeFileSync(join(dir, "f.txt"), "x");
    t = new Templar({
      dir,
      file: join(dir, "f.txt"),
      s: "pi-01.lan",
      n: 3,
      f: 1.5,
      l: [1, 2, 3],
      d: { a: 1 },
      none: null,
      yes: true,
      no: false,
      changed_result: { changed: true, failed: false, rc: 0 },
      failed_result: { changed: false, failed: true, rc: 1 },
      skipped_result: { changed: false, skipped: true },
      rc_result: { rc: 2 },
      version: "5.15.84-v8+",
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<[string, boolean]> = [
    ["s is defined", true],
    ["missing is defined", false],
    ["missing is undefined", true],
    ["s is undefined", false],
    ["d.nope is defined", false],
    ["missing.deeper is defined", false],
    ["none is none", true],
    ["s is none", false],
    ["s is string", true],
    ["n is string", false],
    ["n is number", true],
    ["f is number", true],
    ["n is integer", true],
    ["f is float", true],
    ["d is mapping", true],
    ["l is mapping", false],
    ["l is iterable", true],
    ["n is iterable", false],
    ["l is sequence", true],
    ["yes is boolean", true],
    ["n is boolean", false],
    ["yes is true", true],
    ["no is false", true],
    ["n is true", false],
    ["s is match('pi-0')", true],
    ["s is match('0')", false],
    ["s is search('0\\\\d')", true],
    ["s is search('^lan')", false],
    ["s is regex('LAN$', ignorecase=true)", true],
    ["s is match('PI', ignorecase=true)", true],
    ["version is version('5.10', '>=')", true],
    ["version is version('6.1', 'lt')", true],
    ["'1.2.3' is version('1.2.3', '==')", true],
    ["'1.2.3' is version_compare('1.10', '<')", true],
    ["2 is in l", true],
    ["5 is in l", false],
    ["5 is not in l", true],
    ["l is contains(3)", true],
    ["[1, 2] is subset(l)", true],
    ["[1, 9] is subset(l)", false],
    ["l is superset([3, 1])", true],
    ["file is file", true],
    ["dir is file", false],
    ["dir is directory", true],
    ["file is exists", true],
    ["(dir ~ '/nope') is exists", false],
    ["changed_result is changed", true],
    ["failed_result is changed", false],
    ["changed_result is success", true],
    ["changed_result is succeeded", true],
    ["failed_result is failed", true],
    ["failed_result is success", false],
    ["rc_result is failed", true],
    ["skipped_result is skipped", true],
    ["changed_result is skipped", false],
    ["n is odd", true],
    ["n is even", false],
    ["n is divisibleby(3)", true],
    ["n is divisibleby 3", true],
    ["n is eq(3)", true],
    ["n is equalto 3", true],
    ["n is ne(3)", false],
    ["n is gt(2)", true],
    ["n is lt(2)", false],
    ["'abc' is lower", true],
    ["s is ansible.builtin.match('pi')", true],
  ];
  for (const [expression, expected] of cases) {
    test(expression, () => assert.equal(t.evaluate(expression), expected));
  }

  test("a test other than defined/undefined given an undefined value fails with the name", () => {
    assert.throws(() => t.evaluate("missing is string"), /Undefined variable "missing"/);
  });
});
