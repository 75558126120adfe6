/** Tag selection with Ansible's semantics, as a table: task tags x --tags x --skip-tags. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { selectedByTags, splitTagList } from "../../../scripts/lib/playbook/tags.ts";

const cases: Array<[string[], string[], string[], boolean]> = [
  // task tags, --tags, --skip-tags, runs?
  [[], [], [], true],
  [["ntp"], [], [], true],
  [["never"], [], [], false],
  [["always"], [], [], true],
  [["ntp"], ["ntp"], [], true],
  [["k3s"], ["ntp"], [], false],
  [[], ["ntp"], [], false],
  [["always"], ["ntp"], [], true],
  [["never", "debug"], ["debug"], [], true],
  [["never"], ["all"], [], false],
  [["never"], ["never"], [], true],
  [["ntp"], ["all"], [], true],
  [["ntp"], ["tagged"], [], true],
  [[], ["tagged"], [], false],
  [["never", "x"], ["tagged"], [], false],
  [[], ["untagged"], [], true],
  [["ntp"], ["untagged"], [], false],
  [["ntp"], [], ["ntp"], false],
  [["ntp", "base"], ["base"], ["ntp"], false], // --skip-tags wins
  [["always"], [], ["always"], false],
  [["always"], [], ["all"], true],
  [["always"], [], ["all", "always"], false],
  [["ntp"], [], ["all"], false],
  [["ntp"], [], ["tagged"], false],
  [[], [], ["tagged"], true],
  [[], [], ["untagged"], false],
  [["always"], ["ntp"], ["always"], false],
];

for (const [taskTags, only, skip, expected] of cases) {
  test(`tags=${JSON.stringify(taskTags)} --tags=${only.join(",")} --skip-tags=${skip.join(",")} -> ${expected}`, () => {
    assert.equal(selectedByTags(taskTags, { only, skip }), expected);
  });
}

test("a role's name selects its tasks by name, without making them tagged (Ansible gives roles no tags)", () => {
  assert.equal(selectedByTags([], { only: ["ntp"], skip: [] }, ["ntp"]), true);
  assert.equal(selectedByTags([], { only: [], skip: ["ntp"] }, ["ntp"]), false);
  assert.equal(selectedByTags([], { only: ["untagged"], skip: [] }, ["ntp"]), true);
  assert.equal(selectedByTags([], { only: ["tagged"], skip: [] }, ["ntp"]), false);
  assert.equal(selectedByTags(["x"], { only: ["k3s"], skip: [] }, ["ntp"]), false);
});

test("splitTagList splits repeated comma lists", () => {
  assert.deepEqual(splitTagList(["a,b", " c ", ",,d"]), ["a", "b", "c", "d"]);
});
