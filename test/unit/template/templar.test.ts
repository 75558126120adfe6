import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Templar, TemplateError, OMIT, dropOmitted } from "../../../scripts/lib/template/templar.ts";
import { Secret } from "../../../scripts/lib/shell/secret.ts";
import { UserError } from "../../../scripts/lib/errors.ts";

const WHERE = "host pi-1, task 'Set hostname' (roles/base-os/tasks/main.yml:12)";

describe("native values and text", () => {
  const t = new Templar({ n: 8, l: [1, "a"], d: { k: [true] }, b: false, s: "text", none: null, pairs: [{ name: "a" }, [2]] });
  const cases: Array<[string, unknown]> = [
    ["{{ n }}", 8],
    ["{{ l }}", [1, "a"]],
    ["{{ d }}", { k: [true] }],
    ["{{ b }}", false],
    ["{{ none }}", null],
    ["{{ n * 2 }}", 16],
    ["{{- n -}}", 8],
    ["{{ n }} ", "8 "],
    ["n={{ n }}", "n=8"],
    ["{{ l }}!", "[1, 'a']!"],
    ["{{ d }}.", "{'k': [True]}."],
    ["{{ b }}/{{ none }}", "False/None"],
    ["{{ n }}{{ n }}", "88"],
    ["{# comment #}x", "x"],
    ["{% if n > 1 %}big{% endif %}", "big"],
    ["plain {text}", "plain {text}"],
    // Python literals and semantics
    ["{{ True and not False }}", true],
    ["{{ None is none }}", true],
    ["{{ [] or {} or 'fallback' }}", "fallback"],
    ["{{ 0 and 1 }}", 0],
    ["{{ '1' == 1 }}", false],
    ["{{ 1 == 1.0 }}", true],
    ["{{ [1, [2]] == [1, [2]] }}", true],
    ["{{ {'a': 1} == {'a': 1} }}", true],
    // Braces balance as in Jinja: a nested dict literal's "}}" does not end the tag.
    ["{{ {'a': {'b': n}} }}", { a: { b: 8 } }],
    ["x{{ {'a': {'b': 1}} }}", "x{'a': {'b': 1}}"],
    ["{{ n }}}}", "8}}"],
    ["{{ '}}' }}", "}}"],
    ["{{ 1 < 2 < 3 }}", true],
    ["{{ 3 > 2 > 2 }}", false],
    ["{{ [1] + [2] }}", [1, 2]],
    ["{{ 'ab' + 'c' }}", "abc"],
    ["{{ '=' * 3 }}", "==="],
    ["{{ 'a' ~ 1 ~ True }}", "a1True"],
    ["{{ '%s:%d' % ('x', 5) }}", "x:5"],
    ["{{ 7 // 2 }}", 3],
    ["{{ 7 % 3 }}", 1],
    ["{{ 'a' in 'cat' }}", true],
    ["{{ 'k' in d }}", true],
    ["{{ 'z' not in l }}", true],
    ["{{ l[-1] }}", "a"],
    ["{{ l.0 }}", 1],
    ["{{ d.k.0 }}", true],
    // An index then an attribute (with_subelements' item.0.username): not the float `0.`.
    ["{{ pairs.0.name }}-{{ pairs.1.0 }}", "a-2"],
    ["{{ 0.5 + 1.25 }}", 1.75],
    ["{% for k in d %}{{ k }}{% endfor %}", "k"],
    ["{{ l[0:1] }}", [1]],
    ["{{ s[1:3] }}", "ex"],
    ["{{ s[::-1] }}", "txet"],
    ["{{ 'x' if b else 'y' }}", "y"],
    ["{% if [] %}a{% elif {} %}b{% else %}c{% endif %}", "c"],
    // Python methods
    ["{{ ' a b '.split() }}", ["a", "b"]],
    ["{{ 'a,b,c'.split(',', 1) }}", ["a", "b,c"]],
    ["{{ '  x '.strip() }}", "x"],
    ["{{ 'xxhixx'.strip('x') }}", "hi"],
    ["{{ s.startswith('te') and s.endswith('xt') }}", true],
    ["{{ 'aaa'.replace('a', 'b') }}", "bbb"],
    ["{{ 'AbC'.lower() ~ 'AbC'.upper() }}", "abcABC"],
    ["{{ '{}-{}'.format('a', 1) }}", "a-1"],
    ["{{ '{name}!'.format(name='x') }}", "x!"],
    ["{{ ', '.join(['a', 'b']) }}", "a, b"],
    ["{{ d.keys() | list }}", ["k"]],
    ["{{ d.values() | list }}", [[true]]],
    ["{{ d.items() | list }}", [["k", [true]]]],
    ["{{ d.get('k') }}", [true]],
    ["{{ d.get('zz', 'dflt') }}", "dflt"],
    ["{{ l.index('a') }}", 1],
    ["{% for k, v in d.items() %}{{ k }}={{ v }}{% endfor %}", "k=[True]"],
    ["{% for x in l %}{{ loop.index }}{{ x }}{% endfor %}", "112a"],
    ["{% set y = n + 1 %}{{ y }}", "9"],
    ["{{ range(3) | list }}", [0, 1, 2]],
  ];
  for (const [template, expected] of cases) test(template, () => assert.deepEqual(t.render(template), expected));

  test("strings without markers come back as the same string; containers are copied", () => {
    const args = { a: "x", nested: { l: ["y"] } };
    const out = t.render(args);
    assert.deepEqual(out, args);
    assert.notEqual(out, args);
    assert.notEqual(out.nested, args.nested);
  });

  test("deep rendering of keys and values, numbers and booleans untouched", () => {
    assert.deepEqual(t.render({ "{{ s }}_key": ["{{ n }}", 1, true, null, { x: "v={{ n }}" }] }), { text_key: [8, 1, true, null, { x: "v=8" }] });
  });
});

