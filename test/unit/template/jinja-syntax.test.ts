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

test("{% for x in y if cond %} filters with the loop variable bound, loop.* counts kept items", () => {
  const t = new Templar({
    nodes: [{ name: "a", role: "server" }, { name: "b", role: "agent" }, { name: "c", role: "server" }],
    d: { x: 1, y: 0, z: 3 },
    pairs: [["k", ""], ["l", "v"]],
    none: [],
    x: "outer",
  });
  const cases: Array<[string, string]> = [
    ["{% for n in nodes if n.role == 'server' %}{{ loop.index }}/{{ loop.length }}={{ n.name }}{% if not loop.last %},{% endif %}{% endfor %}", "1/2=a,2/2=c"],
    ["{% for k in d if d[k] %}{{ k }}{% endfor %}", "xz"],
    ["{% for k, v in pairs if v %}{{ k }}={{ v }}{% endfor %}", "l=v"],
    ["{% for n in nodes if n.role == 'none' %}{{ n }}{% else %}empty{% endfor %}", "empty"],
    ["{% for x in [1, 2, 3] if x > 1 %}{{ x }}{% endfor %}{{ x }}", "23outer"],
    ["{% for n in nodes if n.name in ['b'] %}{% for m in nodes if m.role != n.role %}{{ n.name }}{{ m.name }}{% endfor %}{% endfor %}", "babc"],
    ["{% for x in (none if none else [4, 5]) %}{{ x }}{% endfor %}", "45"],
  ];
  for (const [src, want] of cases) assert.equal(t.renderText(src, "t"), want, src);
});
