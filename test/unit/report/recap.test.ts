/** PLAY RECAP: byte-for-byte Ansible's layout (without colour), colour only when asked. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { banner, formatRecap, recapLine } from "../../../scripts/lib/report/recap.ts";

const stats = { ok: 5, changed: 1, unreachable: 0, failures: 0, skipped: 0, rescued: 0, ignored: 0 };

test("one host line exactly as Ansible prints it", () => {
  assert.equal(recapLine("pi-1", stats), "pi-1                       : ok=5    changed=1    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0   ");
});

test("wide counts and long host names", () => {
  assert.equal(
    recapLine("a-very-long-host-name-over-26", { ...stats, ok: 12345 }),
    "a-very-long-host-name-over-26 : ok=12345 changed=1    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0   ",
  );
});

test("banner fills 80 columns with stars", () => {
  const b = banner("PLAY RECAP");
  assert.equal(b, "\nPLAY RECAP " + "*".repeat(70));
});

test("whole recap: banner, hosts sorted, blank line after", () => {
  const text = formatRecap({ "pi-2": stats, "pi-1": stats });
  const lines = text.split("\n");
  assert.equal(lines[1], "PLAY RECAP " + "*".repeat(70));
  assert.ok(lines[2].startsWith("pi-1 "));
  assert.ok(lines[3].startsWith("pi-2 "));
  assert.equal(text.endsWith("\n\n"), true);
  assert.equal(/\u001b/.test(text), false);
});

test("colour: non-zero counts and the host, visible alignment unchanged", () => {
  const line = recapLine("pi-1", { ...stats, failures: 1 }, true);
  assert.match(line, /\u001b\[31mpi-1\u001b\[39m {22} : /);
  assert.match(line, /\u001b\[31mfailed=1   \u001b\[39m/);
  assert.equal(line.replace(/\u001b\[\d+m/g, ""), recapLine("pi-1", { ...stats, failures: 1 }));
});
