/**
 * The inventory script's edits through its main(), on real files: the exact text after each
 * edit (comments, blank lines, spacing and quoting of untouched lines kept), dry runs, the
 * backup, refusals (file:line, exit codes) that leave the file as it was.
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { main } from "../../../scripts/inventory.ts";
import { applyRenderedChange } from "../../../scripts/lib/inventory-edit/keep-format.ts";
import { writeTree, type Tree } from "../inventory/tree.ts";

const RACK = `# the rack
all:
  vars:
    ansible_user: pi
    ntp_servers: [ntp.nict.jp]   # flow list, odd spacing

  children:
    agents:
      hosts:
        pi-1:
          ansible_host: 192.168.0.21      # by DHCP
          ssd_storage_device: "serial:1234"
        pi-2:
          ansible_host: '192.168.0.22'
    ssd:
      hosts:
        pi-1:
`;

async function run(args: string[], tree: Tree) {
  let out = "";
  let err = "";
  const code = await main(["-i", tree.path("hosts.yml"), ...args], { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, cwd: tree.dir });
  return { code, out, err, text: readFileSync(tree.path("hosts.yml"), "utf8") };
}

/** RACK with lines replaced (1-based line -> new lines). */
function rackWith(changes: Record<number, string[]>): string {
  const lines = RACK.split("\n");
  const out: string[] = [];
  lines.forEach((line, i) => out.push(...(changes[i + 1] ?? [line])));
  return out.join("\n");
}

describe("inventory edits keep the file's own lines", () => {
  test("add-host to two groups with variables: only the new lines appear", async () => {
    const t = writeTree({ "hosts.yml": RACK });
    try {
      const r = await run(["add-host", "pi-3", "-g", "agents", "-g", "ssd", "--var", "ansible_host=192.168.0.23", "--var", "ssd_storage_device=serial:99"], t);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.text, rackWith({ 14: ["          ansible_host: '192.168.0.22'", "        pi-3:", "          ansible_host: 192.168.0.23", "          ssd_storage_device: serial:99"], 17: ["        pi-1:", "        pi-3:"] }));
      assert.equal(readFileSync(t.path("hosts.yml.bak"), "utf8"), RACK);
    } finally {
      t.remove();
    }
  });

  test("set-var on a host keeps the quoting of the value it replaces; on a group adds under vars", async () => {
    const t = writeTree({ "hosts.yml": RACK });
    try {
      assert.equal((await run(["set-var", "--host", "pi-2", "ansible_host=192.168.0.32"], t)).code, 0);
      const r = await run(["set-var", "-g", "all", "ansible_port=2222"], t);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.text, rackWith({ 5: ["    ntp_servers: [ntp.nict.jp]   # flow list, odd spacing", "    ansible_port: 2222"], 14: ["          ansible_host: '192.168.0.32'"] }));
    } finally {
      t.remove();
    }
  });

  test("remove-host from one group keeps its variables; from everywhere removes its block", async () => {
    const t = writeTree({ "hosts.yml": RACK });
    try {
      const one = await run(["remove-host", "pi-1", "-g", "ssd"], t);
      assert.equal(one.code, 0, one.err);
      assert.equal(one.text, rackWith({ 15: ["    ssd:"], 16: [], 17: [] }));
      const all = await run(["remove-host", "pi-1"], t);
      assert.equal(all.code, 0, all.err);
      assert.equal(all.text, rackWith({ 10: [], 11: [], 12: [], 15: ["    ssd:"], 16: [], 17: [] }));
    } finally {
      t.remove();
    }
  });

  test("move-host carries the host's variables and comments to the new group, as written", async () => {
    const t = writeTree({ "hosts.yml": RACK });
    try {
      const r = await run(["move-host", "pi-1", "--from", "agents", "--to", "servers"], t);
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, /Group "servers" did not exist/);
      assert.equal(
        r.text,
        rackWith({ 10: [], 11: [], 12: [], 17: ["        pi-1:", "    servers:", "      hosts:", "        pi-1:", "          ansible_host: 192.168.0.21      # by DHCP", '          ssd_storage_device: "serial:1234"'] }),
      );
    } finally {
      t.remove();
    }
  });

  test("rename-host renames every mention as a host and its host_vars file", async () => {
    const t = writeTree({ "hosts.yml": RACK, "host_vars/pi-1.yml": "# own\nfan: true\n" });
    try {
      const r = await run(["rename-host", "pi-1", "pi-9"], t);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.text, rackWith({ 10: ["        pi-9:"], 17: ["        pi-9:"] }));
      assert.equal(readFileSync(t.path("host_vars/pi-9.yml"), "utf8"), "# own\nfan: true\n");
      assert.equal(existsSync(t.path("host_vars/pi-1.yml")), false);
    } finally {
      t.remove();
    }
  });

  test("set-var and unset-var edit host_vars where the variable is set, since that is where it takes effect", async () => {
    const t = writeTree({ "hosts.yml": RACK, "host_vars/pi-2.yml": "# pi-2's own\nfan: true   # PoE HAT\nspeed: 3\n" });
    try {
      const set = await run(["set-var", "--host", "pi-2", "fan=false"], t);
      assert.equal(set.code, 0, set.err);
      assert.equal(set.text, RACK);
      assert.equal(readFileSync(t.path("host_vars/pi-2.yml"), "utf8"), "# pi-2's own\nfan: false  # PoE HAT\nspeed: 3\n");
      const unset = await run(["unset-var", "--host", "pi-2", "speed"], t);
      assert.equal(unset.code, 0, unset.err);
      assert.equal(readFileSync(t.path("host_vars/pi-2.yml"), "utf8"), "# pi-2's own\nfan: false  # PoE HAT\n");
    } finally {
      t.remove();
    }
  });

  test("the shipped inventory/hosts.yml (groups with `hosts: {}`): a host added in block style", async () => {
    const shipped = readFileSync(new URL("../../../inventory/hosts.yml", import.meta.url), "utf8");
    const t = writeTree({ "hosts.yml": shipped });
    try {
      const r = await run(["add-host", "pi-1", "-g", "agents", "--var", "ansible_host=192.168.1.51"], t);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.text, shipped.replace("        agents:\n          hosts: {}\n", "        agents:\n          hosts:\n            pi-1:\n              ansible_host: 192.168.1.51\n"));
      assert.notEqual(r.text, shipped);
    } finally {
      t.remove();
    }
  });

  test("--dry-run prints the diff and writes nothing", async () => {
    const t = writeTree({ "hosts.yml": RACK });
    try {
      const r = await run(["unset-var", "-g", "all", "ntp_servers", "--dry-run"], t);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /^-    ntp_servers: \[ntp\.nict\.jp\]   # flow list, odd spacing$/m);
      assert.equal(r.text, RACK);
      assert.equal(existsSync(t.path("hosts.yml.bak")), false);
    } finally {
      t.remove();
    }
  });

  test("role requirements are warned about, new problems only", async () => {
    const t = writeTree({ "hosts.yml": RACK });
    try {
      const r = await run(["add-host", "pi-4", "-g", "ssd"], t);
      assert.equal(r.code, 0);
      assert.match(r.err, /Host "pi-4" is in group "ssd" without ssd_storage_device/);
      assert.doesNotMatch(r.err, /pi-1/);
    } finally {
      t.remove();
    }
  });
});

