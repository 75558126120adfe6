/** boolean.ts: Ansible's yes/no words, and the readers that share them. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseBoolean } from "../../scripts/lib/boolean.ts";
import { validateModuleArgs } from "../../scripts/lib/playbook/validate-args.ts";
import { connectionSettingsFromVars } from "../../scripts/lib/transport/connect.ts";
import { getModule } from "../../scripts/lib/modules/registry.ts";

test("Ansible's words (convert_bool.py), any case, blanks ignored; anything else is undefined", () => {
  for (const word of ["y", "yes", "on", "1", "true", "t", " YES ", "True", 1, true]) assert.equal(parseBoolean(word), true, String(word));
  for (const word of ["n", "no", "off", "0", "false", "f", "No", 0, false]) assert.equal(parseBoolean(word), false, String(word));
  for (const other of ["", "maybe", "2", 2, null, undefined, [], {}]) assert.equal(parseBoolean(other), undefined, JSON.stringify(other));
});

test("module options take the same words as every other reader (t/f included)", () => {
  const copy = getModule("copy")!;
  const out = validateModuleArgs(copy, { content: "x", dest: "/x", backup: "t", force: "F" }, { file: "t.yml" }, { templated: false });
  assert.equal(out.backup, true);
  assert.equal(out.force, false);
});

test("connection variables take the same words", () => {
  const settings = (v: string) => connectionSettingsFromVars("h", { ansible_host_key_checking: v });
  assert.equal(settings("f").strictHostKeyChecking, false);
  assert.equal(settings("Yes").strictHostKeyChecking, true);
});
