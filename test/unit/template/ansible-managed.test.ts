/** ansible_managed in template files and the comment filter's styles and options, as Ansible renders them. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Templar } from "../../../scripts/lib/template/templar.ts";

test("ansible_managed is Ansible's default string in a template file, through comment() in each style", () => {
  const t = new Templar({});
  assert.equal(t.renderText("{{ ansible_managed | comment }}\n", "ntp.conf.j2"), "#\n# Ansible managed\n#\n");
  assert.equal(t.renderText("{{ ansible_managed | comment('c') }}", "a.j2"), "//\n// Ansible managed\n//");
  assert.equal(t.renderText("{{ ansible_managed | comment('cblock') }}", "a.j2"), "/*\n *\n * Ansible managed\n *\n */");
  assert.equal(t.renderText("{{ ansible_managed | comment('erlang') }}", "a.j2"), "%\n% Ansible managed\n%");
  assert.equal(t.renderText("{{ ansible_managed | comment('xml') }}", "a.j2"), "<!--\n -\n - Ansible managed\n -\n-->");
  assert.match(String(t.renderText("{{ template_path }}", "x/a.j2")), /x\/a\.j2$/);
});

test("comment() options: multi-line text, decoration, prefix/postfix and counts, beginning/end", () => {
  const t = new Templar({ text: "one\n\ntwo" });
  assert.equal(t.render("{{ text | comment }}"), "#\n# one\n#\n# two\n#");
  assert.equal(t.render("{{ 'x' | comment(decoration='; ') }}"), ";\n; x\n;");
  assert.equal(t.render("{{ 'x' | comment('plain', prefix='#!/bin/sh', postfix='', postfix_count=0) }}"), "#!/bin/sh\n# x");
  assert.equal(t.render("{{ 'x' | comment(prefix_count=2, postfix_count=2) }}"), "#\n#\n# x\n#\n#");
  assert.equal(t.render("{{ 'x' | comment('c', beginning='/* begin', end='end */') }}"), "/* begin\n//\n// x\n//\nend */");
  assert.throws(() => t.render("{{ 'x' | comment('nosuch') }}"), /unknown style "nosuch"/);
});

test("ansible_managed is not a play variable (Ansible defines it for template files only)", () => {
  assert.throws(() => new Templar({}).render("{{ ansible_managed }}"), /ansible_managed/);
});
