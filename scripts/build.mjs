#!/usr/bin/env node
// Bundles scripts/play.ts into dist/play.mjs so `npx zx run` starts without tsx transforming
// ~100 TypeScript files at every start (scripts/inventory.ts and adhoc.ts likewise, for
// `npx zx inv` and `npx zx adhoc`, sharing its chunks); the TypeScript stays the source. npm
// packages stay external (bare imports), so node_modules is used as is. Run at install time
// (npm run build, scripts/setup.sh) and by `run` itself when the bundle is older than a source
// file.
//
//   node scripts/build.mjs [--outdir DIR]
//
// Plain Node ESM on purpose: it must run before (and without) tsx. esbuild is tsx's own
// dependency, so no new npm package is needed.
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is scripts/build.mjs). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Where `run` looks for the bundle unless PI_RUNNER_DIST says otherwise. */
export const DEFAULT_OUTDIR = join(ROOT, "dist");
const SOURCES = join(ROOT, "scripts");

/** The newest modification time (ms) of a .ts/.json/.mjs file under scripts/. */
export function newestSourceMtime(dir = SOURCES) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(path));
    else if (/\.(ts|json|mjs)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** The scripts bundled, each to dist/<name>.mjs. */
export const ENTRIES = ["play", "inventory", "adhoc"];

/** The bundle's entry file `name`.mjs in `outdir` if it exists and no source is newer, else undefined. */
export function freshBundle(outdir = DEFAULT_OUTDIR, name = "play") {
  const file = join(outdir, `${name}.mjs`);
  let built;
  try {
    built = statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
  return newestSourceMtime() <= built ? file : undefined;
}

async function loadEsbuild() {
  try {
    return await import("esbuild");
  } catch {
    // Not hoisted to the top of node_modules: take the copy tsx depends on.
    const fromTsx = createRequire(createRequire(join(ROOT, "package.json")).resolve("tsx/package.json"));
    return await import(fromTsx.resolve("esbuild"));
  }
}

/** Chunks of earlier builds are kept this long: a run started before a rebuild may still import them. */
const OLD_CHUNK_MS = 24 * 3600 * 1000;

/**
 * Builds `outdir`/play.mjs, the other ENTRIES and their chunks (`outdir`/chunks/: the modules
 * the scripts import dynamically, so `--help` does not load the executor). Written in a
 * temporary folder and renamed into place, play.mjs last, so a concurrent `run` never imports
 * half a build. The
 * entry's mtime is set to the moment the build started: a source saved during the build makes
 * it stale at once. Resolves to the entry file; rejects when esbuild fails.
 */
export async function build({ outdir = DEFAULT_OUTDIR } = {}) {
  const started = new Date();
  const esbuild = await loadEsbuild();
  const tmp = join(outdir, `.build-${process.pid}-${Date.now()}`);
  mkdirSync(tmp, { recursive: true });
  try {
    await esbuild.build({
      entryPoints: ENTRIES.map((name) => join(SOURCES, `${name}.ts`)),
      outdir: tmp,
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      packages: "external",
      // Dynamic imports stay separate files: `--help` in ~70 ms instead of ~160 ms.
      splitting: true,
      outExtension: { ".js": ".mjs" },
      entryNames: "[name]",
      chunkNames: "chunks/[name]-[hash]",
      sourcemap: "linked",
      sourcesContent: false,
      logLevel: "silent",
    });
    // Chunk names carry a content hash: moving them over older ones of the same name is safe.
    const chunks = join(outdir, "chunks");
    mkdirSync(chunks, { recursive: true });
    const fresh = new Set(readdirSync(join(tmp, "chunks")));
    for (const name of fresh) renameSync(join(tmp, "chunks", name), join(chunks, name));
    for (const name of readdirSync(chunks)) {
      if (!fresh.has(name) && Date.now() - statSync(join(chunks, name)).mtimeMs > OLD_CHUNK_MS) rmSync(join(chunks, name), { force: true });
    }
    // play.mjs last: `run` takes it as the sign that a build is complete.
    for (const name of [...ENTRIES.filter((n) => n !== "play"), "play"]) {
      renameSync(join(tmp, `${name}.mjs.map`), join(outdir, `${name}.mjs.map`));
      utimesSync(join(tmp, `${name}.mjs`), started, started);
      renameSync(join(tmp, `${name}.mjs`), join(outdir, `${name}.mjs`));
    }
    return join(outdir, "play.mjs");
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    // esbuild keeps a service process; do not let it hold the caller's process open.
    await esbuild.stop?.();
  }
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const at = process.argv.indexOf("--outdir");
  const outdir = at > 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]) : DEFAULT_OUTDIR;
  const t = performance.now();
  try {
    const entry = await build({ outdir });
    console.log(`built ${entry} in ${Math.round(performance.now() - t)} ms`);
  } catch (error) {
    // Never fatal for an install: `run` falls back to tsx without a bundle.
    console.error(`build failed (npx zx run will use tsx instead): ${error?.message ?? error}`);
    process.exitCode = process.argv.includes("--strict") ? 1 : 0;
  }
}