describe("lazy, recursive variables", () => {
  test("a variable that is a template resolves when read, through several levels, keeping types", () => {
    const t = new Templar({ a: 1, b: "{{ a + 1 }}", c: "{{ b * 10 }}", list: ["{{ a }}", "{{ c }}"], d: { x: "{{ c }}" } });
    assert.equal(t.render("{{ c }}"), 20);
    assert.equal(t.render("c={{ c }}"), "c=20");
    assert.deepEqual(t.render("{{ list }}"), [1, 20]);
    assert.equal(t.render("{{ d.x + 1 }}"), 21);
    assert.equal(t.render("{{ list[1] }}"), 20);
  });

  test("a variable changed in the vars object is seen on the next render", () => {
    const vars: Record<string, unknown> = { a: 1, b: "{{ a }}" };
    const t = new Templar(vars);
    assert.equal(t.render("{{ b }}"), 1);
    vars.b = "{{ a + 5 }}";
    assert.equal(t.render("{{ b }}"), 6);
  });

  test("a loop between variables is an error naming the chain", () => {
    const t = new Templar({ a: "{{ b }}", b: "x{{ c }}", c: "{{ a }}" }, { where: WHERE });
    assert.throws(() => t.render("{{ a }}"), (e: unknown) => {
      assert.ok(e instanceof TemplateError);
      assert.match(e.message, /Recursive loop detected in variable "a": a -> b -> c -> a/);
      assert.ok(e.message.includes(WHERE));
      return true;
    });
  });

  test("a self-referencing variable inside a dict is a loop too", () => {
    const t = new Templar({ d: { x: "{{ d.x }}" } });
    assert.throws(() => t.render("{{ d.x }}"), /Recursive loop detected/);
  });
});

