/**
 * Catastrophic regular expressions where playbooks use them on the controller, as exported
 * functions a test runs in a worker with a time limit (test/support/bounded.ts): a regression
 * fails by timeout instead of hanging the suite.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalTransport } from "../../../scripts/lib/transport/local.ts";
import { Templar } from "../../../scripts/lib/template/templar.ts";
import { runModule } from "../../support/run-module.ts";

/** 32 a's and a "!": `^(a+)+$` backtracks 2^32 times on it without a bound. */
export const EVIL_LINE = "a".repeat(32) + "!";

/** lineinfile with `regexp` on a real local file holding EVIL_LINE: the outcome and the file after. */
export async function lineinfile(regexp: string): Promise<{ changed: boolean; failed: boolean; msg?: string; content: string; ms: number }> {
  const dir = mkdtempSync(join(tmpdir(), "regex-lineinfile-"));
  try {
    const path = join(dir, "f.conf");
    writeFileSync(path, `first\n${EVIL_LINE}\n`);
    const started = Date.now();
    try {
      const r = await runModule(new LocalTransport("localhost"), "lineinfile", { path, regexp, line: "replaced" });
      return { changed: r.changed, failed: r.failed, msg: r.msg, content: readFileSync(path, "utf8"), ms: Date.now() - started };
    } catch (e) {
      // The executor turns this UserError into the task's failure (see run/task.ts errorOutcome).
      return { changed: false, failed: true, msg: (e as Error).message, content: readFileSync(path, "utf8"), ms: Date.now() - started };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Renders each expression with `s` = EVIL_LINE (regex filters and tests), with the time taken. */
export function render(expressions: string[]): Array<{ value?: unknown; error?: string; ms: number }> {
  return expressions.map((expression) => {
    const started = Date.now();
    try {
      return { value: new Templar({ s: EVIL_LINE }).render(expression), ms: Date.now() - started };
    } catch (e) {
      return { error: (e as Error).message, ms: Date.now() - started };
    }
  });
}
