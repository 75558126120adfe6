/**
 * Secrets through a whole run (fake transport, real executor, real writers): the become
 * password, what a no_log task registered, and anything rendered from them never reach the
 * output or the --json report, while the playbook still works with the real values.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { run, play, t, inventory, type RunResult } from "./fake.ts";
import { JsonReport } from "../../../scripts/lib/report/json.ts";
import { PlainReport } from "../../../scripts/lib/report/plain.ts";

/** Everything a user could see: the CI view at -vv with --diff, and the --json report. */
function shown(r: RunResult): string {
  let out = "";
  const plain = new PlainReport({ write: (s) => (out += s), writeError: (s) => (out += s), verbosity: 2, diff: true, color: false });
  const json = new JsonReport();
  for (const e of r.events) {
    plain.handle(e);
    json.handle(e);
  }
  return out + json.toJSON();
}

/** The forms a value may take in output: as is and JSON-escaped once or twice. */
function forms(secret: string): string[] {
  return [secret, JSON.stringify(secret).slice(1, -1), JSON.stringify(JSON.stringify(secret)).slice(1, -1)];
}

function assertHidden(text: string, secrets: string[]): void {
  for (const s of secrets) for (const f of forms(s)) assert.equal(text.includes(f), false, `${JSON.stringify(f)} printed:\n${text}`);
}

