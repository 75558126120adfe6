/** Compiled validators are cached on disk and behave the same from the cache. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { cacheFile, compileSchema } from "../../../scripts/lib/playbook/schema-cache.ts";

test("cached and fresh validators coerce, fill defaults and report the same errors", () => {
  const schema = { type: "object", additionalProperties: false, properties: { n: { type: "integer" }, d: { type: "string", default: "schema-cache-test" } } };
  const file = cacheFile(schema, "args");
  rmSync(file, { force: true });
  const fresh = compileSchema(schema, "args");
  assert.ok(existsSync(file), "compiled code written to the cache");
  const cached = compileSchema(schema, "args");
  for (const v of [fresh, cached]) {
    const data: Record<string, unknown> = { n: "42" };
    assert.equal(v(data), true);
    assert.equal(data.n, 42);
    assert.equal(data.d, schema.properties.d.default);
    assert.equal(v({ n: "x", extra: 1 }), false);
    assert.deepEqual(v.errors?.map((e) => e.keyword).sort(), ["additionalProperties", "type"]);
    assert.ok(v.errors?.every((e) => e.parentSchema !== undefined), "verbose errors carry their schema");
  }
});
