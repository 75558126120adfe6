import { test } from "node:test";
import assert from "node:assert/strict";
import { run, play, t, block } from "./fake.ts";
import type { Item, RoleContext } from "../../../scripts/lib/playbook/types.ts";

// The real loaders parse the file again on every call: fresh task objects each time, as here.
const role: RoleContext = { name: "k3s", path: "/nonexistent/roles/k3s", defaults: {}, vars: {} };
const loadRole = (calls: string[]) => (name: string): Item[] => {
  calls.push(name);
  return [block([
    t("fake_cmd", { cmd: "echo token" }, { name: "make token", runOnce: true, register: "tok", role }),
    t("debug", { msg: "{{ tok.stdout }}" }, { name: "show", role }),
  ], [], [], { role, origin: "include_role" })];
};
const echoes = (r: Awaited<ReturnType<typeof run>>) => [...r.world.commands.values()].flat().filter((c) => c.command === "echo token").length;

test("run_once inside include_role runs once for the batch; every host gets its result", async () => {
  const calls: string[] = [];
  const r = await run(play([t("include_role", { name: "k3s" }, { name: "inc" })]), { hosts: ["h1", "h2", "h3"], loadIncludedRole: loadRole(calls) });
  assert.equal(echoes(r), 1);
  assert.equal(calls.length, 1, "the role is loaded once for the hosts that include it alike");
  for (const h of ["h1", "h2", "h3"]) assert.equal(r.results(h).find((x) => x.name === "show")?.msg, "token", h);
});

test("run_once inside include_tasks runs once; a different loop item is its own include", async () => {
  const calls: string[] = [];
  const p = play([t("include_tasks", { file: "x.yml" }, { name: "inc", loop: ["a", "b"] })]);
  const r = await run(p, { hosts: ["h1", "h2"], loadIncludedTasks: (file: string) => loadRole(calls)(file) });
  assert.equal(echoes(r), 2, "once per loop item, not per host");
  assert.equal(calls.length, 2);
});
