/**
 * Ansible's TaskExecutor keeps an undefined loop's error aside and evaluates `when` once without
 * an item: a false `when` skips the task, a true one (or none) fails it with the loop's error.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { play, run, t } from "./fake.ts";

test("an undefined loop under a false when skips; under a true when (or none) it fails naming the variable", async () => {
  const r = await run(
    play([
      t("debug", { msg: "{{ item }}" }, { name: "guarded", loop: "{{ extra_manifests }}", when: ["extra_manifests is defined"] }),
      t("debug", { msg: "{{ item }}" }, { name: "true when", loop: "{{ extra_manifests }}", when: ["true"], ignoreErrors: true }),
      t("debug", { msg: "{{ item }}" }, { name: "no when", loop: "{{ extra_manifests }}", ignoreErrors: true }),
      t("debug", { msg: "{{ item }}" }, { name: "when on item", loop: "{{ extra_manifests }}", when: ["item != 'x'"], ignoreErrors: true }),
    ]),
    { hosts: ["h1"] },
  );
  const res = Object.fromEntries(r.results("h1").map((x) => [x.name, x]));
  assert.equal(res.guarded.status, "skipped", res.guarded.msg);
  for (const name of ["true when", "no when"]) {
    assert.equal(res[name].status, "failed");
    assert.match(res[name].msg ?? "", /extra_manifests/);
  }
  // The item is undefined while the loop is: Ansible fails on the conditional.
  assert.equal(res["when on item"].status, "failed");
  assert.match(res["when on item"].msg ?? "", /item/);
});
