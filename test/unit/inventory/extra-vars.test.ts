import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { parseExtraVars } from "../../../scripts/lib/inventory/inventory.ts";
import { UserError } from "../../../scripts/lib/errors.ts";
import { writeTree } from "./tree.ts";

describe("-e extra vars", () => {
  const cases: Array<[string, string[], Record<string, unknown>]> = [
    ["k=v pairs are strings", ["a=1 b=yes"], { a: "1", b: "yes" }],
    ["double and single quotes group words", [`motd="hello world" who='it''s'`], { motd: "hello world", who: "its" }],
    ["escaped quote in double quotes", [`x="say \\"hi\\""`], { x: 'say "hi"' }],
    ["value with = inside", ["url=http://a/?b=c"], { url: "http://a/?b=c" }],
    ["empty value", ["a="], { a: "" }],
    ["inline JSON keeps types", ['{"n": 1, "l": [1, 2], "b": true}'], { n: 1, l: [1, 2], b: true }],
    ["inline YAML flow mapping", ["{n: 0644, b: yes}"], { n: 0o644, b: true }],
    ["later values win", ["a=1 b=2", '{"a": 3}', "b=4"], { a: 3, b: "4" }],
    ["empty value list", [], {}],
    ["blank string", ["  "], {}],
  ];
  for (const [name, values, expected] of cases) test(name, () => assert.deepEqual(parseExtraVars(values), expected));

  test("@file.yml and @file.json relative to cwd", () => {
    const t = writeTree({ "vars.yml": "a: 1\nlist: [x]\n", "more.json": '{"a": 2, "c": "z"}', "empty.yml": "" });
    try {
      assert.deepEqual(parseExtraVars(["@vars.yml", "@more.json", "@empty.yml"], { cwd: t.dir }), { a: 2, list: ["x"], c: "z" });
    } finally {
      t.remove();
    }
  });

  // Exit codes as ansible-playbook's: 5 for a malformed option, 1 for a file it cannot read.
  const bad: Array<[string, string, RegExp, number]> = [
    ["a word without =", "a=1 oops", /"oops" is not name=value/, 5],
    ["an invalid name", "1a=2", /not a valid variable name/, 5],
    ["an unterminated quote", 'a="open', /unterminated " quote/, 5],
    ["a JSON list", "[1, 2]", /must be a mapping/, 5],
    ["broken JSON", '{"a": ', /Invalid extra vars/, 5],
    ["a missing file", "@/nonexistent/vars.yml", /Cannot read extra vars file/, 1],
  ];
  for (const [name, value, message, exitCode] of bad) {
    test(`error: ${name}`, () => {
      assert.throws(() => parseExtraVars([value]), (e: unknown) => {
        assert.ok(e instanceof UserError);
        assert.match(e.message, message);
        assert.equal(e.exitCode, exitCode);
        return true;
      });
    });
  }

  test("a file holding a list is rejected naming it", () => {
    const t = writeTree({ "list.yml": "- a\n" });
    try {
      assert.throws(() => parseExtraVars(["@list.yml"], { cwd: t.dir }), /-e @list\.yml/);
    } finally {
      t.remove();
    }
  });
});