describe("inventory edits refuse, and leave the file as it was", () => {
  const cases: Array<{ name: string; args: string[]; code: number; err: RegExp; files?: Record<string, string> }> = [
    { name: "an unknown host", args: ["remove-host", "pi-7"], code: 1, err: /Host "pi-7" is not in/ },
    { name: "a host name that is not a name", args: ["add-host", "pi 1;rm"], code: 5, err: /Invalid host name "pi 1;rm"/ },
    { name: "a host named as a group", args: ["add-host", "agents"], code: 1, err: /"agents" is already a group name/ },
    { name: "a new group with a dash", args: ["add-host", "pi-3", "-g", "new-workers"], code: 5, err: /Invalid group name "new-workers"/ },
    { name: "a group named as a host", args: ["add-host", "pi-3", "-g", "lonely"], code: 4, err: /^hosts\.yml:3:5: "lonely" is both a host and a group \(after this change; nothing was written\)/, files: { "hosts.yml": "all:\n  hosts:\n    lonely:\n" } },
    { name: "renaming onto an existing host", args: ["rename-host", "pi-1", "pi-2"], code: 1, err: /Host "pi-2" is already in the inventory/ },
    { name: "unsetting what is not set", args: ["unset-var", "--host", "pi-2", "nope"], code: 1, err: /has no variable "nope"/ },
    { name: "a value the schema refuses", args: ["set-var", "--host", "pi-2", "ansible_connection=telnet"], code: 4, err: /hosts\.yml:15:\d+: The inventory does not match its schema/ },
    { name: "an unknown command", args: ["ad-host", "x"], code: 5, err: /did you mean add-host/ },
    { name: "a move to the group it is in", args: ["move-host", "pi-1", "--from", "agents", "--to", "agents"], code: 5, err: /--from and --to are both "agents"/ },
    { name: "a move from a group it is not in", args: ["move-host", "pi-2", "--from", "ssd", "--to", "agents"], code: 1, err: /Host "pi-2" is not in group "ssd"\n  hint: It is in: agents\./ },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const files = c.files ?? { "hosts.yml": RACK };
      const t = writeTree(files);
      try {
        const r = await run(c.args, t);
        assert.equal(r.code, c.code, r.err);
        assert.match(r.err, c.err);
        assert.equal(r.text, files["hosts.yml"]);
        assert.equal(existsSync(t.path("hosts.yml.bak")), false);
      } finally {
        t.remove();
      }
    });
  }

  test("a YAML error names file:line", async () => {
    const t = writeTree({ "hosts.yml": "all:\n  hosts:\n    a: [\n" });
    try {
      const r = await run(["add-host", "b"], t);
      assert.equal(r.code, 4);
      assert.match(r.err, /^hosts\.yml:\d+:\d+: YAML syntax error/);
    } finally {
      t.remove();
    }
  });

  test("an INI inventory is edited only after convert, which writes the same inventory as YAML", async () => {
    const ini = "# rack\n[agents]\npi-1 ansible_host=10.0.0.1\npi-2\n\n[agents:vars]\nfan=1\n\n[cluster:children]\nagents\n";
    const t = writeTree({ hosts: ini });
    try {
      const io = () => {
        const o = { out: "", err: "" };
        return { o, io: { stdout: { write: (s: string) => (o.out += s) }, stderr: { write: (s: string) => (o.err += s) }, cwd: t.dir } };
      };
      const a = io();
      assert.equal(await main(["-i", t.path("hosts"), "add-host", "pi-3"], a.io), 5);
      assert.match(a.o.err, /INI inventory.*\n  hint: Convert it first/);
      const b = io();
      assert.equal(await main(["-i", t.path("hosts"), "convert"], b.io), 0, b.o.err);
      const c = io();
      assert.equal(await main(["-i", t.path("hosts.yml"), "--list"], c.io), 0);
      const d = io();
      await main(["-i", t.path("hosts"), "--list"], d.io);
      assert.equal(c.o.out, d.o.out);
      assert.equal(readFileSync(t.path("hosts"), "utf8"), ini);
      const e = io();
      assert.equal(await main(["-i", t.path("hosts.yml"), "add-host", "pi-3", "-g", "agents"], e.io), 0, e.o.err);
    } finally {
      t.remove();
    }
  });
});