describe("undefined variables", () => {
  const t = new Templar({ ntp: { servers: ["a"] }, hostvars: { "pi-1": { ansible_host: "10.0.0.1" } } }, { where: WHERE });

  test("the error names the variable, the template, the place, and a hint", () => {
    assert.throws(() => t.render("server {{ ntp_server }}"), (e: unknown) => {
      assert.ok(e instanceof TemplateError);
      assert.ok(e instanceof UserError);
      assert.equal(e.message, `Undefined variable "ntp_server" in "server {{ ntp_server }}" (${WHERE})`);
      assert.equal(e.hint, "define it in defaults/, group_vars/, host_vars/ or with -e");
      assert.equal(e.variable, "ntp_server");
      return true;
    });
  });

  test("native form too, and in conditions", () => {
    assert.throws(() => t.render("{{ ntp_server }}"), /Undefined variable "ntp_server" in "\{\{ ntp_server \}\}"/);
    assert.throws(() => t.evaluate("ntp_server == 1"), /Undefined variable "ntp_server"/);
    assert.throws(() => t.isTrue(["ntp_server"]), /Undefined variable "ntp_server"/);
    assert.throws(() => t.render("{% if ntp_server %}x{% endif %}"), /Undefined variable "ntp_server"/);
    assert.throws(() => t.render("{% for x in ntp_server %}x{% endfor %}"), /Undefined variable "ntp_server"/);
  });

  test("a missing attribute or key is named", () => {
    assert.throws(() => t.render("{{ ntp.pool }}"), /Undefined attribute "pool"/);
    assert.throws(() => t.render("{{ hostvars['pi-1'].missing }}"), /Undefined attribute "missing"/);
    assert.throws(() => t.render("{{ ntp.servers[3] }}"), /list index 3 out of range/);
  });

  test("default(), d(), is defined, default(omit) handle undefined variables and attributes", () => {
    assert.equal(t.render("{{ ntp_server | default('pool.ntp.org') }}"), "pool.ntp.org");
    assert.equal(t.render("{{ ntp_server | d('x') }}"), "x");
    assert.equal(t.render("{{ hostvars['pi-1'].missing | default('none') }}"), "none");
    assert.equal(t.render("{{ hostvars['pi-9'].ansible_host | default('none') }}"), "none");
    assert.equal(t.render("{{ a.b.c.d | default(1) }}"), 1);
    assert.equal(t.evaluate("ntp_server is defined"), false);
    assert.equal(t.evaluate("ntp_server is not defined"), true);
    assert.equal(t.evaluate("ntp.pool is undefined"), true);
    assert.equal(t.render("{{ ntp_server | default(omit) }}"), OMIT);
  });
});

describe("omit", () => {
  test("keys rendered to the omit placeholder are dropped (nested mappings too), others kept", () => {
    const t = new Templar({ mode: "0644" });
    const args = t.render({ path: "/x", owner: "{{ owner | default(omit) }}", mode: "{{ mode | default(omit) }}", nested: { a: "{{ omit }}", b: 1 } });
    assert.equal(args.owner, OMIT);
    assert.deepEqual(dropOmitted(args), { path: "/x", mode: "0644", nested: { b: 1 } });
  });
});

describe("conditions", () => {
  const t = new Templar({ n: 2, s: "false", l: [], flag: "{{ n > 1 }}", result: { rc: 0, stdout: "ok" } });
  const cases: Array<[Array<string | boolean> | undefined, boolean]> = [
    [undefined, true],
    [[], true],
    [[true], true],
    [[false], false],
    [["n > 1"], true],
    [["n > 1", "n < 2"], false],
    [["l"], false],
    [["l | length == 0"], true],
    [["flag"], true],
    [["s"], true], // a non-empty string is true, as Jinja; write `s | bool`
    [["s | bool"], false],
    [["result.rc == 0 and 'ok' in result.stdout"], true],
    [["{{ n == 2 }}"], true], // Ansible accepts braces in when: (with a warning)
  ];
  for (const [conditions, expected] of cases) test(JSON.stringify(conditions), () => assert.equal(t.isTrue(conditions), expected));

  test("multi-line expressions (YAML folded when:)", () => {
    assert.equal(t.isTrue(["n > 1 and\n  result.rc == 0\n"]), true);
  });

  test("evaluate returns the value, a boolean as itself", () => {
    assert.equal(t.evaluate(true), true);
    assert.equal(t.evaluate("n + 1"), 3);
    assert.deepEqual(t.evaluate("l"), []);
  });

  test("a syntax error names the expression and the place", () => {
    const w = new Templar({}, { where: WHERE });
    assert.throws(() => w.evaluate("n >"), (e: unknown) => e instanceof TemplateError && e.message.includes(`"n >"`) && e.message.includes(WHERE));
  });
});

