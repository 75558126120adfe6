/**
 * Runs that used to run away (unbounded includes, huge loops), as exported functions so a test
 * can run them in a worker with a time limit (test/support/bounded.ts).
 */
import { play, run, t } from "./fake.ts";
import type { Item } from "../../../scripts/lib/playbook/types.ts";

/** A task file that includes itself unconditionally: the host's failure message. */
export async function selfInclude(): Promise<{ failed: number; ok: number; msg?: string }> {
  const self: Item[] = [];
  self.push(t("debug", { msg: "again" }, { name: "again", where: { file: "self.yml", line: 1 } }), t("include_tasks", { file: "self.yml" }, { name: "inc", where: { file: "self.yml", line: 2 } }));
  const r = await run(play([t("include_tasks", { file: "self.yml" }, { name: "inc", where: { file: "play.yml", line: 4 } })]), { hosts: ["h1"], loadIncludedTasks: () => self });
  const results = r.results("h1");
  return { failed: r.summary.stats.h1.failures, ok: r.summary.stats.h1.ok, msg: results.find((x) => x.status === "failed")?.msg };
}

/** set_fact over `n` items: the last value and the number of item results. */
export async function longLoop(n: number): Promise<{ status: string; items: number; last: unknown; msg?: string }> {
  const items = Array.from({ length: n }, (_, i) => i);
  const r = await run(play([t("set_fact", { x: "{{ item }}" }, { name: "loop", loop: items }), t("debug", { var: "x" }, { name: "show" })]), { hosts: ["h1"] });
  const loop = r.results("h1").find((x) => x.name === "loop")!;
  const show = r.results("h1").find((x) => x.name === "show")!;
  return { status: loop.status, items: loop.result.items?.length ?? 0, last: show.data?.x, msg: loop.msg };
}
