import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { run, play, t, block, inventory, newWorld, FakeTransport } from "./fake.ts";
import type { RoleContext, Task } from "../../../scripts/lib/playbook/types.ts";

const LAYERS = ["role defaults", "inventory", "play vars", "vars_files", "role vars", "block vars", "task vars", "include params", "set_fact", "extra vars"];
/** Layer i defines v_k for every k >= i, so v_k's winner must be layer k. */
function layer(i: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let k = i; k < LAYERS.length; k++) out[`v${k}`] = LAYERS[i];
  return out;
}

describe("variable precedence", () => {
  test("every layer beats the one below it", async () => {
    const role: RoleContext = { name: "r", path: "/nonexistent/roles/r", defaults: layer(0), vars: layer(4) };
    const probe = t("debug", { msg: `{{ [${LAYERS.map((_, k) => `v${k}`).join(", ")}] }}` }, { name: "probe", vars: layer(6), role });
    const included = [block([probe], [], [], { vars: layer(5), role })];
    const p = play(
      [
        block(
          [t("set_fact", layer(8), { name: "facts", role }), t("include_tasks", { file: "x.yml" }, { name: "inc", vars: layer(7), role })],
          [],
          [],
          { role, origin: "role" },
        ),
      ],
      { vars: layer(2), varsFiles: layer(3), roles: [role] },
    );
    const r = await run(p, {
      hosts: ["h1"],
      inventory: inventory(["h1"], { h1: layer(1) }),
      extraVars: layer(9),
      loadIncludedTasks: () => included,
    });
    const res = r.results("h1").find((x) => x.name === "probe")!;
    assert.equal(res.status, "ok", res.msg);
    assert.deepEqual(res.data!.msg, LAYERS);
  });

  test("hostvars[inventory_hostname] can be printed whole (it does not hold hostvars itself)", async () => {
    const r = await run(play([t("debug", { var: "hostvars[inventory_hostname]" }, { name: "hv" })]), { inventory: inventory(["h1"], { h1: { x: "X1" } }) });
    const res = r.results("h1")[0];
    assert.equal(res.status, "ok", res.msg);
    assert.match(res.msg ?? "", /"x":"X1"/);
  });

  test("the become password is masked wherever it is printed, even before any become task", async () => {
    const r = await run(play([t("debug", { msg: "pw={{ ansible_become_password }}" }, { name: "leak" })]), { inventory: inventory(["h1"], { h1: { ansible_become_password: "Pw-never-shown-42" } }) });
    // A message rendered from the password is secret as a whole (its other forms could not be found in it).
    assert.equal(r.results("h1")[0].msg, "***");
  });

  test("magic variables", async () => {
    const r = await run(play([t("debug", { msg: "{{ inventory_hostname }} {{ group_names }} {{ play_hosts | length }} {{ hostvars['h2'].x }} {{ hostvars.h2.inventory_hostname }} {{ ansible_check_mode }}" }, { name: "m" })]), {
      inventory: inventory(["h1", "h2"], { h2: { x: "X2" } }, { pis: ["h1"] }),
    });
    assert.equal(r.results("h1")[0].msg, "h1 ['pis'] 2 X2 h2 False");
  });

  test("gathered facts are visible as ansible_facts and ansible_* (one command, once per run)", async () => {
    const p = play([t("debug", { msg: "{{ ansible_facts.hostname }}/{{ ansible_architecture }}" }, { name: "f" })], { gatherFacts: true });
    const r = await run([p, p], { hosts: ["h1"] });
    const msgs = r.results("h1").filter((x) => x.name === "f").map((x) => x.msg);
    assert.deepEqual(msgs, ["fake/aarch64", "fake/aarch64"]);
    assert.equal(r.world.commands.get("h1")!.filter((c) => c.command === "facts").length, 1);
  });

  test("an explicit setup task gathers again (the implicit gathering of later plays does not)", async () => {
    const p = play([t("setup", {}, { name: "again" })], { gatherFacts: true });
    const r = await run([p, p], { hosts: ["h1"] });
    // play 1: implicit + explicit; play 2: implicit reuses the cache + explicit
    assert.equal(r.world.commands.get("h1")!.filter((c) => c.command === "facts").length, 3);
  });
});

