/**
 * The repository's root folder (the one holding package.json), found by walking up from this
 * module. Paths into the source tree (scripts/schemas/, roles/, node_modules/.cache/) are
 * taken from here rather than relative to import.meta.url, because the same code also runs
 * bundled from dist/ (scripts/build.mjs), where relative paths point elsewhere.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; ) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) return join(start, "..", ".."); // no package.json at all: the source layout
    dir = up;
  }
}

/** Absolute path of the repository root (no trailing separator). */
export const REPO_ROOT: string = findRoot();