describe("secrets", () => {
  const password = new Secret("s3cret-pw");
  const t = new Templar({ password, user: "pi", creds: { pw: password }, url: "postgres://pi:{{ password }}@db" });

  test("a Secret value passes untouched through render", () => {
    const out = t.render({ p: password });
    assert.equal(out.p, password);
  });

  test("a template using a Secret gives a Secret, directly or through other variables", () => {
    for (const template of ["{{ password }}", "x={{ password }}", "{{ url }}", "{{ creds.pw }}", "{{ password | b64encode }}", "{{ url | upper }}"]) {
      const out: unknown = t.render(template);
      assert.ok(out instanceof Secret, template);
      assert.equal(String(out), "***");
    }
    assert.equal((t.render("x={{ password }}") as unknown as Secret).reveal(), "x=s3cret-pw");
    assert.equal((t.render("{{ url }}") as unknown as Secret).reveal(), "postgres://pi:s3cret-pw@db");
  });

  test("templates not using a Secret stay plain", () => {
    assert.equal(t.render("{{ user }}"), "pi");
    assert.equal((t.render("{{ url }}") as unknown) instanceof Secret, true);
    assert.equal(t.render("{{ user }}!"), "pi!");
  });

  test("conditions on secrets give plain booleans", () => {
    assert.equal(t.evaluate("password | length > 3"), true);
  });
});

describe("magic variables shapes (hostvars, groups)", () => {
  const hostvars = {
    "pi-1": { ansible_host: "10.0.0.1", inventory_hostname: "pi-1" },
    "pi-2": { ansible_host: "10.0.0.2", inventory_hostname: "pi-2" },
  };
  const t = new Templar({ hostvars, groups: { all: ["pi-1", "pi-2"], servers: ["pi-1"] }, inventory_hostname: "pi-2", group_names: ["agents"] });
  const cases: Array<[string, unknown]> = [
    ["{{ hostvars['pi-1'].ansible_host }}", "10.0.0.1"],
    ["{{ hostvars[groups.servers[0]]['ansible_host'] }}", "10.0.0.1"],
    ["{{ groups['all'] | map('extract', hostvars, 'ansible_host') | list }}", ["10.0.0.1", "10.0.0.2"]],
    ["{% for h in groups.all %}{{ hostvars[h].ansible_host }} {% endfor %}", "10.0.0.1 10.0.0.2 "],
    ["{{ inventory_hostname in groups.servers }}", false],
    ["{{ 'agents' in group_names }}", true],
    ["{{ query('inventory_hostnames', 'all:!servers') }}", ["pi-2"]],
    ["{{ lookup('vars', 'inventory_hostname') }}", "pi-2"],
  ];
  for (const [template, expected] of cases) test(template, () => assert.deepEqual(t.render(template), expected));
});

