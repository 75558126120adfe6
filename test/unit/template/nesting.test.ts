/**
 * Deep nesting in templates ends with a message about nesting: an expression nested thousands
 * deep (nunjucks' parser used to take exponential time on it) and JSON data from from_json
 * (later walks would overflow the stack). In a worker with a time limit: a regression fails by
 * timeout instead of hanging the suite.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runBounded } from "../../support/bounded.ts";

test("deeply nested expressions and from_json data fail with a message about nesting", async () => {
  const deep = (open: string, close: string, inner = "") => `{{ ${open.repeat(3000)}${inner}${close.repeat(3000)} }}`;
  const r = await runBounded(30_000, new URL("./nesting-cases.ts", import.meta.url), "render", [deep("[", "]"), deep("(", ")", "1"), "{{ j | from_json }}", `{{ ${"[".repeat(60)}${"]".repeat(60)} | length }}`], 3000);
  assert.ok(!("timedOut" in r), "still running at the time limit");
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.value, [
    { error: "Template expression nested more than 100 levels deep", name: "TemplateError" },
    { error: "Template expression nested more than 100 levels deep", name: "TemplateError" },
    { error: "from_json: the data is nested more than 200 levels deep", name: "TemplateError" },
    { value: 1 },
  ]);
});

test("flatten of a list of 200,000 items works (no spread of the items into one call)", async () => {
  const r = await runBounded(30_000, new URL("./nesting-cases.ts", import.meta.url), "render", ["{{ [range(0, 200000) | list, [1]] | flatten | length }}"], 1);
  assert.ok(!("timedOut" in r), "still running at the time limit");
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.value, [{ value: 200001 }]);
});
