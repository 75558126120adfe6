/** Unified diffs: same hunks as `diff -u`, Ansible's headers, secrets masked. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { diffLines, formatDiffs, unifiedDiff } from "../../../scripts/lib/report/diff.ts";
import { markSecret, Secret } from "../../../scripts/lib/shell/secret.ts";

const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`).join("\n") + "\n";

test("equal texts give no diff", () => {
  assert.equal(unifiedDiff("a\n", "a\n"), "");
});

test("two separate hunks with 3 lines of context (as diff -u)", () => {
  const before = lines(20);
  const after = before.replace("line 5\n", "line five\n").replace("line 15\n", "").replace("line 20\n", "line 20\nline 21\n");
  assert.equal(
    unifiedDiff(before, after, { beforeHeader: "/etc/x", afterHeader: "/etc/x" }),
    [
      "--- before: /etc/x",
      "+++ after: /etc/x",
      "@@ -2,7 +2,7 @@",
      " line 2",
      " line 3",
      " line 4",
      "-line 5",
      "+line five",
      " line 6",
      " line 7",
      " line 8",
      "@@ -12,9 +12,9 @@",
      " line 12",
      " line 13",
      " line 14",
      "-line 15",
      " line 16",
      " line 17",
      " line 18",
      " line 19",
      " line 20",
      "+line 21",
      "",
    ].join("\n"),
  );
});

test("new file", () => {
  assert.equal(unifiedDiff("", "a\nb\n", { beforeHeader: "/f", afterHeader: "/f" }), "--- before: /f\n+++ after: /f\n@@ -0,0 +1,2 @@\n+a\n+b\n");
});

test("missing final newline is marked", () => {
  assert.match(unifiedDiff("a\n", "a\nb"), /\\ No newline at end of file\n$/);
});

test("the edit script is minimal", () => {
  const ops = diffLines(["a", "b", "c", "a", "b", "b", "a"], ["c", "b", "a", "b", "a", "c"]);
  assert.equal(ops.filter((o) => o.kind !== "=").length, 5); // Myers' paper example: D = 5
  assert.deepEqual(ops.filter((o) => o.kind !== "+").map((o) => o.line), ["a", "b", "c", "a", "b", "b", "a"]);
  assert.deepEqual(ops.filter((o) => o.kind !== "-").map((o) => o.line), ["c", "b", "a", "b", "a", "c"]);
});

test("secrets are masked in diffs", () => {
  const s = markSecret("hunter2-token") as Secret;
  const text = formatDiffs([{ before: "", after: `token=${s.reveal()}\n`, before_header: "/etc/k3s", after_header: "/etc/k3s" }]);
  assert.match(text, /\+token=\*\*\*/);
  assert.equal(text.includes("hunter2"), false);
});
