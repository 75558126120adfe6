/**
 * No import cycles in scripts/lib: the code reads in one direction (loader -> executor ->
 * module -> transport). Type-only imports count too: a cycle of types is a cycle of concepts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const lib = resolve(dirname(fileURLToPath(import.meta.url)), "../../scripts/lib");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

// `import ... from "./x.ts"`, `export ... from "../y.ts"`, `import "./z.ts"` and `import("./w.ts")`.
const RELATIVE_IMPORT = /(?:^\s*(?:import|export)\b[^;"']*?["'](\.{1,2}\/[^"']+)["'])|(?:\bimport\(\s*["'](\.{1,2}\/[^"']+)["']\s*\))/gm;

/** file -> the files it imports, relative to scripts/lib. */
function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(root)) {
    const text = readFileSync(file, "utf8");
    const deps = [...text.matchAll(RELATIVE_IMPORT)].map((m) => relative(root, resolve(dirname(file), m[1] ?? m[2])));
    graph.set(relative(root, file), deps);
  }
  return graph;
}

/** Every cycle found by a depth-first walk, each as the path that closes it (a -> b -> a). */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (file: string): void => {
    state.set(file, "open");
    path.push(file);
    for (const dep of graph.get(file) ?? []) {
      if (!graph.has(dep)) continue;
      if (state.get(dep) === "open") cycles.push([...path.slice(path.indexOf(dep)), dep]);
      else if (!state.has(dep)) visit(dep);
    }
    path.pop();
    state.set(file, "done");
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return cycles;
}

test("the cycle finder sees a cycle through a type-only import and a re-export", () => {
  const graph = new Map([
    ["a.ts", ["b.ts"]],
    ["b.ts", ["c.ts"]],
    ["c.ts", ["a.ts"]],
    ["d.ts", ["a.ts"]],
  ]);
  assert.deepEqual(findCycles(graph), [["a.ts", "b.ts", "c.ts", "a.ts"]]);
  const text = 'import type { X } from "./b.ts";\nexport { y } from "../c.ts";\nconst m = await import("./d.ts");\n';
  assert.deepEqual([...text.matchAll(RELATIVE_IMPORT)].map((m) => m[1] ?? m[2]), ["./b.ts", "../c.ts", "./d.ts"]);
});

test("no import cycles in scripts/lib", () => {
  const cycles = findCycles(importGraph(lib));
  assert.deepEqual(cycles.map((c) => c.join(" -> ")), [], "import cycles (move the shared part into a file both can import)");
});
