/**
 * retries/until re-reads variables that depend on the registered result on every attempt (as
 * Ansible templates each attempt afresh). A `vars:` template such as k3s-server's
 * "__k3s_not_ready" kept its first value, so a wait that should end once every node was Ready
 * retried until its timeout.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { play, run, t } from "./fake.ts";

test("until sees a vars: template recomputed from the latest registered result", async () => {
  const r = await run(
    play([
      t("fake_cmd", { cmd: "echo polled" }, {
        name: "poll",
        register: "r",
        vars: { __done: "{{ (r.attempts | default(0)) >= 3 }}" },
        until: ["__done | bool"],
        retries: 6,
        delay: 0,
      }),
    ]),
    { hosts: ["h1"] },
  );
  const [res] = r.results("h1");
  assert.notEqual(res.status, "failed", res.msg);
  assert.equal(res.data?.attempts, 3);
  assert.equal(r.world.commands.get("h1")?.filter((c) => c.command.startsWith("echo")).length, 3);
});
