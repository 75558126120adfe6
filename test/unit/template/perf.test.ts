/**
 * The executor renders every task's arguments for every host: compiled templates must be reused
 * (by source text) and strings without markers must not reach nunjucks. Prints the figures.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Templar } from "../../../scripts/lib/template/templar.ts";

function perRender(fn: (i: number) => void, n: number): number {
  const start = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return (performance.now() - start) / n;
}

test("cached templates render much faster than compiling; plain strings skip the engine", () => {
  const t = new Templar({ a: "x", b: 2 });
  t.render("{{ a }}-{{ b }}");
  const cached = perRender(() => t.render("{{ a }}-{{ b }}"), 10000);
  const compiled = perRender((i) => t.render(`{{ a }}-{{ b }}-${i}-${Math.random()}`), 300);
  const plain = perRender(() => t.render("no template here"), 10000);
  console.log(`# 10k cached "{{ a }}-{{ b }}": ${(cached * 10000).toFixed(1)} ms; compile+render ${(compiled * 1000).toFixed(0)} µs each; plain ${(plain * 1e6).toFixed(0)} ns each`);
  assert.ok(cached * 3 < compiled, `cached ${cached} ms vs compiled ${compiled} ms`);
  assert.ok(plain * 5 < cached, `plain ${plain} ms vs cached ${cached} ms`);
  assert.equal(t.render("{{ a }}-{{ b }}"), "x-2");
});
