/**
 * `npx zx inv` and `deno run -A scripts/inventory.ts` against Debian's ansible-inventory on
 * the same inventories: the example rack and a folder inventory with group_vars/host_vars.
 * --list, --host and --graph must print exactly what ansible-inventory prints, except that
 * secret values are masked (the one intended difference, asserted too).
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const root = fileURLToPath(new URL("../../", import.meta.url));
const deno = join(root, "node_modules", ".bin", "deno");
const ansible = spawnSync("sh", ["-c", "command -v ansible-inventory"], { encoding: "utf8" }).stdout.trim();
const dir = mkdtempSync(join(tmpdir(), "inventory-e2e-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function folderInventory(): string {
  const inv = join(dir, "rack");
  mkdirSync(join(inv, "group_vars"), { recursive: true });
  mkdirSync(join(inv, "host_vars", "pi-2"), { recursive: true });
  writeFileSync(join(inv, "hosts.yml"), "all:\n  hosts:\n    lonely:\n  children:\n    cluster:\n      children:\n        agents:\n          hosts:\n            pi-1:\n              fan: 1\n            pi-2:\n    ssd:\n      hosts:\n        pi-2:\n");
  writeFileSync(join(inv, "group_vars", "all.yml"), "tz: Asia/Tokyo\nfan: 0\nk3s_token: s3cr3t-token\n");
  writeFileSync(join(inv, "group_vars", "agents.yml"), "role: agent\nfan: 2\n");
  writeFileSync(join(inv, "host_vars", "pi-2", "disk.yml"), "ssd_storage_device: serial:42\n");
  writeFileSync(join(inv, "host_vars", "lonely.yml"), "ansible_become_password: hunter22\n");
  return inv;
}

const tools = {
  node: (args: string[]) => spawnSync("npx", ["zx", "inv", ...args], { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } }),
  deno: (args: string[]) => spawnSync(deno, ["run", "-A", "scripts/inventory.ts", ...args], { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } }),
};

function theirs(args: string[]): string {
  const r = spawnSync(ansible, args, { cwd: dir, encoding: "utf8", env: { ...process.env, ANSIBLE_NOCOLOR: "1" } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** Ansible's output with the secret values we mask replaced by *** (JSON, YAML and --graph --vars forms). */
function masked(text: string): string {
  return text.replace(/\bs3cr3t-token\b/g, "***").replace(/\bhunter22\b/g, "***").replace(/: \*\*\*$/gm, ": '***'");
}

for (const [runtime, ours] of Object.entries(tools)) {
  const missing = !ansible ? "ansible-inventory is not installed (scripts/setup.sh installs it)" : runtime === "deno" && !existsSync(deno) ? "deno is not installed (npm ci installs it)" : false;
  describe(`inventory listings under ${runtime} match ansible-inventory`, { skip: missing }, () => {
    const example = join(root, "inventory", "hosts.example.yml");
    for (const args of [["--list"], ["--host", "pi-3"], ["--graph"], ["--graph", "cluster"], ["--graph", "--vars"]]) {
      test(`example rack: ${args.join(" ")}`, () => {
        const r = ours(["-i", example, ...args]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, theirs(["-i", example, ...args]));
      });
    }
    test("folder inventory with group_vars/host_vars: --list, --host, --graph; secrets masked", () => {
      const inv = folderInventory();
      for (const args of [["--list"], ["--host", "pi-2"], ["--host", "lonely"], ["--graph"], ["--graph", "--vars"]]) {
        const r = ours(["-i", inv, ...args]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, masked(theirs(["-i", inv, ...args])), args.join(" "));
      }
      // -y: the same data (PyYAML's anchors and line folding aside).
      for (const args of [["--list", "-y"], ["--host", "pi-2", "-y"]]) {
        const r = ours(["-i", inv, ...args]);
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(parse(r.stdout), parse(masked(theirs(["-i", inv, ...args]))), args.join(" "));
      }
      const list = ours(["-i", inv, "--list"]).stdout;
      assert.doesNotMatch(list, /s3cr3t|hunter22/);
      assert.match(list, /"k3s_token": "\*\*\*"/);
    });
    test("an unknown --host or --graph group exits 5 as ansible-inventory does", () => {
      const r = ours(["-i", example, "--host", "nope"]);
      assert.equal(r.status, 5);
      assert.match(r.stderr, /"nope" is not in the inventory/);
      const g = ours(["-i", example, "--graph", "nope"]);
      assert.equal(g.status, 5);
      assert.match(g.stderr, /"nope" is not a group/);
      if (ansible) assert.equal(spawnSync(ansible, ["-i", example, "--graph", "nope"]).status, 5);
    });
    test("an edit under this runtime writes the file, keeping its comments", () => {
      const file = join(dir, `${runtime}-hosts.yml`);
      writeFileSync(file, "# mine\nall:\n  hosts:\n    a:   # first\n");
      const r = ours(["-i", file, "add-host", "b", "--var", "ansible_port=2222"]);
      assert.equal(r.status, 0, r.stderr);
      const after = spawnSync("cat", [file], { encoding: "utf8" }).stdout;
      assert.equal(after, "# mine\nall:\n  hosts:\n    a:   # first\n    b:\n      ansible_port: 2222\n");
    });
  });
}

describe("npx zx inv starts from the bundle", () => {
  test("a missing bundle is built once (dist/inventory.mjs), then loaded as is", () => {
    // A dist/ of its own, with node_modules beside it as in the checkout (the bundle keeps npm packages external).
    const outdir = join(dir, "bundle", "dist");
    mkdirSync(join(dir, "bundle"), { recursive: true });
    symlinkSync(join(root, "node_modules"), join(dir, "bundle", "node_modules"));
    const env = { ...process.env, PI_RUNNER_DIST: outdir, PI_RUNNER_LOADER_TRACE: "1" };
    const example = join(root, "inventory", "hosts.example.yml");
    const first = spawnSync("npx", ["zx", "inv", "-i", example, "--graph", "servers"], { cwd: root, encoding: "utf8", env });
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /inv: loaded via rebuilt bundle/);
    assert.ok(existsSync(join(outdir, "inventory.mjs")) && existsSync(join(outdir, "adhoc.mjs")));
    const second = spawnSync("npx", ["zx", "inv", "-i", example, "--graph", "servers"], { cwd: root, encoding: "utf8", env });
    assert.match(second.stderr, /inv: loaded via bundle\n/);
    assert.equal(second.stdout, "@servers:\n  |--pi-master\n");
  });
});
