/**
 * `npx zx adhoc` and `deno run -A scripts/adhoc.ts` over REAL SSH to a throwaway loopback
 * sshd (two inventory hosts pointing at it): ansible's output layouts, check mode changing
 * nothing, and its exit codes (2 when a host fails, 4 unreachable, 5 bad options). In a
 * folder of its own: the inventory, user and key from ./ansible.cfg (ANSIBLE_* and flags
 * beating it) and a vaulted inventory variable opened by the vault flags or ansible.cfg.
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, useSshd, sshdAvailable, type Sshd } from "../support/sshd.ts";
import { encryptVault } from "../../scripts/lib/vault/format.ts";

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

/** Ours in `cwd` (not the checkout), with no ANSIBLE_* or ssh-agent of the machine. */
function adhocIn(runtime: string, cwd: string, args: string[], env: Record<string, string> = {}) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("ANSIBLE_") && k !== "SSH_AUTH_SOCK"));
  const [cmd, pre] = runtime === "deno" ? [deno, ["run", "-A", join(root, "scripts", "adhoc.ts")]] : [join(root, "node_modules", ".bin", "zx"), [join(root, "adhoc")]];
  const r = spawnSync(cmd, [...pre, ...args], { cwd, encoding: "utf8", env: { ...base, NO_COLOR: "1", ...env }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, all: `${r.stdout}\n${r.stderr}` };
}

for (const runtime of Object.keys(tools)) {
  const missing = noSshd || (runtime === "deno" && !existsSync(deno) && "deno is not installed (npm ci installs it)");
  describe(`adhoc under ${runtime} reads ansible.cfg and vaulted values`, { skip: missing }, () => {
    // The inventories name no user or key: those come from ansible.cfg only.
    const cwd = join(dir, `cfg-${runtime}`);
    const setup = () => {
      mkdirSync(cwd, { recursive: true, mode: 0o755 });
      copyFileSync(sshd!.keyFile, join(cwd, "cluster_key"));
      chmodSync(join(cwd, "cluster_key"), 0o600);
      writeFileSync(join(cwd, "pass"), "rack-pass\n");
      const word = encryptVault(Buffer.from("open sesame"), Buffer.from("rack-pass")).trimEnd().split("\n").map((l) => `          ${l}`).join("\n");
      for (const name of ["cfg", "env", "flag"]) {
        writeFileSync(join(cwd, `${name}.yml`), `all:\n  hosts:\n    from-${name}:\n      ansible_host: 127.0.0.1\n      ansible_port: ${sshd!.port}\n      ansible_ssh_common_args: -o UserKnownHostsFile=${sshd!.knownHostsFile}\n      word: !vault |\n${word}\n`);
      }
      writeFileSync(join(cwd, "ansible.cfg"), `[defaults]\ninventory = cfg.yml\nremote_user = ${sshd!.user}\nprivate_key_file = cluster_key\ntimeout = 5\n`);
    };

    test("inventory, remote_user and private_key_file from ./ansible.cfg; ANSIBLE_* beat the file, flags beat both", () => {
      setup();
      const echo = ["all", "-a", "echo {{ inventory_hostname }}", "-o"];
      const cfg = adhocIn(runtime, cwd, echo);
      assert.equal(cfg.status, 0, cfg.all);
      assert.equal(cfg.stdout, "from-cfg | CHANGED | rc=0 | (stdout) from-cfg\n");
      const env = adhocIn(runtime, cwd, echo, { ANSIBLE_INVENTORY: "env.yml" });
      assert.equal(env.stdout, "from-env | CHANGED | rc=0 | (stdout) from-env\n", env.all);
      const flag = adhocIn(runtime, cwd, [...echo, "-i", "flag.yml"], { ANSIBLE_INVENTORY: "env.yml" });
      assert.equal(flag.stdout, "from-flag | CHANGED | rc=0 | (stdout) from-flag\n", flag.all);
      // A user the sshd does not know cannot log in (exit 4): the variable beat the file; -u beats it.
      const wrongUser = adhocIn(runtime, cwd, echo, { ANSIBLE_REMOTE_USER: "no-such-user-cfg" });
      assert.equal(wrongUser.status, 4, wrongUser.all);
      assert.equal(adhocIn(runtime, cwd, [...echo, "-u", sshd!.user], { ANSIBLE_REMOTE_USER: "no-such-user-cfg" }).status, 0);
    });

    test("a vaulted inventory variable opens with --vault-password-file or ansible.cfg's vault_password_file", () => {
      setup();
      const check = ["all", "-a", "test '{{ word }}' = 'open sesame'", "-o"];
      const none = adhocIn(runtime, cwd, check);
      assert.notEqual(none.status, 0);
      assert.match(none.all, /cfg\.yml:\d+:\d+: Attempting to decrypt vault data but no vault password was given/);
      const flag = adhocIn(runtime, cwd, [...check, "--vault-password-file", "pass"]);
      assert.equal(flag.status, 0, flag.all);
      assert.doesNotMatch(flag.all, /open sesame/, "the decrypted value is a secret: masked in the output");
      writeFileSync(join(cwd, "ansible.cfg"), `[defaults]\ninventory = cfg.yml\nremote_user = ${sshd!.user}\nprivate_key_file = cluster_key\nvault_password_file = pass\n`);
      const cfg = adhocIn(runtime, cwd, check);
      assert.equal(cfg.status, 0, cfg.all);
    });
  });
}
