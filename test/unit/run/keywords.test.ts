import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { run, play, t, block, inventory } from "./fake.ts";
import { registerModule } from "../../../scripts/lib/modules/registry.ts";
import type { Block, RoleContext, Task } from "../../../scripts/lib/playbook/types.ts";

describe("more task keywords", () => {
  test("loop_control: loop_var, index_var, label, extended", async () => {
    const p = play([
      t("debug", { msg: "{{ idx }}:{{ pkg.name }}:{{ ansible_loop.last }}" }, { name: "l", loop: [{ name: "a" }, { name: "b" }], loopControl: { loopVar: "pkg", indexVar: "idx", label: "{{ pkg.name }}", extended: true }, register: "r" }),
      t("debug", { msg: "{{ r.results | map(attribute='idx') | list }} {{ r.results[1].pkg.name }}" }, { name: "shape" }),
    ]);
    const r = await run(p, { hosts: ["h1"] });
    const [l, shape] = r.results("h1");
    assert.deepEqual(l.result.items!.map((i) => [i.label, i.result.msg]), [["a", "0:a:False"], ["b", "1:b:True"]]);
    // Without a label, an item is shown as Python prints it (as Ansible does).
    const plain = await run(play([t("debug", { msg: "x" }, { name: "d", loop: [{ key: "a", value: 1 }, [1, "b"], true] })]), { hosts: ["h1"] });
    assert.deepEqual(plain.results("h1")[0].result.items!.map((i) => i.label), ["{'key': 'a', 'value': 1}", "[1, 'b']", "True"]);
    assert.equal(shape.msg, "[0, 1] b");
  });

  test("with_items flattens one level, with_dict gives key/value", async () => {
    const p = play([
      t("debug", { msg: "{{ item }}" }, { name: "wi", loop: [["a", "b"], "c"], loopFrom: "with_items" }),
      t("debug", { msg: "{{ item.key }}={{ item.value }}" }, { name: "wd", loop: "{{ d }}", loopFrom: "with_dict" }),
    ], { vars: { d: { x: 1 } } });
    const r = await run(p, { hosts: ["h1"] });
    assert.deepEqual(r.results("h1")[0].result.items!.map((i) => i.result.msg), ["a", "b", "c"]);
    assert.deepEqual(r.results("h1")[1].result.items!.map((i) => i.result.msg), ["x=1"]);
  });

  test("become: task > block > role > play > -b", async () => {
    const role: RoleContext = { name: "r", path: "/nonexistent/roles/r", defaults: {}, vars: {} };
    const roleBlock: Block = block([
      t("fake_cmd", { cmd: "echo role" }, { name: "from role" }),
      block([t("fake_cmd", { cmd: "echo block" }, { name: "from block" })], [], [], { become: true, becomeUser: "blockuser" }),
      t("fake_cmd", { cmd: "echo task" }, { name: "from task", become: false }),
    ], [], [], { role, origin: "role", become: true, becomeUser: "roleuser" });
    const p = play([roleBlock, t("fake_cmd", { cmd: "echo play" }, { name: "from play" })], { become: true, becomeUser: "playuser" });
    const r = await run(p, { hosts: ["h1"] });
    const become = Object.fromEntries(r.world.commands.get("h1")!.map((c) => [c.command, c.options?.become?.user ?? (c.options?.become ? "root" : "none")]));
    assert.deepEqual(become, { "echo role": "roleuser", "echo block": "blockuser", "echo task": "none", "echo play": "playuser" });
    const r2 = await run(play([t("fake_cmd", { cmd: "echo x" }, { name: "x" })]), { hosts: ["h1"], connection: { become: true } });
    assert.ok(r2.world.commands.get("h1")![0].options?.become);
  });

  test("assert, fail, set_fact, debug var, meta end_host", async () => {
    const p = play([
      t("set_fact", { n: "{{ 2 + 3 }}" }, { name: "sf" }),
      t("assert", { that: ["n == 5"], success_msg: "five" }, { name: "ok assert" }),
      t("debug", { var: "n" }, { name: "dv" }),
      t("assert", { that: ["n == 5", "n > 10"], fail_msg: "too small: {{ n }}" }, { name: "bad assert", ignoreErrors: true }),
      t("meta", { _raw_params: "end_host" }, { name: "end", when: ["inventory_hostname == 'h2'"] }),
      t("fail", { msg: "stop {{ inventory_hostname }}" }, { name: "fail" }),
    ]);
    const r = await run(p);
    const h1 = r.results("h1");
    assert.deepEqual(h1.map((x) => [x.name, x.status]), [["sf", "ok"], ["ok assert", "ok"], ["dv", "ok"], ["bad assert", "failed"], ["end", "skipped"], ["fail", "failed"]]);
    assert.equal(h1[1].msg, "five");
    assert.equal(h1[2].msg, "n: 5");
    assert.equal(h1[3].msg, "too small: 5");
    assert.equal(h1[5].msg, "stop h1");
    assert.ok(!r.results("h2").some((x) => x.name === "fail"));
    assert.equal(r.summary.stats.h2.failures, 0);
  });

  test("--step: no skips the task on every host, continue stops asking", async () => {
    const asked: string[] = [];
    const answers: Array<"yes" | "no" | "continue"> = ["no", "continue"];
    const p = play([t("debug", { msg: "1" }, { name: "one" }), t("debug", { msg: "2" }, { name: "two" }), t("debug", { msg: "3" }, { name: "three" })]);
    const r = await run(p, {
      step: async (task: Task) => {
        asked.push(task.name!);
        return answers.shift() ?? "yes";
      },
    });
    assert.deepEqual(asked, ["one", "two"]);
    assert.deepEqual(r.results("h1").map((x) => x.name), ["two", "three"]);
    assert.deepEqual(r.results("h2").map((x) => x.name), ["two", "three"]);
  });

  test("include_role: the role's tasks run with its defaults; its handlers join the play", async () => {
    const role: RoleContext = { name: "inc", path: "/nonexistent/roles/inc", defaults: { inc_port: 7 }, vars: {} };
    const handler: Task = t("fake_cmd", { cmd: "echo handler" }, { name: "inc handler", role });
    const roleBlock: Block = block([t("fake_kv", { key: "p", value: "{{ inc_port }}" }, { name: "inc task", role, notify: ["inc handler"] })], [], [], { role, origin: "include_role", handlers: [handler] });
    const p = play([t("include_role", { name: "inc" }, { name: "include it" })]);
    const r = await run(p, { hosts: ["h1"], loadIncludedRole: () => [roleBlock] });
    assert.equal(r.world.store.get("h1")!.get("p"), "7");
    assert.ok(r.world.commands.get("h1")!.some((c) => c.command === "echo handler"));
  });

  test("check mode: a non-idempotent module without creates/removes is skipped, never applied", async () => {
    let applied = 0;
    registerModule({
      name: "fake_always",
      aliases: [],
      nonIdempotent: true,
      planDecides: (args: { creates?: string }) => args.creates !== undefined,
      schema: { type: "object", properties: { creates: { type: "string" } }, additionalProperties: false },
      plan: async () => ({ changed: true, msg: "would run" }),
      apply: async () => void applied++,
    });
    const r = await run(play([t("fake_always", {}, { name: "a" }), t("fake_always", { creates: "/x" }, { name: "b" })]), { hosts: ["h1"], check: true });
    assert.deepEqual(r.results("h1").map((x) => [x.status, x.msg]), [["skipped", "check mode: command not run"], ["changed", "would run"]]);
    assert.equal(r.results("h1")[0].result.checkMode, true);
    assert.equal(applied, 0);
  });
});

describe("inventory at run time", () => {
  test("add_host (once per play) and group_by feed later plays", async () => {
    const p1 = play([
      t("add_host", { name: "new1", groups: ["added"], color: "blue" }, { name: "add" }),
      t("group_by", { key: "kind_{{ kind }}" }, { name: "group" }),
    ]);
    const p2 = play([t("debug", { msg: "{{ color }} {{ group_names }}" }, { name: "on new" })], { hosts: "added" });
    const p3 = play([t("debug", { msg: "{{ inventory_hostname }}" }, { name: "by kind" })], { hosts: "kind_a" });
    const r = await run([p1, p2, p3], { inventory: inventory(["h1", "h2"], { h1: { kind: "a" }, h2: { kind: "b" } }) });
    assert.equal(r.results("h1").filter((x) => x.name === "add").length + r.results("h2").filter((x) => x.name === "add").length, 1);
    assert.deepEqual(r.results("new1").map((x) => x.msg), ["blue ['added']"]);
    assert.deepEqual(r.results("h1").filter((x) => x.name === "by kind").map((x) => x.msg), ["h1"]);
    assert.equal(r.results("h2").filter((x) => x.name === "by kind").length, 0);
  });
});
