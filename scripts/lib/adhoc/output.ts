/**
 * What `ansible` prints per host, as its minimal callback (and oneline with -o):
 *   pi-1 | CHANGED | rc=0 >>            (command, shell, raw: then their output)
 *   pi-1 | SUCCESS => { "changed": false, ... }   (other modules: the result as JSON)
 *   pi-1 | FAILED! => {...}   pi-1 | UNREACHABLE! => {...}   pi-1 | SKIPPED
 * Values are already masked by the executor; the text goes through maskSecrets once more.
 */
import type { TaskResult } from "../run/events.ts";
import { maskSecrets } from "../shell/secret.ts";

const NO_JSON = new Set(["command", "shell", "raw"]);

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object" && (value as object).constructor === Object) {
    const obj = value as Record<string, unknown>;
    return Object.fromEntries(Object.keys(obj).sort().map((k) => [k, sortKeys(obj[k])]));
  }
  return value;
}

/** The result as Ansible shows it: the module's data with changed (and msg on failure). */
function resultData(result: TaskResult): Record<string, unknown> {
  const data: Record<string, unknown> = { ...(result.data ?? {}) };
  data.changed = result.status === "changed";
  if ((result.status === "failed" || result.status === "unreachable") && result.msg && data.msg === undefined) data.msg = result.msg;
  if (result.status === "unreachable") data.unreachable = true;
  // The runner's no-op reason ("/etc/hostname exists") is not a module return value; diffs print apart.
  if (result.status === "ok") delete data.msg;
  delete data.diff;
  delete data.invocation;
  return data;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);
}

export function formatResult(host: string, module: string, result: TaskResult, oneLine: boolean): string {
  if (result.status === "skipped") return `${host} | SKIPPED\n`;
  const data = resultData(result);
  if (result.status === "unreachable") {
    return maskSecrets(oneLine ? `${host} | UNREACHABLE!: ${text(data.msg)}\n` : `${host} | UNREACHABLE! => ${JSON.stringify(sortKeys(data), null, 4)}\n`);
  }
  const failed = result.status === "failed";
  const state = failed ? "FAILED" : result.status === "changed" ? "CHANGED" : "SUCCESS";
  if (NO_JSON.has(module) && (data.rc !== undefined || data.stdout !== undefined)) {
    const rc = data.rc ?? -1;
    if (oneLine) {
      const flat = (s: unknown) => text(s).replace(/\n/g, "\\n").replace(/\r/g, "\\r");
      const stderr = text(data.stderr) !== "" ? ` (stderr) ${flat(data.stderr)}` : "";
      return maskSecrets(`${host} | ${state} | rc=${rc} | (stdout) ${flat(data.stdout)}${stderr}\n`);
    }
    const msg = failed ? text(data.msg) : "";
    return maskSecrets(`${host} | ${state} | rc=${rc} >>\n${text(data.stdout)}${text(data.stderr)}${msg}\n`);
  }
  const caption = failed ? "FAILED!" : state;
  // -o: Python's json.dumps(indent=0) with the newlines taken out, as ansible's oneline.
  const json = oneLine ? JSON.stringify(sortKeys(data), null, 1).replace(/\n */g, "") : JSON.stringify(sortKeys(data), null, 4);
  return maskSecrets(`${host} | ${caption} => ${json}\n`);
}
