// Shared by the root entry files other than `run` (`inv`, `adhoc`): zx copies such a file to
// <name>.mjs and imports it. As `run` does: under Node it loads the script's bundle
// (dist/<script>.mjs, scripts/build.mjs) when no source is newer, rebuilds a stale or missing
// one, and falls back to the TypeScript through tsx; under Deno it imports the TypeScript.
// Then it calls the script's main with the arguments after the entry file's name and sets the
// exit code. PI_RUNNER_LOADER=tsx, PI_RUNNER_DIST and PI_RUNNER_LOADER_TRACE work as for `run`.
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

async function bundle(script, trace) {
  if (process.env.PI_RUNNER_LOADER === "tsx") return undefined;
  try {
    const { freshBundle, build } = await import(pathToFileURL(join(root, "scripts", "build.mjs")).href);
    const outdir = process.env.PI_RUNNER_DIST || join(root, "dist");
    const entry = freshBundle(outdir, script);
    if (entry) {
      trace("bundle");
      return entry;
    }
    await build({ outdir });
    trace("rebuilt bundle");
    return freshBundle(outdir, script) ?? join(outdir, `${script}.mjs`);
  } catch {
    return undefined; // no esbuild, read-only checkout, a syntax error (tsx reports it): tsx
  }
}

/** Runs scripts/<script>.ts's main; `entryName` is the root file zx was given (`inv`). */
export async function runScript(entryName, script) {
  const named = new RegExp(`(^|/)${entryName}(\\.mjs)?$`);
  const at = process.argv.findIndex((a) => named.test(a));
  const args = at >= 0 ? process.argv.slice(at + 1) : process.argv.slice(2);
  const source = join(root, "scripts", `${script}.ts`);
  let main;
  if (typeof globalThis.Deno !== "undefined") {
    ({ main } = await import(pathToFileURL(source).href));
  } else {
    const trace = (how) => process.env.PI_RUNNER_LOADER_TRACE && process.stderr.write(`${entryName}: loaded via ${how}\n`);
    const entry = await bundle(script, trace);
    if (entry) {
      ({ main } = await import(pathToFileURL(entry).href));
    } else {
      trace("tsx");
      const { tsImport } = await import("tsx/esm/api");
      ({ main } = await tsImport(source, import.meta.url));
    }
  }
  process.exitCode = await main(args);
}
