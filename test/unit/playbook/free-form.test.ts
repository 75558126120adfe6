/** One-line k=v arguments as Ansible splits them. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseFreeForm, splitWords } from "../../../scripts/lib/playbook/free-form.ts";

test("key=value words, quotes removed", () => {
  assert.deepEqual(parseFreeForm(`name=vim state="latest" msg='a b'`), { args: { name: "vim", state: "latest", msg: "a b" }, raw: "" });
});

test("escaped double quotes inside double quotes", () => {
  assert.deepEqual(parseFreeForm(`msg="say \\"hi\\""`).args, { msg: 'say "hi"' });
});

test("Jinja2 expressions with spaces stay one word", () => {
  assert.deepEqual(parseFreeForm(`msg={{ a | default('x y') }} other=1`).args, { msg: "{{ a | default('x y') }}", other: "1" });
});

test("only the module's own options are taken out of a free-form command", () => {
  const r = parseFreeForm("FOO=bar ls -l chdir=/tmp creates='/x y'", new Set(["chdir", "creates"]));
  assert.deepEqual(r.args, { chdir: "/tmp", creates: "/x y" });
  assert.equal(r.raw, "FOO=bar ls -l");
});

test("multi-line scripts keep their newlines", () => {
  assert.equal(parseFreeForm("echo a\necho b\n", new Set(["chdir"])).raw, "echo a\necho b");
});

test("splitWords keeps offsets", () => {
  assert.deepEqual(splitWords(" a  'b c' d").map((w) => [w.start, w.end, w.text]), [[1, 2, "a"], [4, 9, "'b c'"], [10, 11, "d"]]);
});
