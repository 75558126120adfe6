import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { loadInventory } from "../../../scripts/lib/inventory/inventory.ts";
import { UserError, formatPosition } from "../../../scripts/lib/errors.ts";
import { writeTree } from "./tree.ts";

const RACK = `
all:
  vars:
    layer: all-inline
    only_all: 1
  hosts:
    lonely:
  children:
    cluster:
      vars:
        layer: cluster-inline
      children:
        servers:
          vars:
            layer: servers-inline
          hosts:
            pi-master:
              ansible_host: 10.0.0.20
        agents:
          hosts:
            pi-[1:3]:
    ssd:
      hosts:
        pi-1:
          ssd: /dev/sda
`;

describe("inventory shapes", () => {
  test("YAML file: hosts in first-seen order, groups with children, all and ungrouped", () => {
    const t = writeTree({ "hosts.yml": RACK });
    try {
      const inv = loadInventory([t.path("hosts.yml")]);
      assert.deepEqual(inv.hosts, ["lonely", "pi-master", "pi-1", "pi-2", "pi-3"]);
      assert.deepEqual(inv.groups.all, inv.hosts);
      assert.deepEqual(inv.groups.ungrouped, ["lonely"]);
      assert.deepEqual(inv.groups.cluster, ["pi-master", "pi-1", "pi-2", "pi-3"]);
      assert.deepEqual(inv.groups.agents, ["pi-1", "pi-2", "pi-3"]);
      assert.deepEqual(inv.groups.ssd, ["pi-1"]);
      assert.deepEqual(inv.groupNames("pi-1"), ["agents", "cluster", "ssd"]);
      assert.deepEqual(inv.groupNames("lonely"), ["ungrouped"]);
      assert.equal(inv.hostVars("pi-1").ssd, "/dev/sda");
      assert.equal(inv.hostVars("pi-master").ansible_host, "10.0.0.20");
      assert.deepEqual(inv.sources, [t.path("hosts.yml")]);
    } finally {
      t.remove();
    }
  });

  test("host ranges: numeric with leading zeros, letters, stride", () => {
    const t = writeTree({ "h.yml": "all:\n  hosts:\n    pi-[01:03]:\n    node[a:c]:\n    w[1:5:2]:\n" });
    try {
      assert.deepEqual(loadInventory([t.path("h.yml")]).hosts, ["pi-01", "pi-02", "pi-03", "nodea", "nodeb", "nodec", "w1", "w3", "w5"]);
    } finally {
      t.remove();
    }
  });

  test("YAML 1.1 scalars as Ansible: yes is true, 0644 is octal, n stays a string", () => {
    const t = writeTree({ "h.yml": "all:\n  hosts:\n    a:\n      flag: yes\n      mode: 0644\n      letter: n\n" });
    try {
      assert.deepEqual(loadInventory([t.path("h.yml")]).hostVars("a"), { flag: true, mode: 0o644, letter: "n" });
    } finally {
      t.remove();
    }
  });

  test("directory: every .yml/.yaml/.json file in name order, plus its group_vars/ and host_vars/", () => {
    const t = writeTree({
      "inv/10-a.yml": "all:\n  children:\n    web:\n      hosts:\n        w1:\n",
      "inv/20-b.json": JSON.stringify({ db: { hosts: { d1: { port: 5432 } } } }),
      "inv/30-c.yaml": "web:\n  hosts:\n    w2:\n",
      "inv/README.md": "not an inventory",
      "inv/group_vars/web.yml": "tier: front\n",
      "inv/host_vars/d1.yml": "port: 6432\n",
    });
    try {
      const inv = loadInventory([t.path("inv")]);
      assert.deepEqual(inv.hosts, ["w1", "d1", "w2"]);
      assert.deepEqual(inv.groups.web, ["w1", "w2"]);
      assert.equal(inv.hostVars("w2").tier, "front");
      assert.equal(inv.hostVars("d1").port, 6432);
      assert.equal(inv.sources.length, 3);
    } finally {
      t.remove();
    }
  });

  test("directory: an extensionless file (INI or YAML) is read too, .ini/.bak/~ files are not (as Ansible)", () => {
    const t = writeTree({
      "inv/hosts": "[db]\nd1 port=5432\n",
      "inv/more": "web:\n  hosts:\n    w1:\n",
      "inv/old.ini": "[x]\nignored1\n",
      "inv/hosts.bak": "[x]\nignored2\n",
      "inv/hosts~": "[x]\nignored3\n",
    });
    try {
      const inv = loadInventory([t.path("inv")]);
      assert.deepEqual(inv.hosts, ["d1", "w1"]);
      assert.equal(inv.hostVars("d1").port, 5432);
    } finally {
      t.remove();
    }
  });

  test("comma list: hosts, ungrouped; trailing comma and a single host", () => {
    const inv = loadInventory(["pi-1, pi-2,"]);
    assert.deepEqual(inv.hosts, ["pi-1", "pi-2"]);
    assert.deepEqual(inv.groups.ungrouped, ["pi-1", "pi-2"]);
    assert.deepEqual(loadInventory(["localhost,"]).hosts, ["localhost"]);
  });

  test("host:port in YAML and comma lists sets ansible_port (explicit ansible_port wins)", () => {
    const t = writeTree({ "h.yml": "all:\n  hosts:\n    a:2222:\n    b:2200:\n      ansible_port: 22\n    fe80::1:\n" });
    try {
      const inv = loadInventory([t.path("h.yml")]);
      assert.deepEqual(inv.hosts, ["a", "b", "fe80::1"]);
      assert.equal(inv.hostVars("a").ansible_port, 2222);
      assert.equal(inv.hostVars("b").ansible_port, 22);
      assert.deepEqual(inv.hostVars("fe80::1"), {});
      const list = loadInventory(["pi-1:2201,pi-2,"]);
      assert.deepEqual(list.hosts, ["pi-1", "pi-2"]);
      assert.equal(list.hostVars("pi-1").ansible_port, 2201);
    } finally {
      t.remove();
    }
  });

  test("a YAML file without an extension is YAML, a bracketed one INI", () => {
    const t = writeTree({ "yamlhosts": "---\nall:\n  hosts:\n    y1:\n", "inihosts": "[g]\ni1\n" });
    try {
      assert.deepEqual(loadInventory([t.path("yamlhosts")]).hosts, ["y1"]);
      assert.deepEqual(loadInventory([t.path("inihosts")]).groups.g, ["i1"]);
    } finally {
      t.remove();
    }
  });

  test("several sources add up", () => {
    const t = writeTree({ "a.yml": "g1:\n  hosts:\n    a:\n", "b.yml": "g1:\n  hosts:\n    b:\n" });
    try {
      const inv = loadInventory([t.path("a.yml"), t.path("b.yml"), "c,"]);
      assert.deepEqual(inv.hosts, ["a", "b", "c"]);
      assert.deepEqual(inv.groups.g1, ["a", "b"]);
    } finally {
      t.remove();
    }
  });

  test("INI inventory (nice-to-have): groups, :vars, :children, host vars, host:port", () => {
    const t = writeTree({
      "hosts.ini": "top ansible_host=10.0.0.9\n[web]\nw[1:2] http_port=80 name='x y'\n[db]\nd1:2222\n[prod:children]\nweb\ndb\n[prod:vars]\nenv=production\n",
    });
    try {
      const inv = loadInventory([t.path("hosts.ini")]);
      assert.deepEqual(inv.hosts, ["top", "w1", "w2", "d1"]);
      assert.deepEqual(inv.groups.prod, ["w1", "w2", "d1"]);
      assert.deepEqual(inv.groups.ungrouped, ["top"]);
      assert.deepEqual(inv.hostVars("w2"), { env: "production", http_port: 80, name: "x y" });
      assert.equal(inv.hostVars("d1").ansible_port, 2222);
    } finally {
      t.remove();
    }
  });

  test("INI syntax errors are errors at file:line, not host names (as Ansible's Invalid section entry)", () => {
    const t = writeTree({ "hosts.ini": "[masters]\nm1\n\n[workers\nw1\n", "spaces.ini": "[web servers]\nw1\n", "tail.ini": "[db] x\nd1\n" });
    try {
      for (const [file, line, entry] of [["hosts.ini", 4, "[workers"], ["spaces.ini", 1, "[web servers]"], ["tail.ini", 1, "[db] x"]] as const) {
        assert.throws(
          () => loadInventory([t.path(file)]),
          (e: unknown) => e instanceof UserError && e.where?.line === line && e.where.file === t.path(file) && e.message === `Invalid section entry ${JSON.stringify(entry)}`,
          file,
        );
      }
    } finally {
      t.remove();
    }
  });

  test("a missing source is a UserError", () => {
    assert.throws(() => loadInventory(["/nonexistent/hosts.yml"]), (e: unknown) => e instanceof UserError && /Inventory source not found/.test(e.message));
  });

  test("implicit localhost: no vars but local connection (and all's vars)", () => {
    const t = writeTree({ "h.yml": "all:\n  vars:\n    x: 1\n  hosts:\n    a:\n" });
    try {
      const inv = loadInventory([t.path("h.yml")]);
      assert.deepEqual(inv.hostVars("localhost"), { x: 1, ansible_connection: "local" });
      assert.deepEqual(inv.hostVars("nope"), {});
    } finally {
      t.remove();
    }
  });
});

