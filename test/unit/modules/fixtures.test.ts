/**
 * Modules tested as data. Every test/unit/modules/<module>/<case>.json is one test:
 *
 * {
 *   "description": "optional sentence",
 *   "module": "optional: module name when it differs from the folder name",
 *   "args": { ... },            // the task's arguments; {"$secret": "text"} becomes a Secret;
 *                               // "$TMP" in a string becomes the case's controller temp dir
 *   "check": false,             // check mode (default false)
 *   "diff": true,               // diff mode (default true)
 *   "vars": { ... },            // host variables (facts under ansible_facts / ansible_*)
 *   "files": { "roles/x/files/a": "text" },   // controller files (copy/template src);
 *                                             // "base64:..." for binary (archives)
 *   "state": {                  // what the host's named probes find, as parsed data: probe
 *     "remote-file": { "content": "a\n", "mode": "0600" }  // name -> its state, defaults left
 *   },                          // out (test/support/probe-states.ts fills them in), or
 *                               // {"$result": {"rc": 1, "stderr": "..."}}: what the command
 *                               // returned, given to the probe's parser. Names: the `name` of
 *                               // each probe in scripts/lib/modules/probes.ts.
 *   "responses": [              // answers to the other commands (those that change state,
 *                               // and reads not yet behind a named probe), first match wins
 *                               // (unused ones preferred)
 *     { "match": "substring or /regex/flags", "rc": 0, "stdout": "...", "stderr": "", "once": false }
 *   ],
 *   "expect": {                 // every key optional; only given keys are asserted
 *     "invalid": "substring of the UserError from validate-args.ts (args rejected by the schema)",
 *     "changed": true,
 *     "reason": "exact text or /regex/flags", // the plan's no-op reason (flags: dgimsuy only)
 *     "msg": "exact text or /regex/",         // apply's msg, else the plan's
 *     "skipped": "exact text or /regex/",
 *     "commands": ["exact command or /regex/", ...],  // ALL commands of plan+apply, in order
 *     "commandsInclude": ["substring or /regex/", ...], // each appears in some command
 *     "commandsExclude": ["substring or /regex/", ...], // none appears in any command
 *     "commandCount": 1,                      // number of round trips of plan+apply
 *     "stdin": ["substring or /regex/", ...], // each appears in some command's stdin
 *     "diff": [{ "before": "...", "after": "...", "before_header": "...", "after_header": "..." }],
 *     "result": { ... },                      // subset of the merged register result
 *     "error": "substring of the ModuleFailure/UserError message"
 *   }
 * }
 *
 * The harness validates args as the executor does (validateModuleArgs: defaults filled in,
 * Ansible booleans coerced, Secrets kept), runs the executor's own plan → apply step
 * (planThenApply: apply only when the plan says changed and the case is not check mode; in
 * check mode a command it cannot probe is skipped), and asserts the expectations. An
 * unanswered command fails the case with the command printed: a named probe without a
 * "state" entry, or another command that no response matches. A probe answered from "state"
 * still counts as its command (commands, commandCount). A response's "stdout" may be given as
 * an array of lines (joined with "\n", plus a final newline). The probes' parsers have their
 * own cases (test/unit/probes/), and test/e2e/probes.test.ts runs each named probe on a real
 * shell, so a fixture's state has the shape the real probe returns.
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import AjvModule from "ajv";
import { validateModuleArgs } from "../../../scripts/lib/playbook/validate-args.ts";
import { allModules, getModule } from "../../../scripts/lib/modules/registry.ts";
import { Secret } from "../../../scripts/lib/shell/secret.ts";
import { unframeUpload } from "../../../scripts/lib/modules/support/upload.ts";
import { planThenApply, type ModuleStep } from "../../../scripts/lib/modules/plan-apply.ts";
import { FakeContext, matcher } from "../../support/fake-context.ts";
import type { ScriptedResponse } from "../../support/fake-context.ts";

const here = dirname(fileURLToPath(import.meta.url));
// ajv's CommonJS default export shape differs between loaders.
const Ajv = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as typeof AjvModule.default;
const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: false });

interface Fixture {
  description?: string;
  module?: string;
  args?: Record<string, unknown>;
  check?: boolean;
  diff?: boolean;
  vars?: Record<string, unknown>;
  files?: Record<string, string>;
  state?: Record<string, unknown>;
  responses?: Array<Omit<ScriptedResponse, "stdout"> & { stdout?: string | string[] }>;
  expect: {
    invalid?: string;
    changed?: boolean;
    reason?: string;
    msg?: string;
    skipped?: string;
    commands?: string[];
    commandsInclude?: string[];
    commandsExclude?: string[];
    commandCount?: number;
    stdin?: string[];
    diff?: unknown[];
    result?: Record<string, unknown>;
    error?: string;
  };
}

/** {"$secret": "x"} -> Secret("x"), recursively. */
function reviveSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reviveSecrets);
  if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (Object.keys(obj).length === 1 && typeof obj.$secret === "string") return new Secret(obj.$secret);
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, reviveSecrets(v)]));
  }
  return value;
}

