/**
 * `hostvars` is read one variable at a time, in the named host's context (as Ansible): a
 * variable that reads hostvars (k3s-server's first-server address reads
 * hostvars[groups['servers'][0]]) must not make the whole mapping render, which looped
 * ("Recursive loop detected in variable hostvars") once variables were templated on access.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { inventory, play, run, t } from "./fake.ts";

test("a variable that reads hostvars of the first host renders on every host", async () => {
  const inv = inventory(["s1", "a1"], {
    s1: { ansible_host: "10.0.0.1", __first: "{{ (hostvars[groups['all'][0]].static_ip_address | default(hostvars[groups['all'][0]].ansible_host, true) | string).split('/')[0] }}" },
    a1: { ansible_host: "10.0.0.2", __first: "{{ hostvars['s1'].__first }}", own: "{{ inventory_hostname }}" },
  });
  const r = await run(play([t("debug", { msg: "{{ __first }} {{ hostvars['a1'].own }}" }, { name: "show" })]), { inventory: inv });
  for (const host of ["s1", "a1"]) {
    const [res] = r.results(host);
    assert.equal(res.status, "ok", res.msg);
    // hostvars['a1'].own renders in a1's context, whichever host reads it.
    assert.equal(res.data?.msg, "10.0.0.1 a1");
  }
});