describe("group_vars/ and host_vars/", () => {
  test("files with every extension and folders merged in name order", () => {
    const t = writeTree({
      "hosts.yml": "all:\n  children:\n    web:\n      hosts:\n        w1:\n",
      "group_vars/all.yml": "a: from-all-yml\n",
      "group_vars/web": "plain: no-extension\n",
      "group_vars/web.json": '{"json": true}',
      "host_vars/w1/10-first.yml": "x: first\ny: first\n",
      "host_vars/w1/20-second.yaml": "y: second\n",
      "host_vars/w1/sub/30-third.yml": "z: third\n",
    });
    try {
      assert.deepEqual(loadInventory([t.path("hosts.yml")]).hostVars("w1"), {
        a: "from-all-yml", plain: "no-extension", json: true, x: "first", y: "second", z: "third",
      });
    } finally {
      t.remove();
    }
  });

  test("files for unknown groups or hosts are ignored; an empty file is no vars", () => {
    const t = writeTree({ "hosts.yml": "all:\n  hosts:\n    h:\n", "group_vars/ghosts.yml": "a: 1\n", "host_vars/h.yml": "" });
    try {
      assert.deepEqual(loadInventory([t.path("hosts.yml")]).hostVars("h"), {});
    } finally {
      t.remove();
    }
  });

  test("next-to-playbook group_vars/ and host_vars/ win over the inventory's", () => {
    const t = writeTree({
      "inventory/hosts.yml": "all:\n  children:\n    web:\n      hosts:\n        w1:\n",
      "inventory/group_vars/web.yml": "g: inventory\nonly_inv: 1\n",
      "inventory/host_vars/w1.yml": "h: inventory\n",
      "playbooks/group_vars/web.yml": "g: playbook\n",
      "playbooks/host_vars/w1.yml": "h: playbook\n",
    });
    try {
      const inv = loadInventory([t.path("inventory/hosts.yml")], { playbookDir: t.path("playbooks") });
      assert.deepEqual(inv.hostVars("w1"), { g: "playbook", only_inv: 1, h: "playbook" });
    } finally {
      t.remove();
    }
  });
});

