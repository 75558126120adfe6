/** validate-args.ts: Ansible-like coercion, defaults, templated values, secrets, messages. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { validateModuleArgs } from "../../../scripts/lib/playbook/validate-args.ts";
import { parseYaml } from "../../../scripts/lib/yaml/load.ts";
import { Secret } from "../../../scripts/lib/shell/secret.ts";
import { UserError } from "../../../scripts/lib/errors.ts";
import { fakeApt, fakeCopy, fakeSysctl } from "./fake-modules.ts";

const where = { file: "t.yml", line: 1, col: 1 };

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof UserError);
    return e.format();
  }
  assert.fail("no error");
}

describe("validateModuleArgs", () => {
  test("yes/no and numeric strings are coerced; defaults are filled", () => {
    const out = validateModuleArgs(fakeApt, { name: "vim", update_cache: "yes", cache_valid_time: "60" }, where, { templated: false });
    assert.deepEqual(out, { name: "vim", update_cache: true, cache_valid_time: 60, state: "present" });
  });

  test("does not modify the caller's object", () => {
    const args = { name: "vim", update_cache: "no" };
    validateModuleArgs(fakeApt, args, where, { templated: false });
    assert.equal(args.update_cache, "no");
  });

  test("templated strings skip type checks at load time, but not at run time", () => {
    const args = { name: "vim", cache_valid_time: "{{ ttl }}" };
    assert.equal(validateModuleArgs(fakeApt, args, where, { templated: true }).cache_valid_time, "{{ ttl }}");
    assert.match(message(() => validateModuleArgs(fakeApt, args, where, { templated: false })), /option "cache_valid_time" must be an integer, got string "\{\{ ttl \}\}"/);
  });

  test("Secrets are checked as strings and stay Secrets", () => {
    const secret = new Secret("s3cr3t-value");
    const out = validateModuleArgs(fakeCopy, { content: secret, dest: "/etc/x" }, where, { templated: false });
    assert.equal(out.content, secret);
  });

  test("a pattern error says what is allowed and shows the value (a secret only as 'a secret')", () => {
    const iface = { name: "iface", schema: { type: "object", additionalProperties: false, properties: { dev: { type: "string", pattern: "^[a-z0-9]+$", patternErrorMessage: "must be an interface name (a-z, 0-9)" }, raw: { type: "string", pattern: "^[a-z]+$" } } } };
    assert.equal(
      message(() => validateModuleArgs(iface, { dev: "eth0$(touch x)" }, where, { templated: false })),
      't.yml:1:1: module iface: option "dev" must be an interface name (a-z, 0-9); got "eth0$(touch x)"\n  hint: The options of "iface" are in its JSON Schema (scripts/lib/modules/, scripts/schemas/modules/).',
    );
    assert.match(message(() => validateModuleArgs(iface, { raw: "A1" }, where, { templated: false })), /option "raw" must match the pattern "\^\[a-z\]\+\$"; got "A1"/);
    const shown = message(() => validateModuleArgs(iface, { dev: new Secret("Hunter2-Pass") }, where, { templated: false }));
    assert.match(shown, /option "dev" must be an interface name \(a-z, 0-9\); got a secret/);
    assert.doesNotMatch(shown, /Hunter2/);
  });

  test("enum with did-you-mean", () => {
    assert.equal(
      message(() => validateModuleArgs(fakeApt, { name: "vim", state: "presnt" }, where, { templated: false })),
      't.yml:1:1: module apt: option "state" must be one of "present", "absent", "latest"; got "presnt"; did you mean "present"?\n  hint: The options of "apt" are in its JSON Schema (scripts/lib/modules/, scripts/schemas/modules/).',
    );
  });

  test("anyOf of types: string or list (numbers become strings, as Ansible)", () => {
    assert.equal(validateModuleArgs(fakeApt, { name: 3 }, where, { templated: false }).name, "3");
    assert.match(message(() => validateModuleArgs(fakeApt, { name: { a: 1 } }, where, { templated: false })), /option "name" must be a string or a list, got a mapping/);
  });

  test("required when (if/then) names the condition", () => {
    assert.match(message(() => validateModuleArgs(fakeSysctl, { name: "vm.swappiness" }, where, { templated: false })), /missing required option "value" \(when state is "present"\)/);
    assert.deepEqual(validateModuleArgs(fakeSysctl, { name: "x", state: "absent" }, where, { templated: false }), { name: "x", state: "absent" });
  });

  test("errors point at the option's key when the arguments came from YAML", () => {
    const args = parseYaml("dest: /x\nforce: maybe\n", "args.yml") as Record<string, unknown>;
    assert.match(message(() => validateModuleArgs(fakeCopy, args, where, { templated: true })), /^args\.yml:2:1: module copy: option "force"/);
  });

  test("several problems are all listed", () => {
    const text = message(() => validateModuleArgs(fakeCopy, { dst: "/x", force: "maybe" }, where, { templated: false }));
    assert.match(text, /unknown option "dst"; did you mean "dest"\?/);
    assert.match(text, /also: module copy: option "force" must be a boolean/);
    assert.match(text, /also: module copy: missing required option "dest"/);
  });
});
