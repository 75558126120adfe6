/**
 * Picks and wires the reports for a run: the live listr2 tree on a TTY, CI lines otherwise,
 * plus the JSON report with --json. Returns one EventSink for the executor.
 */
import type { EventSink, RunEvent } from "../run/events.ts";
import { JsonReport } from "./json.ts";
import { PlainReport } from "./plain.ts";
import { wantsColor } from "./colors.ts";

export interface ReporterOptions {
  verbosity: number;
  diff: boolean;
  /** --json FILE */
  jsonFile?: string;
  /** Force a mode (tests, --step); default: live on a TTY unless CI=true. */
  mode?: "live" | "plain";
  stdout?: { write(text: string): unknown; isTTY?: boolean };
  stderr?: { write(text: string): unknown; isTTY?: boolean };
  env?: Record<string, string | undefined>;
}

export interface Reporter {
  sink: EventSink;
  /** Waits for the output to be complete and writes the JSON report. */
  finish(): Promise<void>;
  /**
   * Quitting at once (a second Ctrl-C, SIGTERM): writes the JSON report of what has finished
   * so far, synchronously, so it is on disk before the process exits.
   */
  finishNow(): void;
}

/** Whether this run gets the live tree: stdout is a TTY and CI is not set. */
export function isLiveTerminal(stdout: { isTTY?: boolean; columns?: number }, env: Record<string, string | undefined> = process.env): boolean {
  // A pty without a size (columns 0: `script`, some CI runners) would get the tree one character per line.
  return stdout.isTTY === true && stdout.columns !== 0 && env.CI !== "true" && env.TERM !== "dumb";
}

export async function createReporter(options: ReporterOptions): Promise<Reporter> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const mode = options.mode ?? (isLiveTerminal(stdout, env) ? "live" : "plain");
  // `run ... | head`: a reader that goes away must not crash the run with a stack trace; the
  // tasks go on (their writes are atomic), only the output stops.
  for (const stream of [stdout, stderr] as Array<{ on?: (event: "error", listener: (e: NodeJS.ErrnoException) => void) => unknown }>) {
    stream.on?.("error", (e) => {
      if (e.code !== "EPIPE" && e.code !== "ERR_STREAM_DESTROYED") throw e;
    });
  }
  const text = {
    write: (t: string) => void stdout.write(t),
    writeError: (t: string) => void stderr.write(t),
    verbosity: options.verbosity,
    diff: options.diff,
    color: wantsColor(stdout, env),
  };
  let view: { handle(e: RunEvent): void; finish?(): Promise<void> };
  if (mode === "live") {
    const { LiveReport } = await import("./live.ts");
    view = new LiveReport(await import("listr2"), text);
  } else view = new PlainReport(text);
  const json = options.jsonFile ? new JsonReport() : undefined;
  return {
    sink: (event) => {
      json?.handle(event);
      view.handle(event);
    },
    async finish() {
      await view.finish?.();
      if (json && options.jsonFile) json.write(options.jsonFile);
    },
    finishNow() {
      if (json && options.jsonFile) json.write(options.jsonFile);
    },
  };
}
