/**
 * with_subelements and lookup('subelements') as Ansible 2.14's (singleplatform-eng.users pairs
 * each user with each of its keys this way): [parent without the list, element] pairs,
 * skip_missing, nested keys, and Ansible's errors.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Templar } from "../../../scripts/lib/template/templar.ts";
import { loadTaskFile } from "../../../scripts/lib/playbook/load.ts";
import { block, play, run, t } from "../run/fake.ts";

const users = [
  { username: "ada", keys: ["k1", "k2"], meta: { groups: ["adm"] } },
  { username: "bob" },
  { username: "cy", keys: [] },
];

describe("lookup('subelements')", () => {
  const templar = () => new Templar({ users });

  test("one pair per element; the parent in a pair has no such key, as Ansible pops it", () => {
    assert.deepEqual(templar().render("{{ query('subelements', users, 'keys', {'skip_missing': True}) }}"), [
      [{ username: "ada", meta: { groups: ["adm"] } }, "k1"],
      [{ username: "ada", meta: { groups: ["adm"] } }, "k2"],
    ]);
    // The variable itself is left whole.
    assert.deepEqual(templar().render("{{ users[0]['keys'] }}"), ["k1", "k2"]);
  });

  test("a nested key (a.b)", () => {
    assert.deepEqual(templar().render("{{ query('subelements', users, 'meta.groups', {'skip_missing': true}) | map(attribute='1') | list }}"), ["adm"]);
  });

  test("a parent without the key fails unless skip_missing, naming the key", () => {
    assert.throws(() => templar().render("{{ lookup('subelements', users, 'keys') }}"), /could not find 'keys' key in iterated item/);
  });

  test("a key that is not a list fails", () => {
    assert.throws(() => new Templar({ v: [{ a: "x" }] }).render("{{ lookup('subelements', v, 'a') }}"), /should point to a list/);
  });
});

describe("with_subelements", () => {
  test("the loader takes it as a loop over the lookup; the task runs once per pair", async () => {
    const dir = mkdtempSync(join(tmpdir(), "subelements-"));
    try {
      const file = join(dir, "tasks.yml");
      writeFileSync(file, "- name: keys\n  debug: msg='{{ item.0.username }} {{ item.1 }}'\n  with_subelements:\n    - '{{ users }}'\n    - keys\n    - skip_missing: true\n");
      const task = loadTaskFile(file, { baseDir: dir, inherited: { tags: [] } })[0];
      assert.equal(task.kind === "task" && task.loopFrom, "with_subelements");
      const r = await run(
        play([
          block([
            t("debug", { msg: "{{ item.0.username }} {{ item.1 }}" }, { name: "keys", loop: ["{{ users }}", "keys", { skip_missing: true }], loopFrom: "with_subelements" }),
            t("debug", { msg: "{{ item }}" }, { name: "strict", loop: ["{{ users }}", "keys"], loopFrom: "with_subelements", ignoreErrors: true }),
          ]),
        ], { vars: { users } }),
        { hosts: ["h1"] },
      );
      const res = Object.fromEntries(r.results("h1").map((x) => [x.name, x]));
      assert.deepEqual((res.keys.data!.results as Array<{ msg: string }>).map((x) => x.msg), ["ada k1", "ada k2"]);
      assert.equal(res.strict.status, "failed");
      assert.match(res.strict.msg ?? "", /could not find 'keys' key/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
