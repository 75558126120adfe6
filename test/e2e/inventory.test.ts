/**
 * `npx zx inv` and `deno run -A scripts/inventory.ts` against Debian's ansible-inventory on
 * the same inventories: the example rack and a folder inventory with group_vars/host_vars.
 * --list, --host and --graph must print exactly what ansible-inventory prints, except that
 * secret values are masked (the one intended difference, asserted too). In a folder of its
 * own: ansible.cfg's inventory (under ANSIBLE_INVENTORY and -i), and inline !vault values
 * listed as ansible-inventory lists them.
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { encryptVault } from "../../scripts/lib/vault/format.ts";

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

/** Ours in `cwd` (not the checkout), with no ANSIBLE_* of the machine but those given. */
function oursIn(runtime: string, cwd: string, args: string[], env: Record<string, string> = {}) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("ANSIBLE_")));
  const [cmd, pre] = runtime === "deno" ? [deno, ["run", "-A", join(root, "scripts", "inventory.ts")]] : [join(root, "node_modules", ".bin", "zx"), [join(root, "inv")]];
  return spawnSync(cmd, [...pre, ...args], { cwd, encoding: "utf8", env: { ...base, NO_COLOR: "1", ...env } });
}

function theirsIn(cwd: string, args: string[], env: Record<string, string> = {}) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("ANSIBLE_")));
  return spawnSync(ansible, args, { cwd, encoding: "utf8", env: { ...base, ANSIBLE_NOCOLOR: "1", ...env } });
}

for (const runtime of Object.keys(tools)) {
  const missing = !ansible ? "ansible-inventory is not installed (scripts/setup.sh installs it)" : runtime === "deno" && !existsSync(deno) ? "deno is not installed (npm ci installs it)" : false;
  describe(`inv under ${runtime} reads ansible.cfg and vaulted values as ansible-inventory does`, { skip: missing }, () => {
    test("inventory from ./ansible.cfg; ANSIBLE_INVENTORY beats it; -i beats both", () => {
      const cwd = join(dir, `cfg-${runtime}`);
      mkdirSync(cwd, { recursive: true, mode: 0o755 });
      for (const name of ["cfg", "env", "flag"]) writeFileSync(join(cwd, `${name}.yml`), `all:\n  hosts:\n    from-${name}:\n`);
      writeFileSync(join(cwd, "ansible.cfg"), "[defaults]\ninventory = cfg.yml\n");
      const cases: [string[], Record<string, string>, string][] = [
        [["--graph"], {}, "from-cfg"],
        [["--graph"], { ANSIBLE_INVENTORY: "env.yml" }, "from-env"],
        [["--graph", "-i", "flag.yml"], { ANSIBLE_INVENTORY: "env.yml" }, "from-flag"],
      ];
      for (const [args, env, host] of cases) {
        const r = oursIn(runtime, cwd, args, env);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, `@all:\n  |--@ungrouped:\n  |  |--${host}\n`);
        assert.equal(r.stdout, theirsIn(cwd, args, env).stdout);
      }
      // An edit works on ansible.cfg's inventory too.
      const edit = oursIn(runtime, cwd, ["add-host", "pi-9"]);
      assert.equal(edit.status, 0, edit.stderr);
      assert.equal(readFileSync(join(cwd, "cfg.yml"), "utf8"), "all:\n  hosts:\n    from-cfg:\n    pi-9:\n");
    });

    test("an inline !vault variable: --list/--host/-y show its envelope, with or without the password; --graph --vars needs it", () => {
      const cwd = join(dir, `vault-${runtime}`);
      mkdirSync(cwd, { recursive: true, mode: 0o755 });
      writeFileSync(join(cwd, "pass"), "rack-pass\n");
      const inline = (value: string) => encryptVault(Buffer.from(value), Buffer.from("rack-pass")).trimEnd().split("\n").map((l) => `          ${l}`).join("\n");
      writeFileSync(join(cwd, "hosts.yml"), `all:\n  hosts:\n    pi-1:\n      plain: 1\n      db_password: !vault |\n${inline("hunter2")}\n      greeting: !vault |\n${inline("hello")}\n`);
      for (const pw of [[], ["--vault-password-file", "pass"]]) {
        for (const args of [["--list"], ["--host", "pi-1"], ["--list", "-y"]]) {
          const theirs = theirsIn(cwd, ["-i", "hosts.yml", ...args, ...pw]);
          assert.equal(theirs.status, 0, theirs.stderr);
          const r = oursIn(runtime, cwd, ["-i", "hosts.yml", ...args, ...pw]);
          assert.equal(r.status, 0, r.stderr);
          assert.equal(r.stdout, theirs.stdout, [...args, ...pw].join(" "));
        }
      }
      assert.match(oursIn(runtime, cwd, ["-i", "hosts.yml", "--host", "pi-1"]).stdout, /"db_password": \{\n {8}"__ansible_vault": "\$ANSIBLE_VAULT;1\.1;AES256\\n/);
      // --graph --vars decrypts: without a password both fail (exit 1); with it (here from
      // ansible.cfg's vault_password_file) ansible prints the values and we print them masked.
      assert.equal(theirsIn(cwd, ["-i", "hosts.yml", "--graph", "--vars"]).status, 1);
      const none = oursIn(runtime, cwd, ["-i", "hosts.yml", "--graph", "--vars"]);
      assert.equal(none.status, 1);
      assert.match(none.stderr, /^hosts\.yml:5:\d+: Attempting to decrypt vault data but no vault password was given/m);
      writeFileSync(join(cwd, "ansible.cfg"), "[defaults]\nvault_password_file = pass\n");
      const theirs = theirsIn(cwd, ["-i", "hosts.yml", "--graph", "--vars"]);
      assert.match(theirs.stdout, /\{db_password = hunter2\}/);
      const ours = oursIn(runtime, cwd, ["-i", "hosts.yml", "--graph", "--vars"]);
      assert.equal(ours.status, 0, ours.stderr);
      assert.equal(ours.stdout, theirs.stdout.replace("hunter2", "***").replace("hello", "***"));
    });
  });
}