describe("lookups", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tmpl-lookup-"));
    mkdirSync(join(dir, "files"));
    mkdirSync(join(dir, "templates"));
    writeFileSync(join(dir, "files", "key.pub"), "ssh-ed25519 AAAA me\n\n");
    writeFileSync(join(dir, "templates", "part.j2"), "part {{ n }}\n");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("env, file (rstripped, from searchPaths/files), template, vars with default, long names", () => {
    process.env.TEMPLAR_TEST_VAR = "from-env";
    const t = new Templar({ n: 1 }, { searchPaths: [dir] });
    assert.equal(t.render("{{ lookup('env', 'TEMPLAR_TEST_VAR') }}"), "from-env");
    assert.equal(t.render("{{ lookup('ansible.builtin.env', 'TEMPLAR_TEST_UNSET') }}"), "");
    assert.equal(t.render("{{ lookup('file', 'key.pub') }}"), "ssh-ed25519 AAAA me");
    assert.equal(t.render("{{ lookup('ansible.builtin.file', 'key.pub') }}"), "ssh-ed25519 AAAA me");
    assert.equal(t.render("{{ lookup('template', 'part.j2') }}"), "part 1\n");
    assert.equal(t.render("{{ lookup('vars', 'zz', default='d') }}"), "d");
    assert.deepEqual(t.render("{{ query('env', 'TEMPLAR_TEST_VAR') }}"), ["from-env"]);
    assert.deepEqual(t.render("{{ q('sequence', 'start=1 end=3') | length }}"), 0 + 3);
  });

  test("pipe is refused (no processes from templates); unknown plugins and missing files are errors", () => {
    const t = new Templar({}, { searchPaths: [dir] });
    assert.throws(() => t.render("{{ lookup('pipe', 'date') }}"), /not supported: templates never run programs/);
    assert.throws(() => t.render("{{ lookup('nosuch', 'x') }}"), /Unknown lookup plugin "nosuch"/);
    assert.throws(() => t.render("{{ lookup('file', 'missing.txt') }}"), /could not find "missing.txt"/);
  });

  test("renderText includes templates from the search paths", () => {
    const t = new Templar({ n: 2 }, { searchPaths: [dir] });
    assert.equal(t.renderText("a\n{% include 'part.j2' %}b\n", "main.j2"), "a\npart 2\nb\n");
  });

  test("a template that includes itself fails with a short message naming the chain", () => {
    writeFileSync(join(dir, "self.j2"), "x\n{% include 'self.j2' %}\n");
    const t = new Templar({}, { searchPaths: [dir], where: WHERE });
    assert.throws(
      () => t.renderText("{% include 'self.j2' %}", "main.j2"),
      (e: unknown) =>
        e instanceof TemplateError &&
        e.message.length < 600 &&
        e.message.startsWith(`Templates nested more than 50 deep: main.j2 → ${join(dir, "self.j2")} → ${join(dir, "self.j2")} → … 45 more …`),
    );
    // A nesting within the bound still renders.
    writeFileSync(join(dir, "count.j2"), "{% set n = n - 1 %}{{ n }}{% if n > 0 %}{% include 'count.j2' %}{% endif %}");
    assert.equal(new Templar({ n: 40 }, { searchPaths: [dir] }).renderText("{% include 'count.j2' %}", "main.j2"), Array.from({ length: 40 }, (_, i) => 39 - i).join(""));
  });
});

describe("renderText (template module)", () => {
  const t = new Templar({ servers: ["a", "b"], enabled: true, port: 123 });

  test("trim_blocks: the newline after a block tag is removed; lstrip_blocks off: indentation kept", () => {
    const text = "# managed\n{% for s in servers %}\nserver {{ s }} iburst\n{% endfor %}\n{% if enabled %}\n  port {{ port }}\n  {% endif %}\nend\n";
    assert.equal(t.renderText(text, "chrony.conf.j2"), "# managed\nserver a iburst\nserver b iburst\n  port 123\n  end\n");
  });

  test("the trailing newline is kept, whitespace control works, macros and set work", () => {
    assert.equal(t.renderText("x\n", "a.j2"), "x\n");
    assert.equal(t.renderText("a  {{- port -}}  b", "a.j2"), "a123b");
    assert.equal(t.renderText("{% macro m(x) %}<{{ x }}>{% endmacro %}{{ m(1) }}{{ m('y') }}", "a.j2"), "<1><y>");
    assert.equal(t.renderText("{% set total = port + 1 %}{{ total }}", "a.j2"), "124");
  });

  test("a macro argument not passed is undefined for `is defined` and default()", () => {
    assert.equal(t.renderText("{% macro m(x) %}{{ x is defined }}-{{ x | default('d') }}{% endmacro %}{{ m() }}|{{ m(1) }}", "m.j2"), "False-d|True-1");
  });

  test("a syntax error in a file gives the line", () => {
    assert.throws(() => t.renderText("l1\nl2 {{ port | }}\n", "x.j2"), /\[Line 2, Column \d+\]/);
  });

  test("an undefined variable in a file names the file and the line, not the whole text", () => {
    const w = new Templar({ port: 1 }, { where: "host pi-1, task 'render'" });
    assert.throws(
      () => w.renderText("# header\nport={{ port }}\nserver={{ ntp_server }}\n", "/r/templates/chrony.conf.j2"),
      (e: Error) => e.message === `Undefined variable "ntp_server" in template /r/templates/chrony.conf.j2:3 (host pi-1, task 'render')`,
    );
    // A variable rendered inside the file keeps naming its own text.
    const v = new Templar({ a: "{{ missing }}" });
    assert.throws(() => v.renderText("x={{ a }}\n", "a.j2"), /Undefined variable "missing" in "\{\{ missing \}\}"/);
  });

  test("lists print as Python would", () => {
    assert.equal(t.renderText("{{ servers }} {{ enabled }}", "a.j2"), "['a', 'b'] True");
  });

  test("plain text that reads like Jinja syntax is left alone", () => {
    assert.equal(t.renderText("This is in the docs: x is defined 2\n{{ port is divisibleby 3 }}\n", "a.j2"), "This is in the docs: x is defined 2\nTrue\n");
  });

  test("no HTML autoescaping", () => {
    assert.equal(new Templar({ x: "<a & 'b'>" }).renderText("{{ x }}", "a.j2"), "<a & 'b'>");
  });

  test("an undefined variable in a file names it", () => {
    assert.throws(() => t.renderText("line1\n{{ nope }}\n", "x.j2"), /Undefined variable "nope"/);
  });
});

