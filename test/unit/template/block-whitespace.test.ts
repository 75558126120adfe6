/**
 * The template module's trim_blocks/lstrip_blocks and a template's `#jinja2:` first line, as
 * Ansible's Templar (expected outputs from Jinja2 3 itself). Public roles indent their block
 * tags and set lstrip_blocks; without it every such line kept its indentation.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Templar } from "../../../scripts/lib/template/templar.ts";

const SRC = "[Time]\n    {% if a %}\nA={{ a }}\n    {% endif %}\n  {% for x in l %}\n  - {{ x }}\n  {% endfor %}\nend\n";
const vars = { a: 1, l: [1, 2] };

test("trim_blocks and lstrip_blocks, each combination as Jinja2", () => {
  const t = new Templar(vars);
  assert.equal(t.renderText(SRC, "f"), "[Time]\n    A=1\n        - 1\n    - 2\n  end\n");
  assert.equal(t.renderText(SRC, "f", { lstripBlocks: true }), "[Time]\nA=1\n  - 1\n  - 2\nend\n");
  assert.equal(t.renderText(SRC, "f", { trimBlocks: false, lstripBlocks: true }), "[Time]\n\nA=1\n\n\n  - 1\n\n  - 2\n\nend\n");
  assert.equal(t.renderText(SRC, "f", { trimBlocks: false }), "[Time]\n    \nA=1\n    \n  \n  - 1\n  \n  - 2\n  \nend\n");
  // The default environment is left as it was.
  assert.equal(t.renderText(SRC, "f"), "[Time]\n    A=1\n        - 1\n    - 2\n  end\n");
});

test("a #jinja2: first line sets the options and is not written", () => {
  const t = new Templar(vars);
  assert.equal(t.renderText(`#jinja2: lstrip_blocks: True\n${SRC}`, "f"), "[Time]\nA=1\n  - 1\n  - 2\nend\n");
  assert.equal(t.renderText(`#jinja2: trim_blocks: False, lstrip_blocks: True\n${SRC}`, "f"), "[Time]\n\nA=1\n\n\n  - 1\n\n  - 2\n\nend\n");
  // The header wins over the module's options, as in Ansible (it is applied last).
  assert.equal(t.renderText(`#jinja2:lstrip_blocks:False\n${SRC}`, "f", { lstripBlocks: true }), "[Time]\n    A=1\n        - 1\n    - 2\n  end\n");
});

test("a malformed #jinja2: line is a clear error naming the template", () => {
  const t = new Templar(vars);
  assert.throws(() => t.renderText("#jinja2: lstrip_blocks=True\nx\n", "roles/ntp/templates/ntp.conf.j2"), /failed to parse jinja2 override 'lstrip_blocks=True' in roles\/ntp\/templates\/ntp.conf.j2/);
  assert.throws(() => t.renderText("#jinja2: lstrip_blocks: yes\nx\n", "t.j2"), /must be True or False, not 'yes'/);
  assert.throws(() => t.renderText("#jinja2: newline_sequence: '\\r\\n'\nx\n", "t.j2"), /'newline_sequence' in t.j2 is not supported/);
});

test("lstrip_blocks strips before a comment tag too, as Jinja2", () => {
  const t = new Templar(vars);
  assert.equal(t.renderText("a\n  {# c #}\nb\n  x {# d #}\n", "f", { lstripBlocks: true }), "a\nb\n  x ");
  assert.equal(t.renderText("a\n  {# c #}\nb\n", "f"), "a\n  b\n");
});
