import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync, chmodSync } from "node:fs";
import { commit } from "../../../scripts/lib/inventory-edit/commit.ts";
import { UserError } from "../../../scripts/lib/errors.ts";
import { writeTree } from "../inventory/tree.ts";

test("commit writes atomically with a .bak, keeping the file's mode", () => {
  const t = writeTree({ "hosts.yml": "all:\n" });
  try {
    chmodSync(t.path("hosts.yml"), 0o640);
    commit({ inventoryFile: t.path("hosts.yml"), writes: [{ path: t.path("hosts.yml"), before: "all:\n", after: "all:\n  hosts:\n" }], renames: [], notes: [] });
    assert.equal(readFileSync(t.path("hosts.yml"), "utf8"), "all:\n  hosts:\n");
    assert.equal(readFileSync(t.path("hosts.yml.bak"), "utf8"), "all:\n");
    assert.equal(statSync(t.path("hosts.yml")).mode & 0o777, 0o640);
  } finally {
    t.remove();
  }
});

test("a step that fails undoes the ones before it: nothing is left half edited", () => {
  const t = writeTree({ "hosts.yml": "all:\n", "host_vars/a.yml": "x: 1\n", "host_vars/b.yml": "x: 2\n", "host_vars/c.yml": "mine\n" });
  try {
    assert.throws(
      () =>
        commit({
          inventoryFile: t.path("hosts.yml"),
          writes: [{ path: t.path("hosts.yml"), before: "all:\n", after: "changed:\n" }],
          // The first rename works, the second finds its target taken (as if made meanwhile).
          renames: [
            { from: t.path("host_vars/a.yml"), to: t.path("host_vars/z.yml") },
            { from: t.path("host_vars/b.yml"), to: t.path("host_vars/c.yml") },
          ],
          notes: [],
        }),
      (e: unknown) => e instanceof UserError && /appeared meanwhile/.test(e.message),
    );
    assert.equal(readFileSync(t.path("hosts.yml"), "utf8"), "all:\n");
    assert.equal(readFileSync(t.path("host_vars/a.yml"), "utf8"), "x: 1\n");
    assert.equal(existsSync(t.path("host_vars/z.yml")), false);
    assert.equal(readFileSync(t.path("host_vars/c.yml"), "utf8"), "mine\n");
  } finally {
    t.remove();
  }
});
