/**
 * A task's name is templated when the task starts, with the first host's variables (task vars,
 * facts, registered results), as Ansible's strategy does before its task-start callback; the
 * json report and the banner show that name. An undefined variable leaves the name as written.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { JsonReport } from "../../../scripts/lib/report/json.ts";
import { PlainReport } from "../../../scripts/lib/report/plain.ts";
import { block, play, run, t } from "./fake.ts";

test("names are templated at task start; the reports show the templated name", async () => {
  const r = await run(
    play([
      block([
        t("debug", { msg: "x" }, { name: "OS tasks ({{ action_ }})", vars: { action_: "{% if state == 'present' %}setup{% else %}teardown{% endif %}" } }),
        t("debug", { msg: "x" }, { name: "for {{ inventory_hostname }}" }),
        t("debug", { msg: "x" }, { name: "keeps {{ nowhere }} as written" }),
        t("debug", { msg: "x" }, { name: "plain name" }),
      ]),
    ], { vars: { state: "present" } }),
    { hosts: ["h1", "h2"] },
  );
  const names = r.events.flatMap((e) => (e.type === "task-start" ? [e.name ?? e.task.name] : []));
  assert.deepEqual(names, ["OS tasks (setup)", "for h1", "keeps {{ nowhere }} as written", "plain name"]);
  const json = new JsonReport();
  for (const e of r.events) json.handle(e);
  assert.deepEqual(json.data.plays[0].tasks.map((x) => x.task.name), names);
  let out = "";
  const plain = new PlainReport({ write: (text) => (out += text), verbosity: 0, diff: false, color: false });
  for (const e of r.events) plain.handle(e);
  assert.match(out, /TASK \[OS tasks \(setup\)\]/);
});
