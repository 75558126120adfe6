import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { loadInventory, matchHosts, selectHosts } from "../../../scripts/lib/inventory/inventory.ts";
import { splitPattern } from "../../../scripts/lib/inventory/patterns.ts";
import { UserError } from "../../../scripts/lib/errors.ts";
import { writeTree, type Tree } from "./tree.ts";

const INVENTORY = `
all:
  hosts:
    router.lan:
  children:
    servers:
      hosts:
        pi-master:
    agents:
      hosts:
        pi-01:
        pi-02:
        pi-03:
        pi-04:
    ssd:
      hosts:
        pi-02:
        pi-01:
    netboot:
      hosts:
        pi-03:
        pi-04:
`;

describe("host patterns", () => {
  let tree: Tree;
  let inv: ReturnType<typeof loadInventory>;
  before(() => {
    tree = writeTree({ "hosts.yml": INVENTORY, "limit.txt": "pi-01\n\n# a comment\npi-master\n", "exclude.txt": "pi-02\n" });
    inv = loadInventory([tree.path("hosts.yml")]);
  });
  after(() => tree.remove());

  const cases: Array<[string | string[], string[]]> = [
    ["all", ["router.lan", "pi-master", "pi-01", "pi-02", "pi-03", "pi-04"]],
    ["*", ["router.lan", "pi-master", "pi-01", "pi-02", "pi-03", "pi-04"]],
    ["pi-02", ["pi-02"]],
    ["servers", ["pi-master"]],
    ["ungrouped", ["router.lan"]],
    ["pi-0*", ["pi-01", "pi-02", "pi-03", "pi-04"]],
    ["*.lan", ["router.lan"]],
    ["pi-0[!34]", ["pi-01", "pi-02"]],
    // As Ansible, a trailing [n] is a subscript, not a character class: "pi-0" has no host 12.
    ["pi-0[12]", []],
    ["pi-0?", ["pi-01", "pi-02", "pi-03", "pi-04"]],
    ["~pi-0[12]", ["pi-01", "pi-02"]],
    ["~pi-(master|04)", ["pi-master", "pi-04"]],
    ["servers:netboot", ["pi-master", "pi-03", "pi-04"]],
    ["netboot,servers", ["pi-master", "pi-03", "pi-04"]],
    [["netboot", "servers"], ["pi-master", "pi-03", "pi-04"]],
    ["agents:&ssd", ["pi-01", "pi-02"]],
    ["agents:!ssd", ["pi-03", "pi-04"]],
    ["!ssd", ["router.lan", "pi-master", "pi-03", "pi-04"]],
    ["&ssd", ["pi-01", "pi-02"]],
    // Order of operations: unions, then intersections, then exclusions, wherever written.
    ["!pi-01:agents:&ssd:servers", ["pi-02"]],
    ["agents:!netboot:servers", ["pi-master", "pi-01", "pi-02"]],
    // Slices: index, negative index, inclusive range, open end.
    ["agents[0]", ["pi-01"]],
    ["agents[-1]", ["pi-04"]],
    ["agents[1:2]", ["pi-02", "pi-03"]],
    ["agents[2:]", ["pi-03", "pi-04"]],
    ["agents[9]", []],
    ["ssd[0]", ["pi-02"]],
    // Results come in inventory order, once.
    ["ssd:pi-01:servers", ["pi-master", "pi-01", "pi-02"]],
    ["localhost", ["localhost"]],
    ["nope", []],
    ["nope:servers", ["pi-master"]],
  ];
  for (const [pattern, expected] of cases) {
    test(JSON.stringify(pattern), () => assert.deepEqual(selectHosts(inv, pattern), expected));
  }

  test("@file: one pattern per line, relative to baseDir; with ! too", () => {
    assert.deepEqual(selectHosts(inv, "@limit.txt", { baseDir: tree.dir }), ["pi-master", "pi-01"]);
    assert.deepEqual(selectHosts(inv, "ssd:!@exclude.txt", { baseDir: tree.dir }), ["pi-01"]);
  });

  test("@file that does not exist is a UserError", () => {
    assert.throws(() => selectHosts(inv, "@missing.txt", { baseDir: tree.dir }), UserError);
  });

  test("unmatched terms are reported (for the CLI's warning), all/* never", () => {
    assert.deepEqual(matchHosts(inv, "nope:servers:&ghost:!gone:all"), { hosts: [], unmatched: ["nope", "ghost", "gone"] });
    assert.deepEqual(matchHosts(inv, "nope:servers"), { hosts: ["pi-master"], unmatched: ["nope"] });
    assert.deepEqual(matchHosts(inv, "servers").unmatched, []);
  });

  test("a bad regex is a UserError", () => {
    assert.throws(() => selectHosts(inv, "~pi-(", {}), (e: unknown) => e instanceof UserError && /regular expression/.test(e.message));
  });

  test("splitting keeps ranges, regexes and IPv6 addresses whole", () => {
    assert.deepEqual(splitPattern("a:b[1:2]:&c:!d"), ["a", "b[1:2]", "&c", "!d"]);
    assert.deepEqual(splitPattern("~a:b"), ["~a:b"]);
    assert.deepEqual(splitPattern("fe80::1"), ["fe80::1"]);
    assert.deepEqual(splitPattern(" a , b ,"), ["a", "b"]);
  });
});
