/**
 * Every filter as data: a template, the variables below, and the native value it renders to.
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { Templar } from "../../../scripts/lib/template/templar.ts";

const VARS = {
  s: "Hello World",
  padded: "  pad  ",
  csv: "a,b,,c",
  n: 42,
  f: 3.7,
  numstr: "17",
  yes: "yes",
  list: [3, 1, 2, 3],
  words: ["b", "A", "c"],
  nested: [[1, [2]], [3], null],
  users: [
    { name: "ann", uid: 1000, admin: true, shell: "/bin/bash" },
    { name: "bob", uid: 1001, admin: false },
    { name: "cid", uid: 999, admin: true, shell: "/bin/sh" },
  ],
  d: { a: 1, b: { x: 1, y: 2 } },
  d2: { b: { y: 3, z: 4 }, c: 5 },
  none: null,
  empty: "",
  path: "/etc/ssh/sshd_config.d/10-pi.conf",
  cidr: "192.168.0.21/24",
  hosts_ips: { "pi-1": { ip: "10.0.0.1" }, "pi-2": { ip: "10.0.0.2" } },
};

const cases: Array<[string, unknown]> = [
  // default / d
  ["{{ missing | default('x') }}", "x"],
  ["{{ missing | d('x') }}", "x"],
  ["{{ empty | default('x') }}", ""],
  ["{{ empty | default('x', true) }}", "x"],
  ["{{ none | default('x', boolean=true) }}", "x"],
  ["{{ n | default(0) }}", 42],
  ["{{ d.missing.deeper | default('deep') }}", "deep"],
  ["{{ n | mandatory }}", 42],
  // types
  ["{{ yes | bool }}", true],
  ["{{ 'off' | bool }}", false],
  ["{{ 'True' | bool }}", true],
  ["{{ 1 | bool }}", true],
  ["{{ none | bool }}", false],
  ["{{ numstr | int }}", 17],
  ["{{ '3.9' | int }}", 3],
  ["{{ 'x' | int(5) }}", 5],
  ["{{ '0x1A' | int(base=16) }}", 26],
  ["{{ f | int }}", 3],
  ["{{ '2.5' | float }}", 2.5],
  ["{{ n | string }}", "42"],
  ["{{ true | string }}", "True"],
  // strings
  ["{{ s | lower }}", "hello world"],
  ["{{ s | upper }}", "HELLO WORLD"],
  ["{{ 'hELLO wORLD' | capitalize }}", "Hello world"],
  ["{{ 'hello big world' | title }}", "Hello Big World"],
  ["{{ padded | trim }}", "pad"],
  ["{{ 'xxhixx' | trim('x') }}", "hi"],
  ["{{ s | replace('o', '0') }}", "Hell0 W0rld"],
  ["{{ s | replace('o', '0', 1) }}", "Hell0 World"],
  ["{{ words | join(',') }}", "b,A,c"],
  ["{{ users | join(' ', attribute='name') }}", "ann bob cid"],
  ["{{ csv | split(',') }}", ["a", "b", "", "c"]],
  ["{{ 'a  b c' | split }}", ["a", "b", "c"]],
  ["{{ s | length }}", 11],
  ["{{ list | count }}", 4],
  ["{{ d | length }}", 2],
  ["{{ s | regex_replace('(\\w+) (\\w+)', '\\2 \\1') }}", "World Hello"],
  ["{{ s | regex_replace('(?P<first>\\w+) .*', '\\g<first>!') }}", "Hello!"],
  ["{{ 'ABC' | regex_replace('b', 'x', ignorecase=true) }}", "AxC"],
  ["{{ s | regex_search('W\\w+') }}", "World"],
  ["{{ s | regex_search('(\\w+) (\\w+)', '\\2') }}", ["World"]],
  ["{{ s | regex_search('zzz') }}", null],
  ["{{ 'a1b22c333' | regex_findall('\\d+') }}", ["1", "22", "333"]],
  ["{{ 'k=v, x=y' | regex_findall('(\\w)=(\\w)') }}", [["k", "v"], ["x", "y"]]],
  ["{{ 'a.b*c' | regex_escape }}", "a\\.b\\*c"],
  ["{{ \"it's\" | quote }}", "'it'\\''s'"],
  ["{{ 'plain' | quote }}", "plain"],
  // lists
  ["{{ list | first }}", 3],
  ["{{ list | last }}", 3],
  ["{{ list | min }}", 1],
  ["{{ list | max }}", 3],
  ["{{ users | min(attribute='uid') }}", VARS.users[2]],
  ["{{ list | sum }}", 9],
  ["{{ users | sum(attribute='uid') }}", 3000],
  ["{{ list | sort }}", [1, 2, 3, 3]],
  ["{{ list | sort(reverse=true) }}", [3, 3, 2, 1]],
  ["{{ words | sort }}", ["A", "b", "c"]],
  ["{{ words | sort(case_sensitive=true) }}", ["A", "b", "c"]],
  ["{{ users | sort(attribute='uid') | map(attribute='name') | list }}", ["cid", "ann", "bob"]],
  ["{{ list | unique }}", [3, 1, 2]],
  ["{{ list | reverse | list }}", [3, 2, 1, 3]],
  ["{{ 'abc' | list }}", ["a", "b", "c"]],
  ["{{ d | list }}", ["a", "b"]],
  ["{{ nested | flatten }}", [1, 2, 3]],
  ["{{ nested | flatten(levels=1) }}", [1, [2], 3]],
  ["{{ [1, 2] | zip(['a', 'b', 'c']) | list }}", [[1, "a"], [2, "b"]]],
  ["{{ [1, 2] | zip_longest(['a']) | list }}", [[1, "a"], [2, null]]],
  ["{{ users | map(attribute='name') | list }}", ["ann", "bob", "cid"]],
  ["{{ users | map(attribute='shell', default='/bin/false') | list }}", ["/bin/bash", "/bin/false", "/bin/sh"]],
  ["{{ words | map('upper') | list }}", ["B", "A", "C"]],
  ["{{ list | map('string') | list }}", ["3", "1", "2", "3"]],
  ["{{ list | select('odd') | list }}", [3, 1, 3]],
  ["{{ list | reject('odd') | list }}", [2]],
  ["{{ [0, 1, '', 'a', none] | select | list }}", [1, "a"]],
  ["{{ users | selectattr('admin') | map(attribute='name') | list }}", ["ann", "cid"]],
  ["{{ users | rejectattr('admin') | map(attribute='name') | list }}", ["bob"]],
  ["{{ users | selectattr('shell', 'defined') | map(attribute='name') | list }}", ["ann", "cid"]],
  ["{{ users | selectattr('uid', '>=', 1000) | map(attribute='name') | list }}", ["ann", "bob"]],
  ["{{ users | selectattr('name', 'equalto', 'bob') | first }}", VARS.users[1]],
  ["{{ users | selectattr('name', 'match', '^[ab]') | map(attribute='name') | list }}", ["ann", "bob"]],
  ["{{ [1, 2, 3] | difference([2]) }}", [1, 3]],
  ["{{ [1, 2, 2, 3] | intersect([2, 3, 4]) }}", [2, 3]],
  ["{{ [1, 2] | union([2, 3]) }}", [1, 2, 3]],
  ["{{ [1, 2] | symmetric_difference([2, 3]) }}", [1, 3]],
  ["{{ ['pi-1', 'pi-2'] | map('extract', hosts_ips, 'ip') | list }}", ["10.0.0.1", "10.0.0.2"]],
  ["{{ users | groupby('admin') | map('first') | list }}", [false, true]],
  ["{{ (users | groupby('admin'))[1][1] | map(attribute='name') | list }}", ["ann", "cid"]],
  ["{{ [{'n': 'a', 'keys': ['k1', 'k2']}, {'n': 'b', 'keys': []}] | subelements('keys') | map('last') | list }}", ["k1", "k2"]],
  ["{{ [{'n': 'a'}] | subelements('keys', skip_missing=true) }}", []],
  ["{{ [1, 2] | product(['a', 'b']) | list }}", [[1, "a"], [1, "b"], [2, "a"], [2, "b"]]],
  // dicts
  ["{{ d | dict2items }}", [{ key: "a", value: 1 }, { key: "b", value: { x: 1, y: 2 } }]],
  ["{{ {'a': 1} | dict2items(key_name='k', value_name='v') }}", [{ k: "a", v: 1 }]],
  ["{{ [{'key': 'a', 'value': 1}] | items2dict }}", { a: 1 }],
  ["{{ [{'n': 'a', 'v': 1}] | items2dict(key_name='n', value_name='v') }}", { a: 1 }],
  ["{{ d | combine(d2) }}", { a: 1, b: { y: 3, z: 4 }, c: 5 }],
  ["{{ d | combine(d2, recursive=true) }}", { a: 1, b: { x: 1, y: 3, z: 4 }, c: 5 }],
  ["{{ {'l': [1]} | combine({'l': [2]}, list_merge='append') }}", { l: [1, 2] }],
  ["{{ [['a', 1], ['b', 2]] | dict }}", { a: 1, b: 2 }],
  ["{{ dict(a=1, b='x') }}", { a: 1, b: "x" }],
  // Python's dict() from [key, value] pairs, as `dict(names | zip(values))` builds a mapping.
  ["{{ dict(['a', 'b'] | zip([1, 2])) }}", { a: 1, b: 2 }],
  ["{{ dict([['a', 1]], b=2) }}", { a: 1, b: 2 }],
  ["{{ d | items | list }}", [["a", 1], ["b", { x: 1, y: 2 }]]],
  // serialisation
  ["{{ d | to_json }}", '{"a": 1, "b": {"x": 1, "y": 2}}'],
  ["{{ {'b': 1, 'a': [1]} | to_nice_json }}", '{\n    "a": [\n        1\n    ],\n    "b": 1\n}'],
  ["{{ '{\"a\": [1, 2]}' | from_json }}", { a: [1, 2] }],
  ["{{ {'a': 1, 'b': ['x']} | to_yaml }}", "a: 1\nb:\n  - x\n"],
  ["{{ {'a': {'b': 1}} | to_nice_yaml }}", "a:\n    b: 1\n"],
  ["{{ 'a: yes\nb: [1]' | from_yaml }}", { a: true, b: [1] }],
  ["{{ 'hi there' | b64encode }}", "aGkgdGhlcmU="],
  ["{{ 'aGkgdGhlcmU=' | b64decode }}", "hi there"],
  // Jinja's urlencode = Python's quote(s, safe="/"): a password in a postgres:// URL.
  ["{{ 'p@ss:w/rd %!*' | urlencode }}", "p%40ss%3Aw/rd%20%25%21%2A"],
  ["{{ {'a b': 'c&d'} | urlencode }}", "a+b=c%26d"],
  // Jinja: first/last of an empty list is Undefined, so a default applies (an air-gap dir
  // without an images tarball: k3s-server's install.yml).
  ["{{ [] | first | default('none') }}", "none"],
  ["{{ [] | last | default('none') }}", "none"],
  ["{{ 'abc' | hash('sha1') }}", "a9993e364706816aba3e25717850c26c9cd0d89d"],
  ["{{ 'abc' | hash('sha256') }}", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
  ["{{ 'abc' | hash('md5') }}", "900150983cd24fb0d6963f7d28e17f72"],
  ["{{ 'abc' | checksum }}", "a9993e364706816aba3e25717850c26c9cd0d89d"],
  // Drepper's test vectors for SHA-512 crypt.
  ["{{ 'Hello world!' | password_hash('sha512', 'saltstring') }}", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"],
  ["{{ 'Hello world!' | password_hash('sha512', 'saltstringsaltstring', rounds=10000) }}", "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."],
  // paths
  ["{{ path | basename }}", "10-pi.conf"],
  ["{{ path | dirname }}", "/etc/ssh/sshd_config.d"],
  ["{{ path | splitext }}", ["/etc/ssh/sshd_config.d/10-pi", ".conf"]],
  ["{{ ['/etc', 'ssh', 'x'] | path_join }}", "/etc/ssh/x"],
  // logic
  ["{{ (n > 1) | ternary('big', 'small') }}", "big"],
  ["{{ none | ternary('t', 'f', 'null') }}", "null"],
  ["{{ [1, 2, 3] | random(seed='host-1') in [1, 2, 3] }}", true],
  ["{{ [1, 2, 3] | random(seed='x') == [1, 2, 3] | random(seed='x') }}", true],
  ["{{ [1, 2, 3, 4] | shuffle(seed='x') | sort }}", [1, 2, 3, 4]],
  ["{{ '1.2.10' | version_compare('1.2.9', '>') }}", true],
  // network
  ["{{ cidr | ansible.utils.ipaddr('address') }}", "192.168.0.21"],
  ["{{ cidr | ipaddr('network') }}", "192.168.0.0"],
  ["{{ cidr | ipaddr('netmask') }}", "255.255.255.0"],
  ["{{ cidr | ipaddr('prefix') }}", 24],
  ["{{ cidr | ipaddr('broadcast') }}", "192.168.0.255"],
  ["{{ cidr | ipaddr('network/prefix') }}", "192.168.0.0/24"],
  ["{{ 'nope' | ipaddr }}", false],
  ["{{ ['10.0.0.1', 'x', '::1'] | ipaddr }}", ["10.0.0.1", "::1"]],
  ["{{ ['10.0.0.1', '::1'] | ipv4 }}", ["10.0.0.1"]],
  // long names
  ["{{ s | ansible.builtin.lower }}", "hello world"],
  // Jinja's own filters from nunjucks stay available
  ["{{ 'x' | center(5) }}", "  x  "],
  ["{{ 3.14159 | round(2) }}", 3.14],
  ["{{ 'a\nb' | indent(2) }}", "a\n  b"],
  ["{{ 'a\n\nb\n' | indent(width=4, first=true) }}", "    a\n\n    b\n"],
  ["{{ 'a\n\nb' | indent(2, blank=true) }}", "a\n  \n  b"],
];

describe("filters", () => {
  const t = new Templar(VARS);
  for (const [template, expected] of cases) {
    test(template, () => assert.deepEqual(t.render(template), expected));
  }

  test("expanduser", () => assert.match(String(t.render("{{ '~/x' | expanduser }}")), /^\/.*\/x$/));
  test("password_hash without a salt makes a random one", () => {
    const h = String(t.render("{{ 'pw' | password_hash('sha512') }}"));
    assert.match(h, /^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
  });
  test("mandatory fails with the name", () => assert.throws(() => t.render("{{ missing | mandatory }}"), /Mandatory variable "missing" not defined/));
  test("mandatory with a message", () => assert.throws(() => t.render("{{ missing | mandatory('set it!') }}"), /set it!/));
  test("a filter given an undefined value fails with the name", () => assert.throws(() => t.render("{{ missing | upper }}"), /Undefined variable "missing"/));
  test("hash of an unknown algorithm", () => assert.throws(() => t.render("{{ 'a' | hash('crc99') }}"), /unknown algorithm/));
  test("from_json of bad JSON", () => assert.throws(() => t.render("{{ 'nope' | from_json }}"), /from_json: not valid JSON/));
  test("unknown filter", () => assert.throws(() => t.render("{{ s | nosuchfilter }}"), /nosuchfilter/));
});
