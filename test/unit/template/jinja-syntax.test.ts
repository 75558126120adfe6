import { test } from "node:test";
import assert from "node:assert/strict";
import { Templar } from "../../../scripts/lib/template/templar.ts";

// Jinja2 grammar nunjucks lacks: each case is what Jinja2 (Ansible 2.14) renders.

test("a chained conditional expression parses as Jinja's (the else branch is itself a conditional)", () => {
  const t = new Templar({ arch: "arm64", n: 2 });
  const cases: Array<[string, unknown]> = [
    ["{{ 'amd' if arch == 'x86_64' else 'arm' if arch == 'arm64' else 'other' }}", "arm"],
    ["{{ 'amd' if arch == 'x86_64' else 'arm' if arch == 'armhf' else 'other' }}", "other"],
    ["{{ 1 if n == 1 else 2 if n == 2 else 3 if n == 3 else 4 }}", 2],
    ["{{ 'a' if true else 'b' if false else 'c' }}", "a"],
    ["x-{{ ('p' if n > 5 else 'q') ~ ('r' if n else 's' if n is none else 't') }}", "x-qr"],
  ];
  for (const [src, want] of cases) assert.deepEqual(t.renderString(src), want, src);
});
