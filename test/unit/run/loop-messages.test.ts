/**
 * A loop's result message as Ansible's TaskExecutor sets it: "All items completed", "One or more
 * items failed", "All items skipped" when every item was skipped (it said completed), and no
 * message for an empty list (skipped_reason says why).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { block, play, run, t } from "./fake.ts";

test("loop messages", async () => {
  const r = await run(
    play([
      block([
        t("debug", { msg: "{{ item }}" }, { name: "done", loop: [1, 2] }),
        t("debug", { msg: "{{ item }}" }, { name: "some", loop: [1, 2], when: ["item == 1"] }),
        t("debug", { msg: "{{ item }}" }, { name: "none", loop: [1, 2], when: ["item > 5"] }),
        t("debug", { msg: "{{ item }}" }, { name: "empty", loop: [] }),
      ]),
    ]),
    { hosts: ["h1"] },
  );
  const by = Object.fromEntries(r.results("h1").map((x) => [x.name, x]));
  assert.equal(by.done.data!.msg, "All items completed");
  assert.equal(by.some.data!.msg, "All items completed");
  assert.equal(by.none.status, "skipped");
  assert.equal(by.none.data!.msg, "All items skipped");
  assert.equal(by.empty.status, "skipped");
  assert.equal(by.empty.data!.msg, undefined);
  assert.equal(by.empty.data!.skipped_reason, "No items in the list");
});
