/**
 * Error positions: every user mistake is reported at its exact file:line:col with a useful
 * message, and as a UserError (printed without a stack).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import "./fake-modules.ts";
import { loadPlaybook } from "../../../scripts/lib/playbook/load.ts";
import { UserError } from "../../../scripts/lib/errors.ts";

const dir = fileURLToPath(new URL("./fixtures/errors/", import.meta.url));

function errorOf(name: string): UserError {
  try {
    loadPlaybook(join(dir, name));
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    return e;
  }
  assert.fail(`${name} loaded without error`);
}

function firstLine(name: string): string {
  return errorOf(name).format().split("\n")[0].replace(dir, "");
}

describe("error positions", () => {
  test("YAML syntax error", () => {
    assert.equal(firstLine("yaml-syntax.yml"), "yaml-syntax.yml:5:1: YAML syntax error: Sequence item without - indicator");
  });
  test("unknown task keyword with did-you-mean", () => {
    assert.equal(firstLine("unknown-keyword.yml"), 'unknown-keyword.yml:5:7: unknown task keyword "whne"; did you mean "when"?');
  });
  test("unknown module with did-you-mean", () => {
    assert.equal(firstLine("unknown-module.yml"), 'unknown-module.yml:4:7: Unknown module "coppy"; did you mean "copy"?');
  });
  test("unknown module option with did-you-mean", () => {
    assert.equal(firstLine("unknown-option.yml"), 'unknown-option.yml:6:9: module copy: unknown option "dst"; did you mean "dest"?');
  });
  test("wrong type", () => {
    assert.equal(firstLine("wrong-type.yml"), 'wrong-type.yml:11:9: module copy: option "force" must be a boolean (yes/no), got string "maybe"');
  });
  test("missing required option", () => {
    assert.equal(firstLine("missing-required.yml"), 'missing-required.yml:4:7: module copy: missing required option "dest"');
  });
  test("mutually exclusive options (not: {required: [a, b]}) point at the second one", () => {
    assert.equal(firstLine("mutually-exclusive.yml"), 'mutually-exclusive.yml:6:9: module copy: options "src" and "content" are mutually exclusive');
  });
  test("unknown option in free-form k=v points at the module key", () => {
    assert.equal(firstLine("freeform-kv.yml"), 'freeform-kv.yml:4:7: module copy: unknown option "mdoe"; did you mean "mode"?');
  });
  test("unknown play keyword (schema) with did-you-mean", () => {
    assert.equal(firstLine("unknown-play-keyword.yml"), 'unknown-play-keyword.yml:2:3: unknown play keyword "gather_fact"; did you mean "gather_facts"?');
  });
  test("keyword of the wrong type (schema)", () => {
    assert.equal(firstLine("keyword-type.yml"), 'keyword-type.yml:5:7: "when" must be a string or a boolean (yes/no) or a list, got a mapping');
  });
  test("yes/no keyword with another value", () => {
    assert.equal(firstLine("bad-become.yml"), 'bad-become.yml:2:3: "become" must be yes or no (true/false), got string "maybe"');
  });
  test("serial that is neither a number nor a percentage: at load time, with its place", () => {
    assert.equal(firstLine("bad-serial.yml"), 'bad-serial.yml:3:3: "serial" must be a number, a percentage or a list of those, got "half"');
  });
  test("two modules in one task", () => {
    assert.equal(firstLine("two-modules.yml"), 'two-modules.yml:5:7: conflicting modules in one task: "command" and "shell"');
  });
  test("missing role names the places searched", () => {
    const e = errorOf("missing-role.yml");
    assert.match(e.format(), /missing-role\.yml:3:7: Role "nosuchrole" not found\n  hint: Looked in: .*roles\/nosuchrole/);
  });
  test("a misspelt role: did you mean the role that exists", () => {
    const site = fileURLToPath(new URL("./fixtures/site/", import.meta.url));
    const tmp = mkdtempSync(join(site, "tmp-"));
    try {
      writeFileSync(join(tmp, "typo.yml"), "- hosts: all\n  roles: [comon]\n");
      assert.throws(() => loadPlaybook(join(tmp, "typo.yml")), (e: Error) => e instanceof UserError && /^Role "comon" not found; did you mean "common"\?$/.test(e.message));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
  test("a task file given as a playbook says so", () => {
    assert.ok(firstLine("../site/playbooks/tasks/extra.yml").endsWith('/fixtures/site/playbooks/tasks/extra.yml:1:3: this looks like a list of tasks, not a playbook (no "hosts:")'));
  });
  test("errors are parse errors (exit code 4)", () => {
    assert.equal(errorOf("unknown-module.yml").exitCode, 4);
  });
});