describe("task keywords", () => {
  test("changed_when, failed_when (with the registered result), ignore_errors", async () => {
    const p = play([
      t("fake_cmd", { cmd: "echo x" }, { name: "never changed", changedWhen: ["false"] }),
      t("fake_cmd", { cmd: "fail" }, { name: "failure allowed", register: "r", failedWhen: ["r.rc not in [0, 2]"] }),
      t("fake_cmd", { cmd: "echo boom" }, { name: "made to fail", failedWhen: ["'boom' in stdout"] }),
      t("debug", { msg: "not reached" }, { name: "after" }),
    ]);
    const r = await run(p, { hosts: ["h1"] });
    const res = r.results("h1");
    assert.deepEqual(res.map((x) => x.status), ["ok", "changed", "failed"]);
    assert.equal(r.summary.failed, true);
    const p2 = play([t("fake_cmd", { cmd: "fail" }, { name: "ignored", ignoreErrors: true }), t("debug", { msg: "go on" }, { name: "after" })]);
    const r2 = await run(p2, { hosts: ["h1"] });
    assert.deepEqual(r2.results("h1").map((x) => x.status), ["failed", "ok"]);
    assert.equal(r2.results("h1")[0].result.ignored, true);
    assert.equal(r2.summary.stats.h1.ignored, 1);
    assert.equal(r2.summary.stats.h1.failures, 0);
    assert.equal(r2.summary.failed, false);
  });

  test("retries/until: attempts counted, default delay honoured when given 0", async () => {
    const world = newWorld();
    const p = play([
      t("fake_cmd", { cmd: "get k" }, { name: "poll", register: "r", until: ["r.rc == 0"], retries: 2, delay: 0, ignoreErrors: true }),
    ]);
    const r = await run(p, { hosts: ["h1"], world });
    const res = r.results("h1")[0];
    assert.equal(res.status, "failed");
    assert.equal(res.data!.attempts, 3);
    assert.equal(world.commands.get("h1")!.length, 3);
    world.store.get("h1")!.set("k", "v");
    const again = await run(p, { hosts: ["h1"], world });
    assert.equal(again.results("h1")[0].data!.attempts, 1);
  });

  test("block/rescue/always: rescue clears the failure, always runs, rescued counted", async () => {
    const p = play([
      block([t("fake_cmd", { cmd: "fail" }, { name: "breaks" }), t("debug", { msg: "skipped" }, { name: "not run" })], [t("debug", { msg: "{{ ansible_failed_task.name }}" }, { name: "rescue" })], [t("debug", { msg: "always" }, { name: "always" })]),
      t("debug", { msg: "after" }, { name: "after" }),
      block([t("fake_cmd", { cmd: "fail" }, { name: "unrescued" })], [], [t("debug", { msg: "always2" }, { name: "always2" })]),
      t("debug", { msg: "never" }, { name: "never" }),
    ]);
    const r = await run(p, { hosts: ["h1"] });
    const res = r.results("h1");
    assert.deepEqual(res.map((x) => x.name), ["breaks", "rescue", "always", "after", "unrescued", "always2"]);
    assert.equal(res[1].msg, "breaks");
    assert.equal(r.summary.stats.h1.rescued, 1);
    assert.equal(r.summary.stats.h1.failures, 1);
  });

  test("run_once: first host runs it, everyone gets the registered result", async () => {
    const p = play([
      t("fake_cmd", { cmd: "echo {{ inventory_hostname }}" }, { name: "once", runOnce: true, register: "o" }),
      t("debug", { msg: "{{ o.stdout }}" }, { name: "show" }),
    ]);
    const r = await run(p, { hosts: ["h1", "h2", "h3"] });
    const ran = [...r.world.commands.entries()].filter(([, c]) => c.some((x) => x.command.startsWith("echo")));
    assert.equal(ran.length, 1);
    for (const h of ["h1", "h2", "h3"]) assert.equal(r.results(h).find((x) => x.name === "show")!.msg, "h1");
  });

  test("tags: unselected tasks are silently left out", async () => {
    const p = play([t("debug", { msg: "a" }, { name: "a", tags: ["ntp"] }), t("debug", { msg: "b" }, { name: "b", tags: ["other"] }), t("debug", { msg: "c" }, { name: "c", tags: ["always"] })]);
    const r = await run(p, { hosts: ["h1"], tags: { only: ["ntp"], skip: [] } });
    assert.deepEqual(r.results("h1").map((x) => x.name), ["a", "c"]);
    assert.ok(!r.events.some((e) => e.type === "task-start" && e.task.name === "b"));
  });

  test("check mode: apply not called; check_mode: false forces a real run; check_mode: true forces check", async () => {
    const p = play([
      t("fake_kv", { key: "a", value: "1" }, { name: "checked" }),
      t("fake_kv", { key: "b", value: "1" }, { name: "forced", checkMode: false }),
      t("fake_cmd", { cmd: "echo hi" }, { name: "cmd" }),
    ]);
    const r = await run(p, { hosts: ["h1"], check: true });
    const res = r.results("h1");
    assert.deepEqual(res.map((x) => x.status), ["changed", "changed", "skipped"]);
    assert.equal(r.world.store.get("h1")!.has("a"), false);
    assert.equal(r.world.store.get("h1")!.get("b"), "1");
    const r2 = await run(play([t("fake_kv", { key: "c", value: "1" }, { name: "c", checkMode: true })]), { hosts: ["h1"] });
    assert.equal(r2.results("h1")[0].status, "changed");
    assert.equal(r2.world.store.get("h1")!.has("c"), false);
  });

  test("diff only in diff mode", async () => {
    const p = play([t("fake_kv", { key: "a", value: "1" }, { name: "a" })]);
    assert.equal((await run(p, { hosts: ["h1"] })).results("h1")[0].result.diff, undefined);
    assert.equal((await run(p, { hosts: ["h1"], diff: true })).results("h1")[0].result.diff!.length, 1);
  });

  test("no_log: result and args masked in every event", async () => {
    const p = play([
      t("fake_cmd", { cmd: "echo s3cretvalue" }, { name: "secret", noLog: true, register: "s" }),
      t("debug", { msg: "{{ s.stdout | length }}" }, { name: "len" }),
      t("fake_cmd", { cmd: "echo {{ item }}" }, { name: "loop", noLog: true, loop: ["t0pSecretItem"] }),
    ]);
    const r = await run(p, { hosts: ["h1"] });
    const text = JSON.stringify(r.events.filter((e) => e.type !== "play-start" && e.type !== "task-start" && e.type !== "host-task-start" && e.type !== "play-end").map((e) => ("result" in e ? e.result : e)));
    assert.ok(!text.includes("s3cretvalue"), text);
    assert.ok(!text.includes("t0pSecretItem"), text);
    assert.equal(r.results("h1")[1].msg, "11");
  });

  test("environment and become reach the transport", async () => {
    const p = play([t("fake_cmd", { cmd: "echo x" }, { name: "e", environment: { FOO: "{{ 'b' + 'ar' }}" }, become: true, becomeUser: "pi" })], { become: false });
    const r = await run(p, { hosts: ["h1"], connection: { becomePassword: "pw" } });
    const c = r.world.commands.get("h1")![0];
    assert.deepEqual(c.options!.env, { FOO: "bar" });
    assert.deepEqual(c.options!.become, { user: "pi", password: "pw" });
  });

  test("a template error fails the task on that host with host and task named, others go on", async () => {
    const p = play([t("debug", { msg: "{{ only_on_h2 }}" }, { name: "uses var" }), t("debug", { msg: "next" }, { name: "next" })]);
    const r = await run(p, { inventory: inventory(["h1", "h2"], { h2: { only_on_h2: 1 } }) });
    const h1 = r.results("h1");
    assert.equal(h1[0].status, "failed");
    assert.match(h1[0].msg!, /only_on_h2/);
    assert.match(h1[0].msg!, /h1/);
    assert.deepEqual(r.results("h2").map((x) => x.status), ["ok", "ok"]);
  });
});

