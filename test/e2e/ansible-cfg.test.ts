/**
 * ansible.cfg taking effect end to end over REAL SSH (a throwaway loopback sshd): the
 * inventory, remote_user and private_key_file come only from ./ansible.cfg (no -i, -u,
 * --private-key, and the inventory names no user or key); `npx zx run` in that folder logs in
 * and the remote `id -un` says who (and under `deno run -A scripts/play.ts`). ANSIBLE_REMOTE_USER
 * beats the file, -u beats both.
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { useSshd, sshdAvailable, type Sshd } from "../support/sshd.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const missing = sshdAvailable();
const sshd: Sshd | undefined = missing ? undefined : await useSshd();
const dir = mkdtempSync(join(tmpdir(), "cfg-e2e-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const deno = join(root, "node_modules", ".bin", "deno");

function run(args: string[], env: Record<string, string> = {}, runtime: "node" | "deno" = "node") {
  const base = { ...process.env, NO_COLOR: "1", CI: "true" } as Record<string, string | undefined>;
  delete base.ANSIBLE_CONFIG;
  delete base.SSH_AUTH_SOCK; // only the key named in ansible.cfg may log in
  const [cmd, pre] = runtime === "deno" ? [deno, ["run", "-A", join(root, "scripts", "play.ts")]] : [join(root, "node_modules", ".bin", "zx"), [join(root, "run")]];
  const r = spawnSync(cmd, [...pre, ...args], { cwd: dir, encoding: "utf8", env: { ...base, ...env }, timeout: 120_000 });
  return { status: r.status, all: `${r.stdout}\n${r.stderr}` };
}

describe("ansible.cfg settings reach the SSH connection", { skip: missing }, () => {
  test("inventory, remote_user and private_key_file from ./ansible.cfg; env and flags win", () => {
    chmodSync(dir, 0o755);
    copyFileSync(sshd!.keyFile, join(dir, "cluster_key"));
    chmodSync(join(dir, "cluster_key"), 0o600);
    writeFileSync(join(dir, "ansible.cfg"), `[defaults]\ninventory = hosts.yml\nremote_user = ${sshd!.user}\nprivate_key_file = cluster_key\ntimeout = 5\n`);
    writeFileSync(join(dir, "hosts.yml"), `all:\n  hosts:\n    node1:\n      ansible_host: 127.0.0.1\n      ansible_port: ${sshd!.port}\n      ansible_ssh_common_args: -o UserKnownHostsFile=${sshd!.knownHostsFile}\n`);
    writeFileSync(join(dir, "who.yml"), `- hosts: all\n  gather_facts: false\n  tasks:\n    - command: id -un\n      register: who\n      changed_when: false\n    - copy: {content: "{{ who.stdout }}", dest: "${join(dir, "who.txt")}"}\n`);

    const ok = run(["who.yml"]);
    assert.equal(ok.status, 0, ok.all);
    assert.equal(readFileSync(join(dir, "who.txt"), "utf8"), sshd!.user);
    if (existsSync(deno)) {
      rmSync(join(dir, "who.txt"));
      const viaDeno = run(["who.yml"], {}, "deno");
      assert.equal(viaDeno.status, 0, viaDeno.all);
      assert.equal(readFileSync(join(dir, "who.txt"), "utf8"), sshd!.user);
    }

    // The environment beats the file: a user the sshd does not know cannot log in (exit 4).
    const env = run(["who.yml"], { ANSIBLE_REMOTE_USER: "no-such-user-cfg" });
    assert.equal(env.status, 4, env.all);
    assert.match(env.all, /no-such-user-cfg/);
    // A flag beats both.
    const flag = run(["who.yml", "-u", sshd!.user], { ANSIBLE_REMOTE_USER: "no-such-user-cfg" });
    assert.equal(flag.status, 0, flag.all);

    // Without the key from ansible.cfg the login fails: the setting is what made it work.
    writeFileSync(join(dir, "ansible.cfg"), `[defaults]\ninventory = hosts.yml\nremote_user = ${sshd!.user}\ntimeout = 5\ngathering = smart\n`);
    const nokey = run(["who.yml"]);
    assert.equal(nokey.status, 4, nokey.all);
    assert.match(nokey.all, /\[WARNING\]: .*ansible\.cfg:5: \[defaults\] gathering is not supported/);
  });
});
