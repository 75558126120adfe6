// Shared by the root entry files other than `run` (`inv`, `adhoc`): zx copies such a file to
// <name>.mjs and imports it; this loads the script's TypeScript (through tsx under Node,
// directly under Deno), calls its main with the arguments after the entry file's name, and
// sets the exit code.
import { pathToFileURL } from "node:url";

export async function runScript(entryName, scriptPath) {
  const named = new RegExp(`(^|/)${entryName}(\\.mjs)?$`);
  const at = process.argv.findIndex((a) => named.test(a));
  const args = at >= 0 ? process.argv.slice(at + 1) : process.argv.slice(2);
  let main;
  if (typeof globalThis.Deno !== "undefined") {
    ({ main } = await import(pathToFileURL(scriptPath).href));
  } else {
    const { tsImport } = await import("tsx/esm/api");
    ({ main } = await tsImport(scriptPath, import.meta.url));
  }
  process.exitCode = await main(args);
}
