/**
 * wait_for_connection is a controller action the executor runs; the loader must accept it by
 * every name (it once rejected it as an unknown module) and validate its options.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPlaybook } from "../../../scripts/lib/playbook/load.ts";
import { UserError } from "../../../scripts/lib/errors.ts";

function load(tasks: string): ReturnType<typeof loadPlaybook> {
  const dir = mkdtempSync(join(tmpdir(), "wfc-"));
  try {
    const file = join(dir, "play.yml");
    writeFileSync(file, `- hosts: all\n  gather_facts: false\n  tasks:\n${tasks}`);
    return loadPlaybook(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("wait_for_connection loads by short name, FQCN and k=v form", () => {
  const pb = load(
    [
      "    - wait_for_connection:",
      "        timeout: 30",
      "    - ansible.builtin.wait_for_connection:",
      "        delay: 1",
      "        sleep: 2",
      "        connect_timeout: 5",
      "    - ansible.legacy.wait_for_connection: timeout=10",
      "",
    ].join("\n"),
  );
  const tasks = pb.plays[0].items as unknown as Array<{ module: string; args: Record<string, unknown> }>;
  assert.deepEqual(tasks.map((t) => t.module), ["wait_for_connection", "wait_for_connection", "wait_for_connection"]);
  assert.equal(tasks[0].args.timeout, 30);
  assert.equal(tasks[1].args.sleep, 2);
  assert.equal(String(tasks[2].args.timeout), "10");
});

test("wait_for_connection rejects an unknown option, with its position", () => {
  assert.throws(
    () => load("    - wait_for_connection:\n        timout: 30\n"),
    (e: unknown) => e instanceof UserError && /unknown option "timout"/.test(e.message) && /play\.yml$/.test(e.where?.file ?? "") && e.where?.line === 4,
  );
});