describe("inventory variable precedence (each layer overrides the one below)", () => {
  // Layers from lowest to highest; layer N sets v=N and every key lvN..; the top one wins for v.
  const layers: Array<[string, Record<string, string>]> = [
    ["inline vars of all", {}],
    ["inline vars of a parent group", {}],
    ["inline vars of a child group", {}],
    ["group_vars/all next to the inventory", { "inventory/group_vars/all.yml": "v: 3\n" }],
    ["group_vars/all next to the playbook", { "playbooks/group_vars/all.yml": "v: 4\n" }],
    ["group_vars/<parent> next to the inventory", { "inventory/group_vars/parent.yml": "v: 5\n" }],
    ["group_vars/<child> next to the inventory", { "inventory/group_vars/child.yml": "v: 6\n" }],
    ["group_vars/<parent> next to the playbook", { "playbooks/group_vars/parent.yml": "v: 7\n" }],
    ["group_vars/<child> next to the playbook", { "playbooks/group_vars/child.yml": "v: 8\n" }],
    ["host vars in the inventory", {}],
    ["host_vars/ next to the inventory", { "inventory/host_vars/h.yml": "v: 10\n" }],
    ["host_vars/ next to the playbook", { "playbooks/host_vars/h.yml": "v: 11\n" }],
  ];
  const inventoryFor = (top: number) => {
    const line = (n: number) => (n <= top ? `v: ${n}` : "other: 0");
    return `all:\n  vars:\n    ${line(0)}\n  children:\n    parent:\n      vars:\n        ${line(1)}\n      children:\n        child:\n          vars:\n            ${line(2)}\n          hosts:\n            h:\n              ${line(9)}\n`;
  };
  layers.forEach(([name], top) => {
    test(`${top}: ${name}`, () => {
      const files: Record<string, string> = { "inventory/hosts.yml": inventoryFor(top) };
      for (let i = 0; i <= top; i++) Object.assign(files, layers[i][1]);
      const t = writeTree(files);
      try {
        const inv = loadInventory([t.path("inventory/hosts.yml")], { playbookDir: t.path("playbooks") });
        assert.equal(inv.hostVars("h").v, top);
      } finally {
        t.remove();
      }
    });
  });

  test("sibling groups at the same depth: the later name wins; deeper beats shallower regardless of name", () => {
    const t = writeTree({
      "hosts.yml": `all:
  children:
    zz_top:
      vars: { v: zz_top, w: zz_top }
      hosts: { h: }
    aa:
      vars: { v: aa }
      children:
        aa_child:
          vars: { w: aa_child }
          hosts: { h: }
    bb:
      vars: { v: bb }
      hosts: { h: }
`,
    });
    try {
      const vars = loadInventory([t.path("hosts.yml")]).hostVars("h");
      assert.equal(vars.v, "zz_top");
      assert.equal(vars.w, "aa_child");
    } finally {
      t.remove();
    }
  });
});

