/**
 * Compiled JSON Schema validators, cached on disk as ajv standalone code. Compiling the
 * playbook schema and every module's schema costs ~150 ms of ajv per run (plus ~50 ms to
 * import ajv); the cached code loads in well under a millisecond each and ajv is then not
 * even imported. The cache lives in node_modules/.cache/ (rebuilt when a schema, the ajv
 * version or the options change; skipped silently when it cannot be written).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { ErrorObject } from "ajv";
import { REPO_ROOT } from "../repo-root.ts";

const require = createRequire(import.meta.url);
const CACHE_DIR = join(REPO_ROOT, "node_modules", ".cache", "pi-cluster-runner", "ajv");
// Bump when the cached code's shape changes.
const FORMAT = "1";

/** A compiled validator, as ajv's (errors after a failed call). */
export type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

const OPTIONS = {
  /** Module arguments: Ansible-like coercion and defaults filled in. */
  args: { allErrors: true, coerceTypes: true, useDefaults: true, strict: false, verbose: true, validateSchema: false },
  /** Playbook structure: no changes to the data. */
  structure: { allErrors: true, strict: false, verbose: true, validateSchema: false },
} as const;

let ajvVersion: string | undefined;
function version(): string {
  if (ajvVersion === undefined) {
    try {
      ajvVersion = (JSON.parse(readFileSync(require.resolve("ajv/package.json"), "utf8")) as { version: string }).version;
    } catch {
      ajvVersion = "unknown";
    }
  }
  return ajvVersion;
}

/** Where the compiled code of a schema is cached. */
export function cacheFile(schema: object, kind: keyof typeof OPTIONS, refs: Record<string, object> = {}): string {
  const key = createHash("sha256")
    .update(`${FORMAT}\0${version()}\0${kind}\0${JSON.stringify(schema)}\0${JSON.stringify(refs)}`)
    .digest("hex")
    .slice(0, 32);
  return join(CACHE_DIR, `${key}.cjs`);
}

function load(code: string): Validator {
  const module: { exports: Record<string, unknown> } = { exports: {} };
  new Function("module", "exports", "require", code)(module, module.exports, require);
  return (module.exports.default ?? module.exports) as Validator;
}

/**
 * A validator for `schema` (with `refs`: other schemas by the id they are $ref'd as), from
 * the disk cache when possible.
 */
export function compileSchema(schema: object, kind: keyof typeof OPTIONS, refs: Record<string, object> = {}): Validator {
  const file = cacheFile(schema, kind, refs);
  try {
    return load(readFileSync(file, "utf8"));
  } catch {
    // Not cached yet (or unreadable): compile below.
  }
  const { Ajv } = require("ajv") as typeof import("ajv");
  const ajv = new Ajv({ ...OPTIONS[kind], code: { source: true } });
  for (const [id, s] of Object.entries(refs)) ajv.addSchema(s, id);
  const validate = ajv.compile(schema);
  try {
    const standaloneCode = (require("ajv/dist/standalone") as { default: (ajv: unknown, fn: unknown) => string }).default;
    const code = standaloneCode(ajv, validate);
    mkdirSync(CACHE_DIR, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, file);
  } catch {
    // A read-only checkout still works, just without the cache.
  }
  return validate as Validator;
}
