/** trim_blocks as Jinja2's: the newline right after a block tag AND after a comment tag is removed. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Templar } from "../../../scripts/lib/template/templar.ts";

test("a comment line leaves no blank line; inline comments and {#- -#} as Jinja2", () => {
  const t = new Templar({ x: 1 });
  assert.equal(t.renderText("{# managed by ansible #}\nline\n", "f"), "line\n");
  assert.equal(t.renderText("{# a #}\r\nline\n", "f"), "line\n");
  assert.equal(t.renderText("{% if x %}\na\n{% endif %}\nb {# inline #}\nc\n{#- d -#}\n e\n", "f"), "a\nb ce\n");
  // Only one newline goes, as after a block tag.
  assert.equal(t.renderText("{# a #}\n\nline\n", "f"), "\nline\n");
});