describe("createHostvars: each host's variables rendered in its own context", () => {
  test("templated values use the owning host's variables; missing hosts and keys are undefined", async () => {
    const { createHostvars } = await import("../../../scripts/lib/template/hostvars.ts");
    const all: Record<string, Record<string, unknown>> = {
      "pi-1": { inventory_hostname: "pi-1", fqdn: "{{ inventory_hostname }}.lan", ansible_host: "10.0.0.1" },
      "pi-2": { inventory_hostname: "pi-2", fqdn: "{{ inventory_hostname }}.lan", ansible_host: "10.0.0.2" },
    };
    let built = 0;
    const hostvars = createHostvars(Object.keys(all), (h) => {
      built++;
      return all[h];
    });
    const t = new Templar({ inventory_hostname: "pi-2", hostvars, groups: { all: Object.keys(all) } });
    assert.equal(t.render("{{ hostvars['pi-1'].fqdn }}"), "pi-1.lan");
    assert.equal(t.render("{{ hostvars['pi-2']['fqdn'] }}"), "pi-2.lan");
    assert.deepEqual(t.render("{{ groups.all | map('extract', hostvars, 'fqdn') | list }}"), ["pi-1.lan", "pi-2.lan"]);
    assert.equal(t.render("{{ 'pi-1' in hostvars }}"), true);
    assert.deepEqual(t.render("{{ hostvars.keys() | list }}"), ["pi-1", "pi-2"]);
    assert.equal(t.render("{{ hostvars['pi-9'].fqdn | default('none') }}"), "none");
    assert.equal(t.render("{{ hostvars['pi-1'].nope | default('none') }}"), "none");
    assert.equal(t.render("{{ hostvars['pi-1'] | to_json }}").includes('"fqdn": "pi-1.lan"'), true);
    assert.equal(built, 2);
  });
});

describe("subscript and attribute lookups, as Jinja", () => {
  // kubectl's JSON has a key named "items": d['items'] must be it, d.items the method.
  const t = new Templar({ d: { items: [1, 2], keys: "k" }, plain: { a: 1 }, out: '{"kind": "List", "items": [{"metadata": {"name": "pi-1"}}]}' });
  const cases: Array<[string, unknown]> = [
    ["{{ d['items'] }}", [1, 2]],
    ["{{ d['items'] | length }}", 2],
    ["{{ d['keys'] }}", "k"],
    ["{{ d.items() | list }}", [["items", [1, 2]], ["keys", "k"]]],
    ["{{ plain['keys']() | list }}", ["a"]],
    ["{{ (out | from_json)['items'][0].metadata.name }}", "pi-1"],
    ["{% for n in (out | from_json)['items'] %}{{ n.metadata.name }}{% endfor %}", "pi-1"],
    ["{{ [d][0]['items'] }}", [1, 2]],
    ["{{ [1, 2, 3][1:] }}", [2, 3]],
    ["{{ ['x'] }}", ["x"]],
  ];
  for (const [expr, want] of cases) {
    test(expr, () => assert.deepEqual(t.renderString(expr), want));
  }
});
