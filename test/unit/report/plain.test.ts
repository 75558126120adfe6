/** The CI view: banners and one line per task per host, diffs under the line, -v data. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PlainReport } from "../../../scripts/lib/report/plain.ts";
import { cwd, events } from "./sample.ts";

function render(options: { verbosity?: number; diff?: boolean }): string {
  let out = "";
  const report = new PlainReport({ write: (t) => (out += t), verbosity: options.verbosity ?? 0, diff: options.diff ?? false, color: false, cwd });
  for (const e of events) report.handle(e);
  return out;
}

test("one line per task per host with status, host, task, place and message", () => {
  const out = render({});
  const lines = out.split("\n");
  assert.ok(lines.includes("ok: [pi-1] ntp : Ensure NTP server is set (roles/ntp/tasks/main.yml:3) — drop-in present"));
  assert.ok(lines.includes("changed: [pi-2] ntp : Ensure NTP server is set (roles/ntp/tasks/main.yml:3) — file written"));
  assert.ok(lines.includes("failed: [pi-2] ntp : Install packages (roles/ntp/tasks/main.yml:9) — apt failed"));
  assert.ok(lines.includes("    E: no space left"));
});

test("loop items get a line each", () => {
  const lines = render({}).split("\n");
  assert.ok(lines.includes("ok: [pi-1] ntp : Install packages (item=vim) (roles/ntp/tasks/main.yml:9) — installed"));
  assert.ok(lines.includes("changed: [pi-1] ntp : Install packages (item=git) (roles/ntp/tasks/main.yml:9) — git installed"));
});

test("Ansible-style banners and the recap", () => {
  const out = render({});
  assert.match(out, /\nPLAY \[Configure the cluster\] \*{52}\n/);
  assert.match(out, /\nTASK \[ntp : Ensure NTP server is set\] \*+\n/);
  assert.match(out, /pi-2 {23}: ok=1    changed=1    unreachable=0    failed=1 /);
});

test("--diff prints the diff under the changed line only", () => {
  const out = render({ diff: true });
  assert.match(out, /changed: \[pi-2\] .*file written\n--- before: \/etc\/ntp.conf\n\+\+\+ after: \/etc\/ntp.conf\n@@ -1 \+1 @@\n-server a\n\+server b\n/);
  assert.equal(render({}).includes("--- before"), false);
});

test("-v shows result data of changed tasks", () => {
  assert.match(render({ verbosity: 1 }), /file written\n {4}\{\n {6}"dest": "\/etc\/ntp.conf"\n {4}\}/);
  assert.equal(render({}).includes('"dest"'), false);
});

test("an unreachable host shows every line of its reason (the hint after the first line)", async () => {
  const { formatResult } = await import("../../../scripts/lib/report/plain.ts");
  const { task } = await import("./sample.ts");
  const msg = "host key for pi-3 (10.0.0.3:22) is not known: ssh-ed25519 SHA256:x\nIf this fingerprint is right, run again with --accept-new-host-keys";
  const out = formatResult("pi-3", task, { status: "unreachable", msg, durationMs: 0 }, { write: () => {}, verbosity: 0, diff: false, color: false, cwd });
  assert.match(out, /^unreachable: \[pi-3\] .* — host key for pi-3 .*\n {4}If this fingerprint is right, run again with --accept-new-host-keys\n$/);
});
