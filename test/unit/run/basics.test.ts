import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { run, play, t, inventory } from "./fake.ts";

describe("runPlaybook basics", () => {
  test("runs tasks in order on every host, changed then ok on a second run, one probe per no-op", async () => {
    const p = play([t("fake_kv", { key: "a", value: "1" }, { name: "set a" }), t("fake_kv", { key: "b", value: "{{ inventory_hostname }}" }, { name: "set b" })]);
    const first = await run(p);
    assert.deepEqual(first.results("h1").map((r) => r.status), ["changed", "changed"]);
    assert.equal(first.world.store.get("h2")!.get("b"), "h2");
    assert.equal(first.summary.stats.h1.changed, 2);
    assert.equal(first.summary.stats.h1.ok, 2);
    const second = await run(p, { world: first.world });
    assert.deepEqual(second.results("h1").map((r) => r.status), ["ok", "ok"]);
    assert.equal(second.summary.stats.h1.changed, 0);
    const cmds = second.world.commands.get("h1")!.slice(4);
    assert.deepEqual(cmds.map((c) => c.command), ["get a", "get b"]);
    assert.equal(second.summary.failed, false);
  });

  test("events come in order: play-start, task-start, host results, play-end, recap", async () => {
    const r = await run(play([t("debug", { msg: "hi" }, { name: "say" })]), { hosts: ["h1"] });
    assert.deepEqual(r.events.map((e) => e.type), ["play-start", "task-start", "host-task-start", "host-task-result", "play-end", "recap"]);
    assert.equal(r.results("h1")[0].msg, "hi");
  });

  test("when, loop and register shapes", async () => {
    const p = play([
      t("fake_kv", { key: "{{ item }}", value: "v" }, { name: "loop", loop: ["x", "y", "z"], when: ["item != 'y'"], register: "looped" }),
      t("debug", { msg: "{{ looped.results | map(attribute='skipped', default=false) | list }}" }, { name: "show" }),
      t("debug", { msg: "never" }, { name: "skipped", when: ["false"] }),
      t("fake_cmd", { cmd: "echo hello" }, { name: "cmd", register: "out" }),
      t("debug", { msg: "{{ out.stdout }}|{{ out.stdout_lines }}|{{ out.rc }}|{{ out.changed }}" }, { name: "show out" }),
    ]);
    const r = await run(p, { hosts: ["h1"] });
    const res = r.results("h1");
    assert.equal(res[0].status, "changed");
    assert.equal(res[0].result.items!.length, 3);
    assert.deepEqual(res[0].result.items!.map((i) => i.result.status), ["changed", "skipped", "changed"]);
    assert.equal((res[0].data!.results as unknown[]).length, 3);
    assert.equal(res[1].msg, "[false,true,false]");
    assert.equal(res[2].status, "skipped");
    assert.equal(res[4].msg, "hello|['hello']|0|True");
    assert.equal(r.summary.stats.h1.skipped, 1);
  });
});

describe("inventory parsing helper", () => {
  test("fake inventory groups", () => {
    const inv = inventory(["a", "b"], {}, { pis: ["a"] });
    assert.deepEqual(inv.groupNames("a"), ["pis"]);
  });
});

describe("parallelism", () => {
  test("hosts run in parallel up to forks", async () => {
    const { FakeTransport, newWorld } = await import("./fake.ts");
    for (const forks of [1, 3]) {
      const world = newWorld();
      let running = 0;
      let peak = 0;
      class Slow extends FakeTransport {
        override async exec(command: string) {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 5));
          running--;
          return super.exec(command);
        }
      }
      await run(play([t("fake_kv", { key: "a", value: "1" }), t("fake_kv", { key: "b", value: "1" })]), {
        hosts: ["h1", "h2", "h3", "h4", "h5"],
        forks,
        world,
        createTransport: (host) => new Slow(host, world),
      });
      assert.equal(peak, forks);
    }
  });
});
