/** Writes a tree of files (path -> text) into a fresh temp folder; `remove()` deletes it. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface Tree {
  dir: string;
  path(rel: string): string;
  remove(): void;
}

export function writeTree(files: Record<string, string>): Tree {
  const dir = mkdtempSync(join(tmpdir(), "inv-test-"));
  for (const [rel, text] of Object.entries(files)) {
    const file = join(dir, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return { dir, path: (rel) => join(dir, rel), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