describe("keep-format", () => {
  test("applies a rendered change to the original, keeping its cosmetic differences elsewhere", () => {
    assert.equal(applyRenderedChange("a: [1]   # x\nb: 2\n", "a: [ 1 ] # x\nb: 2\n", "a: [ 1 ] # x\nb: 3\n"), "a: [1]   # x\nb: 3\n");
    assert.equal(applyRenderedChange("k: v # c\n", "k: v\n  # c\n", "k: v\n  # c\nz: 1\n"), "k: v # c\nz: 1\n");
    assert.equal(applyRenderedChange("a: 1\r\nb: 2\r\n", "a: 1\nb: 2\n", "a: 1\nb: 3\n"), "a: 1\r\nb: 3\r\n");
    // A value changed in place keeps its comment's column.
    assert.equal(applyRenderedChange("a: 1      # one\nb: 2\n", "a: 1 # one\nb: 2\n", "a: 1000 # one\nb: 2\n"), "a: 1000   # one\nb: 2\n");
  });
});

describe("values from the command line", () => {
  test("YAML scalars and flow collections; anything else is the text typed", async () => {
    const { parseAssignment } = await import("../../../scripts/lib/inventory-edit/edits.ts");
    const value = (t: string) => parseAssignment(`k=${t}`, "the command line")[1];
    assert.equal(value("2222"), 2222);
    assert.equal(value("true"), true);
    assert.equal(value("'2222'"), "2222");
    assert.equal(value("null"), null);
    assert.deepEqual(value("[a, b]"), ["a", "b"]);
    assert.deepEqual(value("{x: 1}"), { x: 1 });
    assert.equal(value("#fff"), "#fff");
    assert.equal(value("hello: world"), "hello: world");
    assert.equal(value("2026-12-04"), "2026-12-04");
    assert.equal(value("serial:2049A1801234"), "serial:2049A1801234");
    assert.equal(value(""), "");
    assert.throws(() => parseAssignment("=x", "the command line"), /Expected name=value/);
    assert.throws(() => parseAssignment("a-b=x", "the command line"), /Invalid variable name "a-b"/);
  });
});