function assertText(actual: string | undefined, expected: string, what: string): void {
  const isRegex = /^\/(.*)\/([dgimsuy]*)$/s.test(expected);
  const ok = actual !== undefined && (isRegex ? matcher(expected)(actual) : actual === expected);
  assert.ok(ok, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/** Deep subset: every key of expected is in actual with an equal (or subset) value. */
function assertSubset(actual: unknown, expected: unknown, path: string): void {
  if (expected && typeof expected === "object" && !Array.isArray(expected)) {
    assert.ok(actual && typeof actual === "object", `${path}: expected an object, got ${JSON.stringify(actual)}`);
    for (const [k, v] of Object.entries(expected)) assertSubset((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
  } else {
    assert.deepEqual(actual, expected, `${path}`);
  }
}

/** A command's stdin as text; an upload (support/upload.ts) as the content the target keeps. */
function stdinText(stdin: string | Uint8Array | undefined): string {
  if (stdin === undefined) return "";
  if (typeof stdin === "string") return stdin;
  return Buffer.from(unframeUpload(stdin) ?? stdin).toString("utf8");
}

async function runFixture(moduleName: string, fixture: Fixture): Promise<void> {
  const module = getModule(fixture.module ?? moduleName);
  assert.ok(module, `no module named ${fixture.module ?? moduleName}`);
  const expect = fixture.expect;
  const ctx = new FakeContext({
    check: fixture.check ?? false,
    diff: fixture.diff ?? true,
    vars: fixture.vars,
    files: fixture.files,
    state: fixture.state,
    responses: (fixture.responses ?? []).map((r) => ({ ...r, stdout: Array.isArray(r.stdout) ? r.stdout.join("\n") + "\n" : r.stdout })),
  });
  const rawArgs = reviveSecrets(JSON.parse(JSON.stringify(fixture.args ?? {}).replaceAll("$TMP", ctx.root))) as Record<string, unknown>;

  let args: Record<string, unknown>;
  try {
    args = validateModuleArgs(module, rawArgs, { file: `${moduleName}.json` }, { templated: false });
  } catch (e) {
    ctx.cleanup();
    if (expect.invalid === undefined) throw e;
    assert.ok((e as Error).message.includes(expect.invalid), `validation error ${JSON.stringify((e as Error).message)} lacks ${JSON.stringify(expect.invalid)}`);
    return;
  }
  if (expect.invalid !== undefined) ctx.cleanup();
  assert.equal(expect.invalid, undefined, `arguments should be rejected by the ${module.name} schema: ${JSON.stringify(fixture.args)}`);

  try {
    let step: ModuleStep | undefined;
    let result: Record<string, unknown> = {};
    let error: Error | undefined;
    try {
      step = await planThenApply(module, args, ctx);
      result = step.result;
    } catch (e) {
      error = e as Error;
      if ((e as { result?: Record<string, unknown> }).result) result = { ...(e as { result: Record<string, unknown> }).result };
    }
    const issued = ctx.commands.map((c) => c.command);
    const dump = `\ncommands issued:\n${issued.map((c, i) => `--- ${i}\n${c}`).join("\n")}`;

    if (expect.error !== undefined) {
      assert.ok(error, `expected an error containing ${JSON.stringify(expect.error)}, got none${dump}`);
      assert.ok(error.message.includes(expect.error), `error ${JSON.stringify(error.message)} lacks ${JSON.stringify(expect.error)}`);
    } else if (error) {
      throw new Error(`${error.message}${dump}`, { cause: error });
    }
    if (expect.changed !== undefined) assert.equal(step?.changed, expect.changed, `changed${dump}`);
    if (expect.reason !== undefined) assertText(step?.reason, expect.reason, "reason");
    if (expect.msg !== undefined) assertText(step?.msg, expect.msg, "msg");
    if (expect.skipped !== undefined) assertText(step?.skipped, expect.skipped, "skipped");
    if (expect.commands !== undefined) {
      assert.equal(issued.length, expect.commands.length, `number of commands${dump}`);
      expect.commands.forEach((c, i) => assertText(issued[i], c, `command ${i}${dump}`));
    }
    if (expect.commandCount !== undefined) assert.equal(issued.length, expect.commandCount, `number of commands${dump}`);
    for (const c of expect.commandsInclude ?? []) {
      assert.ok(issued.some(matcher(c)), `no command matches ${JSON.stringify(c)}${dump}`);
    }
    for (const c of expect.commandsExclude ?? []) {
      assert.ok(!issued.some(matcher(c)), `a command matches ${JSON.stringify(c)}${dump}`);
    }
    for (const s of expect.stdin ?? []) {
      assert.ok(ctx.commands.some((c) => matcher(s)(stdinText(c.stdin))), `no stdin matches ${JSON.stringify(s)}`);
    }
    if (expect.diff !== undefined) assert.deepEqual(step?.diff ?? [], expect.diff, "diff");
    if (expect.result !== undefined) assertSubset(result, expect.result, "result");
  } finally {
    ctx.cleanup();
  }
}

const moduleDirs = readdirSync(here).filter((d) => statSync(join(here, d)).isDirectory()).sort();
for (const dir of moduleDirs) {
  describe(`module ${dir}`, () => {
    for (const file of readdirSync(join(here, dir)).filter((f) => f.endsWith(".json")).sort()) {
      const fixture = JSON.parse(readFileSync(join(here, dir, file), "utf8")) as Fixture;
      test(`${file.replace(/\.json$/, "")}${fixture.description ? `: ${fixture.description}` : ""}`, () => runFixture(dir, fixture));
    }
  });
}

test("every registered module's schema compiles and forbids unknown options", () => {
  for (const module of allModules()) {
    assert.doesNotThrow(() => ajv.compile(module.schema), `schema of ${module.name}`);
    assert.equal(module.schema.additionalProperties, false, `${module.name}: additionalProperties must be false`);
  }
});

test("every registered module has fixtures", () => {
  const hasFixtures = (name: string) => existsSync(join(here, name)) && readdirSync(join(here, name)).some((f) => f.endsWith(".json"));
  const missing = allModules().map((m) => m.name).filter((name) => !hasFixtures(name));
  assert.deepEqual(missing, [], "modules without test/unit/modules/<name>/*.json");
});