describe("inventory errors carry file:line:col", () => {
  const cases: Array<{ name: string; yaml: string; where: string; message: RegExp; hint?: RegExp }> = [
    {
      name: "hosts as a list instead of a mapping",
      yaml: "all:\n  children:\n    web:\n      hosts:\n        - w1\n        - w2\n",
      where: "5:9",
      message: /hosts of group "web" must be a mapping of host names/,
      hint: /key ending with a colon/,
    },
    {
      name: "a host directly under a group (unknown group key)",
      yaml: "all:\n  children:\n    web:\n      w1:\n",
      where: "4:7",
      message: /Unknown key "w1" in group "web"/,
      hint: /under `hosts:`/,
    },
    {
      name: "top-level hosts key without a group",
      yaml: "hosts:\n  w1:\n",
      where: "1:1",
      message: /Unexpected top-level key "hosts"/,
    },
    {
      name: "a group named like a host",
      yaml: "all:\n  hosts:\n    web:\n  children:\n    web:\n      hosts:\n        w1:\n",
      where: "3:5",
      message: /"web" is both a host and a group/,
    },
    {
      name: "children as a list",
      yaml: "all:\n  children:\n    - web\n",
      where: "3:5",
      message: /children of group "all" must be a mapping/,
    },
    {
      name: "host vars as a string",
      yaml: "all:\n  hosts:\n    w1: 10.0.0.1\n",
      where: "3:5",
      message: /Host "w1" must have a mapping of variables/,
    },
    {
      name: "YAML syntax error",
      yaml: "all:\n  hosts:\n    w1:\n   bad: [\n",
      where: "3:8",
      message: /YAML syntax error/,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const t = writeTree({ "hosts.yml": c.yaml });
      try {
        assert.throws(
          () => loadInventory([t.path("hosts.yml")]),
          (e: unknown) => {
            assert.ok(e instanceof UserError, String(e));
            assert.ok(e.where, "has a position");
            const where = formatPosition(e.where!);
            assert.ok(where.startsWith(`${t.path("hosts.yml")}:${c.where}`), `${where} vs :${c.where}`);
            assert.match(e.message, c.message);
            if (c.hint) assert.match(e.hint ?? "", c.hint);
            return true;
          },
        );
      } finally {
        t.remove();
      }
    });
  }

  test("a vars file holding a list names the file", () => {
    const t = writeTree({ "hosts.yml": "all:\n  hosts:\n    h:\n", "host_vars/h.yml": "- a\n- b\n" });
    try {
      assert.throws(() => loadInventory([t.path("hosts.yml")]), (e: unknown) =>
        e instanceof UserError && e.where?.file === t.path("host_vars/h.yml") && e.where?.line === 1 && /must be a mapping/.test(e.message));
    } finally {
      t.remove();
    }
  });

  test("a group cycle is reported", () => {
    const t = writeTree({ "hosts.yml": "a:\n  children:\n    b:\n      children:\n        a:\n" });
    try {
      assert.throws(() => loadInventory([t.path("hosts.yml")]), /cycle/);
    } finally {
      t.remove();
    }
  });
});
