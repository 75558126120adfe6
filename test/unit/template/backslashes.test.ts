/**
 * Backslashes in Jinja string literals, as under Ansible 2.14 (expected values from
 * ansible-playbook runs of the same strings):
 * - in a playbook's strings, inside `{{ }}`: taken as written (Ansible doubles them before Jinja
 *   decodes them), so `regex_search('v(\d+)')` is the regex v(\d+), and '\n' stays backslash-n;
 * - in conditions (`when:`, assert's `that:`) and in template files: Jinja's decoding, Python's
 *   unicode-escape (\n a newline, \x41 "A", \1 the character 1, an unknown escape such as \d
 *   kept with its backslash).
 * nunjucks dropped the backslash of every unknown escape: `'\d+'` became `d+`, silently.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Templar } from "../../../scripts/lib/template/templar.ts";

const t = () => new Templar({ v: "v1.25 x", words: "ab cd" });

test("playbook strings: string literals inside {{ }} as written", () => {
  const cases: Array<[string, unknown]> = [
    [String.raw`{{ v | regex_search('v(\d+)\.') }}`, "v1."],
    [String.raw`{{ v | regex_replace('\s+', '_') }}`, "v1.25_x"],
    [String.raw`{{ v is match('v\d') }}`, true],
    [String.raw`{{ words | regex_replace('(\w+) (\w+)', '\2 \1') }}`, "cd ab"],
    [String.raw`{{ 'a\nb' }}`, String.raw`a\nb`],
    [String.raw`{{ 'a\\b' }}`, String.raw`a\\b`],
    [String.raw`x\d {{ "\t" }}`, String.raw`x\d \t`],
    // {% %} in a playbook string is decoded as Jinja does.
    [String.raw`{% if 'a\tb' == 'a	b' %}tab{% endif %}`, "tab"],
  ];
  for (const [source, expected] of cases) assert.deepEqual(t().render(source), expected, source);
});

test("conditions: Jinja's decoding (unknown escapes keep their backslash)", () => {
  assert.equal(t().evaluate(String.raw`v is match('v\d')`), true);
  assert.equal(t().evaluate(String.raw`'a\nb' == 'a` + "\n" + `b'`), true);
  assert.equal(t().evaluate(String.raw`'\x41\101' == 'AA'`), true);
  assert.equal(t().evaluate(String.raw`'\1' | length`), 1);
});

test("template files: Jinja's decoding", () => {
  assert.equal(t().renderText(String.raw`{{ v | regex_replace('\s+', '_') }} {{ 'a\nb' }} {{ 'c\\d' }} {{ v | regex_search('v(\\d+)') }}` + "\n", "t.j2"), "v1.25_x a\nb c\\d v1\n");
  assert.equal(t().renderText(String.raw`{{ '\u00e9\x41' }}`, "t.j2"), "éA");
  assert.throws(() => t().renderText(String.raw`{{ '\x4' }}`, "t.j2"), /truncated \\xXX escape/);
});