describe("handlers", () => {
  function handler(name: string, extra: Partial<Task> = {}): Task {
    return t("fake_cmd", { cmd: `echo ${name}` }, { name, ...extra });
  }
  test("only notified hosts, once, in handler order, listen topics; not on failed hosts", async () => {
    const p = play(
      [
        t("fake_kv", { key: "a", value: "{{ inventory_hostname }}" }, { name: "changes", notify: ["second", "first"], when: ["inventory_hostname != 'h2'"] }),
        t("fake_kv", { key: "a", value: "{{ inventory_hostname }}" }, { name: "no change", notify: ["first"], when: ["inventory_hostname != 'h2'"] }),
        t("fake_kv", { key: "b", value: "1" }, { name: "topic", notify: ["topic"] }),
        t("fake_cmd", { cmd: "fail" }, { name: "h3 fails", when: ["inventory_hostname == 'h3'"] }),
      ],
      { handlers: [handler("first"), handler("second"), handler("by topic", { listen: ["topic"] })] },
    );
    const r = await run(p, { hosts: ["h1", "h2", "h3"] });
    const ran = (h: string) => (r.world.commands.get(h) ?? []).filter((c) => c.command.startsWith("echo")).map((c) => c.command);
    assert.deepEqual(ran("h1"), ["echo first", "echo second", "echo by topic"]);
    assert.deepEqual(ran("h2"), ["echo by topic"]);
    assert.deepEqual(ran("h3"), []);
    const starts = r.events.filter((e) => e.type === "task-start" && e.isHandler).map((e) => (e as { task: Task }).task.name);
    assert.deepEqual(starts, ["first", "second", "by topic"]);
  });

  test("a change that notifies a handler nobody defined fails the host, naming the handler; no change, no failure", async () => {
    const p = play(
      [
        t("fake_kv", { key: "a", value: "1" }, { name: "typo", notify: ["restart sshd"] }),
        t("fake_kv", { key: "a", value: "1" }, { name: "same again", notify: ["restart sshd"] }),
      ],
      { handlers: [handler("Restart sshd")] },
    );
    const r = await run(p, { hosts: ["h1", "h2"] });
    const [first] = r.results("h1");
    assert.equal(first.status, "failed");
    assert.match(first.msg ?? "", /handler "restart sshd" was not found/);
    assert.equal(r.summary.stats.h1.failures, 1);
    // The failed host runs nothing more (not the handler either).
    assert.ok(!(r.world.commands.get("h1") ?? []).some((c) => c.command.startsWith("echo")));

    const unchanged = play([t("debug", { msg: "x" }, { name: "ok only", notify: ["nobody"] })]);
    const quiet = await run(unchanged, { hosts: ["h1"] });
    assert.equal(quiet.results("h1")[0].status, "ok");
  });

  test("meta: flush_handlers runs them at that point", async () => {
    const p = play(
      [t("fake_kv", { key: "a", value: "1" }, { name: "c", notify: ["h"] }), t("meta", { _raw_params: "flush_handlers" }), t("fake_cmd", { cmd: "echo after" }, { name: "after" })],
      { handlers: [handler("h")] },
    );
    const r = await run(p, { hosts: ["h1"] });
    assert.deepEqual(r.world.commands.get("h1")!.filter((c) => c.command.startsWith("echo")).map((c) => c.command), ["echo h", "echo after"]);
  });
});

