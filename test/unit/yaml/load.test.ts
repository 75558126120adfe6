/**
 * YAML loading under hostile or unlucky input: bounded alias expansion and nesting, file size,
 * and syntax errors that point where the mistake is (where a quote or bracket opens, the
 * duplicated key by name), BOM accepted.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseYaml, loadYamlFile, MAX_INPUT_BYTES } from "../../../scripts/lib/yaml/load.ts";
import { UserError } from "../../../scripts/lib/errors.ts";
import { loadInventory } from "../../../scripts/lib/inventory/inventory.ts";
import { parseExtraVars } from "../../../scripts/lib/inventory/extra-vars.ts";
import { boundedError, runBounded } from "../../support/bounded.ts";

const loader = new URL("../../../scripts/lib/yaml/load.ts", import.meta.url);

function errorOf(text: string, file = "f.yml"): string {
  try {
    parseYaml(text, file);
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    return e.format().split("\n")[0];
  }
  assert.fail("parsed without error");
}

/** Nine levels of nine aliases each: 9^9 values if expanded. */
function billionLaughs(): string {
  const lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
  for (let i = 1; i < 10; i++) lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(", ")}]`);
  return lines.join("\n") + "\n";
}

describe("YAML runaway input", () => {
  test("a billion laughs fails fast at the alias that expands too far", async () => {
    const r = await runBounded(20_000, loader, "parseYaml", billionLaughs(), "laughs.yml");
    const message = boundedError(r, "billion laughs");
    assert.match(message, /^laughs\.yml:6:10: YAML aliases expand to more than 100000 values here/);
  });

  test("a billion laughs in target data through from_yaml fails fast too", async () => {
    const r = await runBounded(20_000, new URL("../template/nesting-cases.ts", import.meta.url), "renderWith", { doc: billionLaughs() }, "{{ doc | from_yaml }}");
    assert.ok(!("timedOut" in r), "from_yaml: still running at the time limit (unbounded)");
    assert.ok(r.ok, JSON.stringify(r));
    assert.match(String((r.value as { error?: string }).error), /YAML aliases expand to more than 100000 values here/);
  });

  test("aliases and merge keys of normal size still work, as copies", () => {
    const data = parseYaml("d: &d {a: 1, b: [x, y]}\nx:\n  <<: *d\n  b: 3\ny: *d\n", "f.yml") as Record<string, Record<string, unknown>>;
    assert.deepEqual(data.x, { a: 1, b: 3 });
    assert.deepEqual(data.y, { a: 1, b: ["x", "y"] });
    assert.notEqual(data.y, data.d);
  });

  test("deep nesting is a message about nesting, not a stack overflow", async () => {
    for (const [what, text] of [
      ["flow", "a: " + "[".repeat(5000) + "]".repeat(5000) + "\n"],
      ["flow 300", "a: " + "[".repeat(300) + "]".repeat(300) + "\n"],
      ["block", Array.from({ length: 3000 }, (_, i) => " ".repeat(i) + "k:").join("\n") + " 1\n"],
    ]) {
      const message = boundedError(await runBounded(20_000, loader, "parseYaml", text, "deep.yml"), what);
      assert.match(message, /^deep\.yml:\d+:\d+: YAML data is nested more than 200 levels deep$/m, what);
    }
  });

  test("a file over the size limit is refused before it is read", () => {
    const dir = mkdtempSync(join(tmpdir(), "yaml-size-"));
    try {
      const file = join(dir, "huge.yml");
      writeFileSync(file, "");
      truncateSync(file, MAX_INPUT_BYTES + 1); // sparse: no real disk used
      const tooLarge = (e: unknown) => e instanceof UserError && /File is too large to load \(4\.0 MB; the limit is 4 MB\)/.test(e.message) && e.where?.file === file;
      assert.throws(() => loadYamlFile(file), tooLarge, "a playbook or task file");
      assert.throws(() => loadInventory([file]), tooLarge, "an inventory");
      assert.throws(() => parseExtraVars([`@${file}`]), tooLarge, "-e @file");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("YAML errors a user meets every week", () => {
  test("an unclosed double quote points at the line where it opens", () => {
    const text = "- hosts: all\n  tasks:\n    - name: \"unclosed\n      debug: msg=hi\n    - name: x\n      debug: msg=y\n";
    assert.equal(errorOf(text), 'f.yml:3:13: YAML syntax error: this " is not closed (the " is still missing at line 7)');
  });

  test("an unclosed single quote points at the line where it opens", () => {
    assert.equal(errorOf("a: 1\nb: 'abc\nc: 2\nd: 3\n"), "f.yml:2:4: YAML syntax error: this ' is not closed (the ' is still missing at line 5)");
  });

  test("an unclosed bracket or brace points where it opens (the innermost one)", () => {
    assert.equal(errorOf("a: 1\nb: [[1], 2\nc: 3\nd: 4\n"), "f.yml:2:4: YAML syntax error: this [ is not closed (the ] is still missing at line 3)");
    assert.equal(errorOf("a: [1, {b: 2\n"), "f.yml:1:8: YAML syntax error: this { is not closed (the } is still missing at line 2)");
  });

  test("a duplicate key is named, with where the first one is", () => {
    assert.equal(errorOf("a: 1\nb:\n  x: 1\n  x: 2\n"), 'f.yml:4:3: Duplicate key "x" in b (first at line 3)');
    assert.equal(errorOf("- name: one\n  debug: msg=a\n  name: two\n"), 'f.yml:3:3: Duplicate key "name" in [0] (first at line 1)');
  });

  test("a duplicate host in an inventory group names the host", () => {
    const text = "all:\n  children:\n    workers:\n      hosts:\n        pi-1:\n        pi-2:\n        pi-1:\n";
    assert.equal(errorOf(text, "hosts.yml"), 'hosts.yml:7:9: Duplicate host "pi-1" in all.children.workers.hosts (first at line 5)');
    const vars = "all:\n  hosts:\n    pi-1:\n      ansible_host: a\n      ansible_host: b\n";
    assert.equal(errorOf(vars, "hosts.yml"), 'hosts.yml:5:7: Duplicate key "ansible_host" in all.hosts.pi-1 (first at line 4)');
  });

  test("a UTF-8 byte order mark at the top of a file is accepted", () => {
    const dir = mkdtempSync(join(tmpdir(), "yaml-bom-"));
    try {
      const file = join(dir, "bom.yml");
      writeFileSync(file, "\uFEFF---\n# comment\na: 1\n");
      assert.deepEqual(loadYamlFile(file), { a: 1 });
      assert.deepEqual(parseYaml("\uFEFFa: [1]\n", "f.yml"), { a: [1] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
