/**
 * A module's `ansible_facts` join the host's facts, as Ansible merges them: namespaced under
 * ansible_facts without the "ansible_" prefix, injected as top-level variables as returned,
 * kept for the run, overridden by a later gathering of the same fact, gone after clear_facts.
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { run, play, t } from "./fake.ts";
import type { ModuleDefinition } from "../../../scripts/lib/modules/types.ts";
import { registerModule } from "../../../scripts/lib/modules/registry.ts";

const factsModule: ModuleDefinition<{ n: string }> = {
  name: "fake_facts",
  aliases: [],
  schema: { type: "object", additionalProperties: false, properties: { n: { type: "string" } }, required: ["n"] },
  async plan(args) {
    return { changed: false, reason: "read", result: { ansible_facts: { services: { [args.n]: { state: "running" } }, ansible_hostname: `h-${args.n}`, ansible_connection: "evil" } } };
  },
};
registerModule(factsModule);

describe("facts returned by a module", () => {
  test("are visible as ansible_facts.<name> and <name>, in later plays too", async () => {
    const show = t("debug", { msg: "{{ ansible_facts.services.ssh.state }}/{{ services.ssh.state }}/{{ ansible_facts.hostname }}/{{ ansible_hostname }}" }, { name: "show" });
    const r = await run([play([t("fake_facts", { n: "ssh" }, { name: "read" }), show], { gatherFacts: true }), play([show])], { hosts: ["h1"] });
    assert.deepEqual(r.results("h1").filter((x) => x.name === "show").map((x) => x.msg), ["running/running/h-ssh/h-ssh", "running/running/h-ssh/h-ssh"]);
  });

  test("never override connection variables", async () => {
    const r = await run(play([t("fake_facts", { n: "ssh" }), t("debug", { msg: "{{ ansible_connection | default('unset') }}" }, { name: "show" })]), { hosts: ["h1"] });
    assert.equal(r.results("h1").find((x) => x.name === "show")!.msg, "unset");
  });

  test("a later gathering wins for the same fact; the others stay", async () => {
    const r = await run(play([t("fake_facts", { n: "ssh" }), t("setup", {}), t("debug", { msg: "{{ ansible_facts.hostname }}/{{ ansible_facts.services.ssh.state }}" }, { name: "show" })]), { hosts: ["h1"] });
    assert.equal(r.results("h1").find((x) => x.name === "show")!.msg, "fake/running");
  });

  test("meta: clear_facts forgets them", async () => {
    const r = await run(play([t("fake_facts", { n: "ssh" }), t("meta", { _raw_params: "clear_facts" }), t("debug", { msg: "{{ 'yes' if services is defined else 'no' }}" }, { name: "show" })]), { hosts: ["h1"] });
    assert.equal(r.results("h1").find((x) => x.name === "show")!.msg, "no");
  });
});
