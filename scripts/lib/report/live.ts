/**
 * The TTY view: a listr2 tree per play with one row per host, showing the task it is on and
 * its counts as they change. Failures and diffs are printed below the tree when the play
 * ends (a live tree cannot hold them), followed by the PLAY RECAP.
 *
 * listr2 is imported lazily by createReporter, so CI runs never load it.
 */
import type { Listr as ListrClass } from "listr2";
import type { RunEvent } from "../run/events.ts";
import { maskSecrets } from "../shell/secret.ts";
import { paint } from "./colors.ts";
import { formatResult, type TextReportOptions } from "./plain.ts";
import { banner, formatRecap } from "./recap.ts";
import { taskTitle } from "./json.ts";

type ListrModule = typeof import("listr2");

interface HostRow {
  host: string;
  current?: string;
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: boolean;
  lastError?: string;
  setTitle?: (title: string) => void;
  done: Promise<void>;
  finish: () => void;
  fail: (message: string) => void;
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** Live per-host tree. `handle` is synchronous; `finish` waits for the last tree to render. */
export class LiveReport {
  #chain: Promise<void> = Promise.resolve();
  #rows = new Map<string, HostRow>();
  #details: string[] = [];

  constructor(
    private readonly listr: ListrModule,
    private readonly options: TextReportOptions,
  ) {}

  #title(row: HostRow): string {
    const c = this.options.color;
    const counts = [
      paint(`ok=${row.ok}`, "green", c && row.ok > 0),
      paint(`changed=${row.changed}`, "yellow", c && row.changed > 0),
      paint(`failed=${row.failed}`, "red", c && row.failed > 0),
      `skipped=${row.skipped}`,
    ].join(" ");
    const doing = row.unreachable ? paint("unreachable", "red", c) : row.current ? `▸ ${row.current}` : "";
    return `${row.host.padEnd(20)} ${counts}  ${doing}`.trimEnd();
  }

  #update(row: HostRow): void {
    row.setTitle?.(this.#title(row));
  }

  handle(event: RunEvent): void {
    const o = this.options;
    switch (event.type) {
      case "play-start": {
        this.#rows = new Map();
        this.#details = [];
        for (const host of event.hosts) {
          const d = deferred();
          const row: HostRow = { host, ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: false, done: d.promise, finish: d.resolve, fail: (m) => d.reject(new Error(m)) };
          this.#rows.set(host, row);
        }
        const rows = [...this.#rows.values()];
        const title = banner(`PLAY [${event.play.name}]`).trimStart();
        this.#chain = this.#chain.then(async () => {
          o.write(`\n${title}\n`);
          const list: ListrClass = new this.listr.Listr(
            rows.map((row) => ({
              title: this.#title(row),
              task: async (_ctx: unknown, task: { title: string }) => {
                row.setTitle = (t) => (task.title = t);
                this.#update(row);
                await row.done;
              },
            })),
            { concurrent: true, exitOnError: false, registerSignalListeners: false, rendererOptions: { collapseErrors: false } },
          );
          await list.run().catch(() => undefined);
        });
        break;
      }
      case "host-task-start": {
        const row = this.#rows.get(event.host);
        if (row && !event.task.implicit) {
          row.current = taskTitle(event.task);
          this.#update(row);
        }
        break;
      }
      case "host-task-result": {
        const row = this.#rows.get(event.host);
        const r = event.result;
        if (row) {
          if (r.status === "ok") row.ok++;
          else if (r.status === "changed") row.changed++;
          else if (r.status === "skipped") row.skipped++;
          else if (r.status === "unreachable") row.unreachable = true;
          else if (r.ignored) row.ok++;
          else {
            row.failed++;
            row.lastError = maskSecrets(`${taskTitle(event.task)}: ${r.msg ?? "failed"}`);
          }
          this.#update(row);
        }
        const worthShowing = r.status === "failed" || r.status === "unreachable" || (o.diff && r.diff?.length) || o.verbosity >= 2 || (o.verbosity >= 1 && r.status === "changed");
        if (worthShowing) this.#details.push(formatResult(event.host, event.task, r, o));
        break;
      }
      case "warning":
        this.#details.push(`${paint("[WARNING]", "magenta", o.color)}: ${event.host ? `[${event.host}] ` : ""}${maskSecrets(event.message)}\n`);
        break;
      case "play-end": {
        const rows = [...this.#rows.values()];
        const details = this.#details;
        for (const row of rows) {
          row.current = undefined;
          this.#update(row);
          if (row.failed > 0 || row.unreachable) row.fail(row.lastError ?? "unreachable");
          else row.finish();
        }
        this.#chain = this.#chain.then(() => {
          if (details.length) o.write("\n" + details.join(""));
        });
        break;
      }
      case "recap": {
        const stats = event.stats;
        this.#chain = this.#chain.then(() => o.write(formatRecap(stats, { color: o.color })));
        break;
      }
    }
  }

  /** Resolves when everything queued has been rendered. */
  finish(): Promise<void> {
    // A run interrupted mid-play never sends play-end: release the rows so the tree closes.
    for (const row of this.#rows.values()) row.finish();
    return this.#chain;
  }
}