describe("secrets in a run", () => {
  test("debug: var=hostvars masks the become password, also where JSON escapes it (finding 9)", async () => {
    const pw = 'Hunter2"Pass\\word';
    const r = await run(play([t("debug", { var: "hostvars" }, { name: "hv" }), t("debug", { var: "hostvars[inventory_hostname]" }, { name: "hv1" })]), {
      inventory: inventory(["h1"], { h1: { ansible_become_password: pw, x: "visible" } }),
    });
    assert.deepEqual(r.results("h1").map((x) => x.status), ["ok", "ok"]);
    const text = shown(r);
    assertHidden(text, [pw, "Hunter2"]);
    assert.match(r.results("h1")[0].msg!, /"ansible_become_password":"\*\*\*"/);
    assert.match(text, /visible/);
  });

  test("what a no_log task registered is a secret in output, and still the real value as data (finding 10)", async () => {
    const r = await run(
      play([
        t("fake_cmd", { cmd: "echo S3cretValue" }, { name: "secret", noLog: true, register: "s" }),
        t("debug", { var: "s.stdout" }, { name: "var" }),
        t("debug", { var: "s" }, { name: "whole" }),
        t("debug", { msg: "{{ s.stdout }}" }, { name: "msg" }),
        t("set_fact", { copy: "{{ s.stdout | lower }}" }, { name: "derived" }),
        t("debug", { var: "copy" }, { name: "copy" }),
        t("assert", { that: ["s.stdout == 'S3cretValue'", "copy == 's3cretvalue'", "s.rc == 0"] }, { name: "usable" }),
      ]),
      { hosts: ["h1"] },
    );
    const res = r.results("h1");
    assert.deepEqual(res.map((x) => x.status), ["changed", "ok", "ok", "ok", "ok", "ok", "ok"], JSON.stringify(res.map((x) => x.msg)));
    assert.equal(res[1].msg, "s.stdout: ***");
    assert.equal(res[3].msg, "***");
    assertHidden(shown(r), ["S3cretValue", "s3cretvalue"]);
  });

  test("add_host and group_by named by a no_log result use the real name", async () => {
    const r = await run(
      play([
        t("fake_cmd", { cmd: "echo node-7" }, { name: "secret", noLog: true, register: "s" }),
        t("group_by", { key: "{{ s.stdout }}" }, { name: "group" }),
        t("add_host", { name: "{{ s.stdout }}.lan", groups: "{{ s.stdout }}" }, { name: "add" }),
        t("assert", { that: ["'h1' in groups['node_7']", "'node-7.lan' in groups['node-7']"] }, { name: "check" }),
      ]),
      { hosts: ["h1"] },
    );
    assert.deepEqual(r.results("h1").map((x) => x.status), ["changed", "changed", "changed", "ok"], JSON.stringify(r.results("h1").map((x) => x.msg)));
  });

  test("become_user and delegate_to rendered from a no_log result are the real names", async () => {
    const r = await run(
      play([
        t("fake_cmd", { cmd: "echo h2" }, { name: "secret", noLog: true, register: "s" }),
        t("fake_cmd", { cmd: "echo x" }, { name: "as", become: true, becomeUser: "{{ s.stdout }}-admin" }),
        t("fake_cmd", { cmd: "echo y" }, { name: "there", delegateTo: "{{ s.stdout }}" }),
      ]),
      { inventory: inventory(["h1", "h2"]), limit: "h1" },
    );
    assert.deepEqual(r.results("h1").map((x) => x.status), ["changed", "changed", "changed"]);
    assert.equal(r.world.commands.get("h1")!.find((c) => c.command === "echo x")!.options!.become!.user, "h2-admin");
    assert.ok(r.world.commands.get("h2")!.some((c) => c.command === "echo y"), "delegated to h2");
  });

  test("loop labels of items holding secrets are masked", async () => {
    const r = await run(
      play([
        t("fake_cmd", { cmd: "echo L00pSecret" }, { name: "secret", noLog: true, register: "s" }),
        t("debug", { msg: "x" }, { name: "loop", loop: "{{ [s, {'pw': ansible_become_password}] }}" }),
        t("debug", { msg: "y" }, { name: "loop2", loop: "{{ [{'out': s.stdout}] }}" }),
      ]),
      { inventory: inventory(["h1"], { h1: { ansible_become_password: "L00pPassword" } }) },
    );
    assert.deepEqual(r.results("h1").map((x) => x.status), ["changed", "ok", "ok"]);
    assertHidden(shown(r), ["L00pSecret", "L00pPassword"]);
  });

  test("a module gets the real value of an argument rendered from a secret (no module writes ***)", async () => {
    const r = await run(
      play([
        t("fake_cmd", { cmd: "echo S3cretValue" }, { name: "secret", noLog: true, register: "s" }),
        t("fake_kv", { key: "from_no_log", value: "{{ s.stdout }}" }, { name: "kv1" }),
        t("fake_kv", { key: "from_password", value: "{{ ansible_become_password | upper }}" }, { name: "kv2" }),
      ]),
      { inventory: inventory(["h1"], { h1: { ansible_become_password: "pw-Secret-1" } }), diff: true },
    );
    assert.deepEqual(r.results("h1").map((x) => x.status), ["changed", "changed", "changed"]);
    const store = r.world.store.get("h1")!;
    assert.equal(store.get("from_no_log"), "S3cretValue");
    assert.equal(store.get("from_password"), "PW-SECRET-1");
    // The module's own result and diff echo the value: shown masked.
    assertHidden(shown(r), ["S3cretValue", "PW-SECRET-1"]);
  });

  test("the become password still reaches sudo as its text, also when it is a template", async () => {
    for (const vars of [{ ansible_become_password: "Plain-pw-1" }, { ansible_become_pass: "{{ vault_pw }}", vault_pw: "Plain-pw-1" }]) {
      const r = await run(play([t("fake_cmd", { cmd: "echo x" }, { name: "b", become: true })]), { inventory: inventory(["h1"], { h1: vars }) });
      assert.equal(r.world.commands.get("h1")![0].options!.become!.password, "Plain-pw-1");
    }
  });

  test("upper, b64encode, reversing and join of the become password are masked (finding 11)", async () => {
    const pw = "Tr0ub4dor&3";
    const exprs = [
      "{{ ansible_become_password | upper }}",
      "{{ ansible_become_password | b64encode }}",
      "{{ ansible_become_password[::-1] }}",
      "{{ ansible_become_password | reverse | join('') }}",
      "{{ [ansible_become_password, 'x'] | join('+') }}",
      "{{ hostvars[inventory_hostname].ansible_become_password | lower }}",
      "pw is {{ ansible_become_password | upper }}",
      "{{ {'pw': ansible_become_password | upper} }}",
    ];
    const r = await run(play([...exprs.map((msg, i) => t("debug", { msg }, { name: `m${i}` })), t("debug", { var: "ansible_become_password | upper" }, { name: "var" })]), {
      inventory: inventory(["h1"], { h1: { ansible_become_password: pw } }),
    });
    const res = r.results("h1");
    assert.deepEqual(res.map((x) => x.status), Array(exprs.length + 1).fill("ok"), JSON.stringify(res.map((x) => x.msg)));
    const b64 = Buffer.from(pw).toString("base64");
    const reversed = [...pw].reverse().join("");
    assertHidden(shown(r), [pw, pw.toUpperCase(), pw.toLowerCase(), b64, reversed]);
  });

  test("a no_log task's arguments are not secrets: later output about the same path is shown and asserted (finding 12)", async () => {
    const r = await run(
      play([
        t("fake_kv", { key: "/tmp/w", value: "directory" }, { name: "quiet", noLog: true }),
        t("fake_cmd", { cmd: "echo /tmp/w directory" }, { name: "look", register: "l" }),
        t("debug", { msg: "{{ l.stdout }}" }, { name: "show" }),
        t("assert", { that: ["l.stdout == '/tmp/w directory'"] }, { name: "check" }),
      ]),
      { hosts: ["h1"] },
    );
    const res = r.results("h1");
    assert.deepEqual(res.map((x) => x.status), ["changed", "changed", "ok", "ok"]);
    assert.equal(res[2].msg, "/tmp/w directory");
  });

  test("a 3-character become password is never printed, whole or echoed in a word of remote output (finding 13)", async () => {
    const r = await run(
      play([
        t("debug", { msg: "{{ ansible_become_password }}" }, { name: "direct" }),
        t("debug", { var: "hostvars" }, { name: "hv" }),
        t("fake_cmd", { cmd: "echo sudo: Zq9 is wrong" }, { name: "echo", register: "e" }),
        t("debug", { var: "e.stdout" }, { name: "echoed" }),
        t("assert", { that: ["e.stdout == 'sudo: Zq9 is wrong'"] }, { name: "data intact" }),
      ]),
      { inventory: inventory(["h1"], { h1: { ansible_become_password: "Zq9" } }) },
    );
    const res = r.results("h1");
    assert.deepEqual(res.map((x) => x.status), ["ok", "ok", "changed", "ok", "ok"]);
    assert.equal(res[3].msg, "e.stdout: sudo: *** is wrong");
    assertHidden(shown(r), ["Zq9"]);
  });
});
