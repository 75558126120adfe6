/**
 * A registered module result is data, never templated (Ansible's unsafe): a command's output
 * holding `{{ }}` stays text when the result is used whole or through its members.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { play, run, t } from "./fake.ts";

test("a command's output with template markers is not rendered; variables with templates still are", async () => {
  const r = await run(
    play([
      t("fake_cmd", { cmd: "echo {% raw %}{{ undefined_thing }}{% endraw %}" }, { name: "cat", register: "out" }),
      t("debug", { msg: "lines: {{ out.stdout_lines | default([out.stdout]) | join(',') }} / {{ out | to_json }} / {{ servers | join(',') }}" }, { name: "show" }),
    ], { vars: { servers: ["{{ 'a' }}.pool"] } }),
    { hosts: ["h1"] },
  );
  const show = r.results("h1").find((x) => x.name === "show")!;
  assert.equal(show.status, "ok", show.msg);
  assert.match(show.msg ?? "", /^lines: \{\{ undefined_thing \}\} \/ .*"stdout": "\{\{ undefined_thing \}\}".* \/ a\.pool$/);
});
