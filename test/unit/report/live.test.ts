/**
 * The live view's logic with a stand-in for listr2 (which draws on the real terminal): one
 * row per host, titles follow the task and the counts, failed hosts end as failed rows,
 * failures and the recap are printed after the tree.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { LiveReport } from "../../../scripts/lib/report/live.ts";
import { cwd, events } from "./sample.ts";

interface FakeTask {
  title: string;
  task: (ctx: unknown, t: { title: string }) => Promise<void>;
}

const runs: Array<{ rows: Array<{ titles: string[]; outcome?: string }> }> = [];

class FakeListr {
  constructor(private readonly tasks: FakeTask[]) {}
  async run(): Promise<void> {
    const rows = this.tasks.map(() => ({ titles: [] as string[], outcome: undefined as string | undefined }));
    runs.push({ rows });
    await Promise.all(
      this.tasks.map(async (t, i) => {
        const handle = {
          set title(v: string) {
            rows[i].titles.push(v);
          },
          get title() {
            return rows[i].titles.at(-1) ?? "";
          },
        };
        try {
          await t.task({}, handle);
          rows[i].outcome = "ok";
        } catch (e) {
          rows[i].outcome = `failed: ${(e as Error).message}`;
        }
      }),
    );
  }
}

test("rows per host with live titles; details and recap after the tree", async () => {
  let out = "";
  const report = new LiveReport({ Listr: FakeListr } as never, { write: (t) => (out += t), verbosity: 0, diff: true, color: false, cwd });
  for (const e of events) report.handle(e);
  await report.finish();
  assert.equal(runs.length, 1);
  const [pi1, pi2] = runs[0].rows;
  assert.match(pi1.titles.at(-1)!, /^pi-1 +ok=1 changed=1 failed=0 skipped=0$/);
  assert.match(pi2.titles.at(-1)!, /^pi-2 +ok=0 changed=1 failed=1 skipped=0$/);
  assert.equal(pi1.outcome, "ok");
  assert.equal(pi2.outcome, "failed: ntp : Install packages: apt failed\nE: no space left");
  assert.match(out, /PLAY \[Configure the cluster\]/);
  assert.match(out, /failed: \[pi-2\] ntp : Install packages \(roles\/ntp\/tasks\/main.yml:9\) — apt failed/);
  assert.match(out, /--- before: \/etc\/ntp.conf/);
  assert.match(out, /PLAY RECAP \*+\npi-1 {23}: ok=2 /);
  assert.ok(out.indexOf("failed: [pi-2]") < out.indexOf("PLAY RECAP"));
});

test("the live tree only on a sized terminal outside CI", async () => {
  const { isLiveTerminal } = await import("../../../scripts/lib/report/index.ts");
  assert.equal(isLiveTerminal({ isTTY: true, columns: 120 }, {}), true);
  assert.equal(isLiveTerminal({ isTTY: true, columns: 0 }, {}), false);
  assert.equal(isLiveTerminal({ isTTY: true, columns: 120 }, { CI: "true" }), false);
  assert.equal(isLiveTerminal({ isTTY: false }, {}), false);
});
