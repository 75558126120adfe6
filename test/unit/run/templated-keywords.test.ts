import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, inventory } from "./fake.ts";
import { loadPlaybook } from "../../../scripts/lib/playbook/load.ts";

// Ansible templates the boolean keywords per host at run time (issue 15 item 7).
const dir = mkdtempSync(join(tmpdir(), "templated-keywords-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function load(yaml: string) {
  const file = join(dir, `p${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, yaml);
  return loadPlaybook(file).plays;
}

test("ignore_errors, no_log, run_once, check_mode and diff from templates load and render per host", async () => {
  const plays = load(`
- hosts: all
  gather_facts: false
  tasks:
    - block:
        - name: once
          fake_cmd: { cmd: echo once }
          run_once: "{{ 'yes' }}"
      check_mode: "{{ ansible_check_mode }}"
    - name: may fail
      fake_cmd: { cmd: fail }
      ignore_errors: "{{ tolerate }}"
    - name: quiet
      debug: { msg: "word {{ tolerate }}" }
      no_log: "{{ tolerate | bool }}"
      diff: "{{ false }}"
`);
  const r = await run(plays, { inventory: inventory(["h1", "h2"], { h1: { tolerate: true }, h2: { tolerate: "no" } }) });
  const echoes = [...r.world.commands.values()].flat().filter((c) => c.command === "echo once");
  assert.equal(echoes.length, 1, "run_once rendered true");
  const h1 = r.results("h1");
  assert.deepEqual(h1.map((x) => [x.name, x.status, x.result.ignored ?? false]), [["once", "changed", false], ["may fail", "failed", true], ["quiet", "ok", false]]);
  assert.doesNotMatch(JSON.stringify(h1[2].result), /word/, "no_log rendered true on h1 hides the message");
  const h2 = r.results("h2");
  // run_once: h1 ran it and reported it; h2 shares its result without a line of its own.
  assert.deepEqual(h2.map((x) => [x.name, x.status]), [["may fail", "failed"]], "not ignored on h2: the host stops");
  assert.equal(r.summary.stats.h2.failures, 1);
});

test("a template rendering to something other than a boolean fails the task, naming the keyword", async () => {
  const plays = load(`
- hosts: all
  gather_facts: false
  tasks:
    - name: odd
      debug: { msg: hi }
      ignore_errors: "{{ 'sometimes' }}"
`);
  const r = await run(plays, { hosts: ["h1"] });
  const res = r.results("h1")[0];
  assert.equal(res.status, "failed");
  assert.match(res.msg ?? "", /ignore_errors/);
  assert.match(res.msg ?? "", /sometimes/);
});

test("a task skipped by when is not failed by a keyword template it could not render", async () => {
  const plays = load(`
- hosts: all
  gather_facts: false
  tasks:
    - name: skipped
      debug: { msg: hi }
      when: extra is defined
      ignore_errors: "{{ extra.tolerate }}"
    - name: runs
      debug: { msg: hi }
      when: extra is not defined
      ignore_errors: "{{ extra.tolerate }}"
`);
  const r = await run(plays, { hosts: ["h1"] });
  const [skipped, runs] = r.results("h1");
  assert.equal(skipped.status, "skipped");
  assert.equal(runs.status, "failed");
  assert.match(runs.msg ?? "", /extra/);
});
