/**
 * Writes every module's argument schema to scripts/schemas/modules/<name>.json, for editors
 * (YAML language servers) and readers. The schemas live in the modules; this copies them
 * out, with each alias spelt out as a property of its own (editors do not know `aliases`). Run: `node --import tsx scripts/gen-schemas.ts` (or `deno run -A`), or with
 * `--check` to fail when a written file is out of date.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { allModules } from "./lib/modules/registry.ts";
import { editorSchema } from "./lib/playbook/arg-aliases.ts";

const outDir = join(dirname(fileURLToPath(import.meta.url)), "schemas", "modules");
const check = process.argv.includes("--check");
mkdirSync(outDir, { recursive: true });
const stale: string[] = [];
for (const module of allModules()) {
  const file = join(outDir, `${module.name}.json`);
  const text = JSON.stringify({ $id: `modules/${module.name}.json`, ...editorSchema(module.schema) }, null, 2) + "\n";
  if (check) {
    if (!existsSync(file) || readFileSync(file, "utf8") !== text) stale.push(file);
  } else {
    writeFileSync(file, text);
  }
}
if (check && stale.length > 0) {
  console.error(`Out of date (run node --import tsx scripts/gen-schemas.ts):\n  ${stale.join("\n  ")}`);
  process.exit(1);
}
if (!check) console.log(`wrote ${allModules().length} schemas to ${outDir}`);
