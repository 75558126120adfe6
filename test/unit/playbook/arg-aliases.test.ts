/** Aliases declared on the option (arg-aliases.ts), resolved by validate-args.ts, written out for editors. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import AjvModule from "ajv";
import { validateModuleArgs } from "../../../scripts/lib/playbook/validate-args.ts";
import { editorSchema } from "../../../scripts/lib/playbook/arg-aliases.ts";
import { parseYaml } from "../../../scripts/lib/yaml/load.ts";
import { UserError } from "../../../scripts/lib/errors.ts";
import { getModule } from "../../../scripts/lib/modules/registry.ts";

// ajv's CommonJS default export shape differs between loaders.
const Ajv = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as typeof AjvModule.default;
const where = { file: "t.yml", line: 1, col: 1 };
const lineinfile = getModule("lineinfile")!;
const sysctl = getModule("sysctl")!;

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof UserError);
    return e.format();
  }
  assert.fail("no error");
}

describe("option aliases", () => {
  test("the module receives the option, never the alias", () => {
    const out = validateModuleArgs(lineinfile, { dest: "/etc/x", value: "a=1", regex: "^a=" }, where, { templated: false });
    assert.equal(out.path, "/etc/x");
    assert.equal(out.line, "a=1");
    assert.equal(out.regexp, "^a=");
    for (const alias of ["dest", "value", "regex"]) assert.equal(alias in out, false, alias);
  });

  test("an alias alone satisfies a required option (sysctl key/val)", () => {
    const out = validateModuleArgs(sysctl, { key: "vm.swappiness", val: 10 }, where, { templated: false });
    assert.equal(out.name, "vm.swappiness");
    assert.equal(out.value, 10);
  });

  test("an option and its alias together are mutually exclusive, pointing at the second", () => {
    const args = parseYaml("path: /a\nline: x\ndest: /b\n", "args.yml") as Record<string, unknown>;
    assert.match(message(() => validateModuleArgs(lineinfile, args, where, { templated: false })), /^args\.yml:3:1: module lineinfile: options "path" and "dest" are mutually exclusive/);
  });

  test("an error about an option given by its alias names the alias and its line", () => {
    const args = parseYaml("dest: /a\nvalue: [1]\n", "args.yml") as Record<string, unknown>;
    assert.match(message(() => validateModuleArgs(lineinfile, args, where, { templated: false })), /^args\.yml:2:1: module lineinfile: option "value" must be a string/);
  });

  test("the editor schema accepts each alias and refuses two names of one option", () => {
    const validate = new (Ajv as unknown as new (o: object) => { compile(s: object): (d: unknown) => boolean })({ strict: false }).compile(editorSchema(lineinfile.schema));
    assert.equal(validate({ dest: "/a", line: "x" }), true);
    assert.equal(validate({ name: "/a", value: "x" }), true);
    assert.equal(validate({ path: "/a", dest: "/b" }), false);
    assert.equal(validate({ line: "x" }), false);
  });
});
