/**
 * `npx zx adhoc` and `deno run -A scripts/adhoc.ts` over REAL SSH to a throwaway loopback
 * sshd (two inventory hosts pointing at it): ansible's output layouts, check mode changing
 * nothing, and its exit codes (2 when a host fails, 4 unreachable, 5 bad options).
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, useSshd, sshdAvailable, type Sshd } from "../support/sshd.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const deno = join(root, "node_modules", ".bin", "deno");
const noSshd = sshdAvailable();
const sshd: Sshd | undefined = noSshd ? undefined : await useSshd();
const dir = mkdtempSync(join(tmpdir(), "adhoc-e2e-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function inventory(): string {
  const inv = join(dir, "hosts.yml");
  const host = (name: string, port: number) => [
    `        ${name}:`,
    "          ansible_host: 127.0.0.1",
    `          ansible_port: ${port}`,
    `          ansible_user: ${sshd!.user}`,
    `          ansible_ssh_private_key_file: ${sshd!.keyFile}`,
    `          ansible_ssh_common_args: -o UserKnownHostsFile=${sshd!.knownHostsFile}`,
  ];
  writeFileSync(inv, ["all:", "  children:", "    nodes:", "      hosts:", ...host("a1", sshd!.port), ...host("a2", sshd!.port), "    down:", "      hosts:", ...host("gone", closedPort)].join("\n") + "\n");
  return inv;
}
const closedPort = await freePort();

const tools = {
  node: (args: string[]) => spawnSync("npx", ["zx", "adhoc", ...args], { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 120_000 }),
  deno: (args: string[]) => spawnSync(deno, ["run", "-A", "scripts/adhoc.ts", ...args], { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 120_000 }),
};

for (const [runtime, adhoc] of Object.entries(tools)) {
  const missing = noSshd || (runtime === "deno" && !existsSync(deno) && "deno is not installed (npm ci installs it)");
  describe(`adhoc under ${runtime} over real SSH`, { skip: missing }, () => {
    test("command: `host | CHANGED | rc=0 >>` and its output; -o on one line", () => {
      const inv = inventory();
      const r = adhoc(["nodes", "-i", inv, "-a", "echo hello {{ inventory_hostname }}"]);
      assert.equal(r.status, 0, r.stderr);
      for (const h of ["a1", "a2"]) assert.match(r.stdout, new RegExp(`^${h} \\| CHANGED \\| rc=0 >>\\nhello ${h}\\n`, "m"));
      const one = adhoc(["a1", "-i", inv, "-m", "shell", "-a", "printf 'x\\ny'", "-o"]);
      assert.equal(one.status, 0, one.stderr);
      assert.equal(one.stdout, "a1 | CHANGED | rc=0 | (stdout) x\\ny\n");
    });

    test("ping: `host | SUCCESS => {json}` as ansible prints it", () => {
      const r = adhoc(["nodes", "-i", inventory(), "-m", "ping"]);
      assert.equal(r.status, 0, r.stderr);
      for (const h of ["a1", "a2"]) assert.match(r.stdout, new RegExp(`^${h} \\| SUCCESS => \\{\\n    "changed": false,\\n    "ping": "pong"\\n\\}$`, "m"));
    });

    test("another module: `host | CHANGED => {json}`, then SUCCESS; --check changes nothing", () => {
      const inv = inventory();
      const file = join(dir, `${runtime}-file.txt`);
      const args = ["a1", "-i", inv, "-m", "copy", "-a", `content=hi dest=${file}`];
      const check = adhoc([...args, "--check"]);
      assert.equal(check.status, 0, check.stderr);
      assert.match(check.stdout, /^a1 \| CHANGED => \{\n    "changed": true/m);
      assert.equal(existsSync(file), false);
      const first = adhoc(args);
      assert.equal(first.status, 0, first.stderr);
      assert.equal(readFileSync(file, "utf8"), "hi");
      const again = adhoc(args);
      assert.match(again.stdout, /^a1 \| SUCCESS => \{\n    "changed": false/m);
    });

    // sudo without a password: the test user must be root (as on CI).
    test("-b runs the module through sudo, --become-user as whom; -e and --limit as ansible", { skip: process.getuid?.() !== 0 && "needs root for passwordless sudo" }, () => {
      const inv = inventory();
      const r = adhoc(["nodes", "-i", inv, "-b", "--become-user", "nobody", "-a", "sh -c 'echo {{ word }} $(id -un)'", "-e", "word=as", "--limit", "a2", "-o"]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, "a2 | CHANGED | rc=0 | (stdout) as nobody\n");
    });

    test("exit codes: 2 when a host fails, 4 when unreachable, 5 for bad options", () => {
      const inv = inventory();
      const failed = adhoc(["a1", "-i", inv, "-a", "false"]);
      assert.equal(failed.status, 2, failed.stderr);
      assert.match(failed.stdout, /^a1 \| FAILED \| rc=1 >>/m);
      const down = adhoc(["gone", "-i", inv, "-a", "true"]);
      assert.equal(down.status, 4, down.stdout + down.stderr);
      assert.match(down.stdout, /^gone \| UNREACHABLE! => \{/m);
      const bad = adhoc(["a1", "-i", inv, "--frob"]);
      assert.equal(bad.status, 5);
      assert.match(bad.stderr, /unknown option --frob/);
    });
  });
}
