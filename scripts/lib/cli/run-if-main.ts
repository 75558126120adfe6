/**
 * A script's main() runs when its file is the program (`node --import tsx scripts/x.ts ...`,
 * `deno run -A scripts/x.ts ...`), not when it is imported (the root entry files, tests).
 * The exit code becomes the process's.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

export function runIfMain(meta: ImportMeta, main: (args: string[]) => Promise<number>): void {
  const flag = (meta as ImportMeta & { main?: boolean }).main;
  const script = process.argv[1];
  const isMain = typeof flag === "boolean" ? flag /* Deno, Node >= 24 */ : script !== undefined && resolve(script) === fileURLToPath(meta.url);
  if (!isMain) return;
  const deno = (globalThis as unknown as { Deno?: { args: string[] } }).Deno;
  main(deno ? deno.args : process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