describe("hosts and plays", () => {
  test("an unreachable host is dropped; the others go on", async () => {
    const world = newWorld();
    world.unreachable.add("h2");
    const p = play([t("fake_kv", { key: "a", value: "1" }, { name: "a" }), t("fake_kv", { key: "b", value: "1" }, { name: "b" })]);
    const r = await run([p, p], { hosts: ["h1", "h2"], world });
    assert.deepEqual(r.results("h2").map((x) => x.status), ["unreachable"]);
    assert.deepEqual(r.results("h1").map((x) => x.status), ["changed", "changed", "ok", "ok"]);
    assert.equal(r.summary.unreachable, true);
    assert.equal(r.summary.stats.h2.unreachable, 1);
  });

  test("any_errors_fatal stops every host", async () => {
    const p = play([t("fake_cmd", { cmd: "fail" }, { name: "f", when: ["inventory_hostname == 'h1'"] }), t("pause", { seconds: 0 }, { name: "sync" }), t("debug", { msg: "x" }, { name: "later" })], { anyErrorsFatal: true });
    const r = await run(p, { hosts: ["h1", "h2"] });
    assert.ok(!r.results("h2").some((x) => x.name === "later"));
    assert.equal(r.summary.failed, true);
  });

  test("serial batches run one after the other, handlers per batch", async () => {
    const order: string[] = [];
    const p = play([t("debug", { msg: "{{ ansible_play_batch | join(',') }}" }, { name: "b" })], { serial: [1, "50%"] });
    const r = await run(p, { hosts: ["h1", "h2", "h3", "h4", "h5"], sink: (e) => e.type === "host-task-result" && order.push(`${e.host}:${e.result.msg}`) });
    assert.deepEqual(order.slice(0, 1), ["h1:h1"]);
    assert.deepEqual(order.slice(1, 3).sort(), ["h2:h2,h3", "h3:h2,h3"]);
    assert.deepEqual(order.slice(3).sort(), ["h4:h4,h5", "h5:h4,h5"]);
    assert.equal(r.summary.failed, false);
  });

  test("a templated serial is rendered from the extra vars and the play's vars when the play starts", async () => {
    const batches = async (serial: Array<number | string>, extraVars: Record<string, unknown> = {}, vars: Record<string, unknown> = {}) => {
      const seen = new Set<string>();
      const p = play([t("debug", { msg: "{{ ansible_play_batch | join(',') }}" }, { name: "b" })], { serial, vars });
      await run(p, { hosts: ["h1", "h2", "h3", "h4"], extraVars, sink: (e) => e.type === "host-task-result" && seen.add(String(e.result.msg)) });
      return [...seen].sort();
    };
    assert.deepEqual(await batches(["{{ agents_serial | default(1) }}"], { agents_serial: 2 }), ["h1,h2", "h3,h4"]);
    assert.deepEqual(await batches(["{{ agents_serial | default(1) }}"]), ["h1", "h2", "h3", "h4"]);
    assert.deepEqual(await batches(["{{ agents_serial }}"], { agents_serial: "75%" }), ["h1,h2,h3", "h4"]);
    assert.deepEqual(await batches(["{{ n }}"], {}, { n: "3" }), ["h1,h2,h3", "h4"]);
    await assert.rejects(batches(["{{ n }}"], { n: "half" }), /"serial" must be a number, a percentage or a list of those, got "half" from "\{\{ n \}\}"/);
  });

  test("max_fail_percentage stops the play", async () => {
    const p = play([t("fake_cmd", { cmd: "fail" }, { name: "f", when: ["inventory_hostname in ['h1','h2']"] }), t("debug", { msg: "x" }, { name: "later" })], { maxFailPercentage: 30, serial: [4] });
    const r = await run(p, { hosts: ["h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8"] });
    assert.equal(r.results("h5").length, 0);
  });

  test("any_errors_fatal, max_fail_percentage and a whole failed batch end the playbook, not only the play", async () => {
    const later = play([t("debug", { msg: "x" }, { name: "next play" })], { hosts: "all" });
    const fatal = play([t("fake_cmd", { cmd: "fail" }, { name: "f", when: ["inventory_hostname == 'h1'"] })], { anyErrorsFatal: true });
    let r = await run([fatal, later], { hosts: ["h1", "h2", "h3"] });
    assert.deepEqual(["h2", "h3"].flatMap((h) => r.results(h).filter((x) => x.name === "next play")), []);
    const pct = play([t("fake_cmd", { cmd: "fail" }, { name: "f", when: ["inventory_hostname == 'h1'"] })], { maxFailPercentage: 20 });
    r = await run([pct, later], { hosts: ["h1", "h2", "h3"] });
    assert.deepEqual(r.results("h2").map((x) => x.name), ["f"]);
    // Every host of the first play failed: a second play on other hosts does not start.
    const allFail = play([t("fake_cmd", { cmd: "fail" }, { name: "f" })], { hosts: "h1" });
    r = await run([allFail, play([t("debug", { msg: "x" }, { name: "next play" })], { hosts: "h2" })], { hosts: ["h1", "h2"] });
    assert.equal(r.results("h2").length, 0);
    // Below the threshold the next play runs on the hosts still standing.
    const fine = play([t("fake_cmd", { cmd: "fail" }, { name: "f", when: ["inventory_hostname == 'h1'"] })], { maxFailPercentage: 50 });
    r = await run([fine, later], { hosts: ["h1", "h2", "h3"] });
    assert.deepEqual(r.results("h2").map((x) => x.name), ["f", "next play"]);
  });

  test("--start-at-task skips until the named task", async () => {
    const p = play([t("debug", { msg: "1" }, { name: "one" }), t("debug", { msg: "2" }, { name: "two" }), t("debug", { msg: "3" }, { name: "three" })]);
    const r = await run(p, { hosts: ["h1"], startAtTask: "two" });
    assert.deepEqual(r.results("h1").map((x) => x.name), ["two", "three"]);
  });

  test("meta tasks get no banner and no recap count (as Ansible); a failed one still counts", async () => {
    const p = play([t("debug", { msg: "x" }, { name: "d" }), t("meta", { _raw_params: "flush_handlers" }, { name: "m" }), t("meta", { _raw_params: "{{ nope }}" }, { name: "bad" })]);
    const r = await run(p, { hosts: ["h1"] });
    assert.equal(r.summary.stats.h1.ok, 1);
    assert.equal(r.summary.stats.h1.failures, 1);
    assert.ok(!r.events.some((e) => e.type === "task-start" && e.task.name === "m"));
    assert.deepEqual(r.results("h1").map((x) => x.name), ["d", "bad"]);
  });

  test("Ctrl-C during a loop: the item in flight finishes, no further item starts, exit as interrupted", async () => {
    const abort = new AbortController();
    const world = newWorld();
    const p = play([t("fake_cmd", { cmd: "echo {{ item }}" }, { name: "loop", loop: [1, 2, 3, 4, 5] }), t("debug", { msg: "x" }, { name: "after" })]);
    const r = await run(p, {
      hosts: ["h1"],
      world,
      signal: abort.signal,
      createTransport: (host) => {
        const fake = new FakeTransport(host, world);
        const exec = fake.exec.bind(fake);
        fake.exec = async (command, options) => {
          if (command === "echo 2") abort.abort();
          return exec(command, options);
        };
        return fake;
      },
    });
    assert.deepEqual(world.commands.get("h1")!.map((c) => c.command), ["echo 1", "echo 2"]);
    assert.deepEqual(r.results("h1").map((x) => x.name), ["loop"]);
    assert.equal(r.summary.interrupted, true);
  });

  test("a bad host pattern in hosts: is reported at the play", async () => {
    const p = play([t("debug", { msg: "x" }, { name: "d" })], { hosts: "~[", where: { file: "/pb/site.yml", line: 3, col: 3 } });
    await assert.rejects(run(p, { hosts: ["h1"] }), (e: Error & { where?: { file: string; line?: number } }) => /Invalid regular expression/.test(e.message) && e.where?.file === "/pb/site.yml" && e.where.line === 3);
  });

  test("--start-at-task naming no task warns that nothing ran", async () => {
    const p = play([t("debug", { msg: "1" }, { name: "one" })]);
    const r = await run(p, { hosts: ["h1"], startAtTask: "on" });
    assert.equal(r.results("h1").length, 0);
    assert.ok(r.events.some((e) => e.type === "warning" && /No matching task "on" found/.test(e.message)));
  });

  test("--limit and hosts templated with extra vars", async () => {
    const p = play([t("debug", { msg: "x" }, { name: "x" })], { hosts: "{{ target }}" });
    const r = await run(p, { inventory: inventory(["a", "b", "c"], {}, { g: ["a", "b"] }), extraVars: { target: "g" }, limit: "b,c" });
    assert.deepEqual(Object.keys(r.summary.stats), ["b"]);
    // A play named after its hosts shows the rendered pattern in its banner, as Ansible.
    const named = await run(play([t("debug", { msg: "x" }, { name: "x" })], { hosts: "{{ target }}", name: "{{ target }}" }), { inventory: inventory(["a"], {}, { g: ["a"] }), extraVars: { target: "g" } });
    assert.deepEqual(named.events.flatMap((e) => (e.type === "play-start" ? [e.play.name] : [])), ["g"]);
  });

  test("abort signal: no new task starts, interrupted reported", async () => {
    const ac = new AbortController();
    const p = play([t("fake_kv", { key: "a", value: "1" }, { name: "a" }), t("fake_kv", { key: "b", value: "1" }, { name: "b" })]);
    const r = await run([p, p], { hosts: ["h1"], signal: ac.signal, sink: (e) => e.type === "host-task-result" && ac.abort() });
    assert.equal(r.summary.interrupted, true);
    assert.equal(r.world.store.get("h1")!.has("b"), false);
  });

  test("include_tasks with a loop passes the item as an include param", async () => {
    const inner = [t("debug", { msg: "{{ item }}-{{ p }}" }, { name: "inner" })];
    const p = play([t("include_tasks", { file: "x.yml" }, { name: "inc", loop: ["a", "b"], vars: { p: "P" } })]);
    const r = await run(p, { hosts: ["h1"], loadIncludedTasks: () => inner });
    assert.deepEqual(r.results("h1").filter((x) => x.name === "inner").map((x) => x.msg), ["a-P", "b-P"]);
  });

  test("one connection per host for the whole run", async () => {
    const p = play([t("fake_kv", { key: "a", value: "1" }, { name: "a" })]);
    const r = await run([p, p, p], { hosts: ["h1", "h2"] });
    assert.equal(r.world.connects.get("h1"), 1);
  });
});
