/**
 * Magic variables roles read to adapt to how they were run: ansible_run_tags (['all'] without
 * --tags, as Ansible), ansible_skip_tags and ansible_forks. They were undefined.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { block, play, run, t } from "./fake.ts";

const probe = () => play([block([t("debug", { msg: "{{ ansible_run_tags }} {{ ansible_skip_tags }} {{ ansible_forks }}" }, { name: "probe", tags: ["always"] })])]);

test("ansible_run_tags, ansible_skip_tags and ansible_forks", async () => {
  assert.equal((await run(probe(), { hosts: ["h1"] })).results("h1")[0].msg, "['all'] [] 50");
  const tagged = await run(probe(), { hosts: ["h1"], tags: { only: ["ntp"], skip: ["slow"] }, forks: 5 });
  assert.equal(tagged.results("h1")[0].msg, "['ntp'] ['slow'] 5");
});
