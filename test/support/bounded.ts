/**
 * Runs an exported function of a module in a worker thread that is terminated after `ms`:
 * a test of a runaway-input bound fails by timeout on a regression instead of hanging
 * (synchronous code cannot be interrupted by the test runner's own timeout). The stack is
 * about the size of the main thread's, so a deep recursion overflows here as it would there.
 */
import { Worker } from "node:worker_threads";

export type Bounded = { ok: true; value: unknown } | { ok: false; error: { name: string; message: string; formatted?: string } } | { timedOut: true };

const workerSource = `
const { parentPort, workerData } = require("node:worker_threads");
// Workers do not inherit tsx's loader hooks: load the TypeScript module through its API.
import("tsx/esm/api").then(async ({ tsImport }) => {
  try {
    const m = await tsImport(workerData.url, workerData.url);
    const value = await m[workerData.fn](...workerData.args);
    parentPort.postMessage({ ok: true, value: JSON.parse(JSON.stringify(value ?? null)) });
  } catch (e) {
    parentPort.postMessage({ ok: false, error: { name: e?.name, message: String(e?.message), formatted: typeof e?.format === "function" ? e.format() : undefined } });
  }
});
`;

export function runBounded(ms: number, url: string | URL, fn: string, ...args: unknown[]): Promise<Bounded> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerSource, { eval: true, workerData: { url: String(url), fn, args }, resourceLimits: { maxOldGenerationSizeMb: 512, stackSizeMb: 1 } });
    const timer = setTimeout(() => {
      void worker.terminate();
      resolve({ timedOut: true });
    }, ms);
    worker.once("message", (m: Bounded) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(m);
    });
    worker.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** The UserError text a bounded call failed with; fails the test on success or timeout. */
export function boundedError(r: Bounded, what: string): string {
  if ("timedOut" in r) throw new Error(`${what}: still running at the time limit (unbounded)`);
  if (r.ok) throw new Error(`${what}: succeeded, expected an error`);
  if (r.error.name !== "UserError") throw new Error(`${what}: expected a UserError, got ${r.error.name}: ${r.error.message.slice(0, 300)}`);
  return r.error.formatted ?? r.error.message;
}
