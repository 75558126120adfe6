/**
 * scripts/vault.ts against Debian's ansible-vault, both directions, under Node (`zx vault`,
 * the root entry file) and Deno (`deno run -A scripts/vault.ts`): files (1.1 and 1.2 with a
 * vault id), encrypt_string read by ansible-playbook, rekey, edit through $EDITOR (its private
 * 0700 scratch folder is gone afterwards), a wrong password; and the runner reading vaulted
 * files and `!vault` values that ansible-vault wrote. Everything in one temp dir.
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const deno = join(root, "node_modules", ".bin", "deno");
const zx = join(root, "node_modules", ".bin", "zx");
const ansibleVault = spawnSync("which", ["ansible-vault"], { encoding: "utf8" }).stdout.trim();
const missing = !ansibleVault && "ansible-vault is not installed (scripts/setup.sh installs Debian's ansible)";
const dir = mkdtempSync(join(tmpdir(), "vault-e2e-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, NO_COLOR: "1", ANSIBLE_CONFIG: join(dir, "none.cfg") };
delete (env as Record<string, string | undefined>).EDITOR;
writeFileSync(join(dir, "pw1"), "first password\n");
writeFileSync(join(dir, "pw2"), "second password\n");
writeFileSync(join(dir, "bad"), "not it\n");

function sh(cmd: string, args: string[], extraEnv: Record<string, string> = {}, input?: string) {
  const r = spawnSync(cmd, args, { cwd: dir, encoding: "utf8", env: { ...env, ...extraEnv }, input, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, all: `${r.stdout}\n${r.stderr}` };
}
const ansible = (...args: string[]) => sh(ansibleVault, args);

const runtimes: [string, string | false, (args: string[], extraEnv?: Record<string, string>, input?: string) => ReturnType<typeof sh>][] = [
  ["node (zx vault)", false, (args, e, i) => sh(zx, [join(root, "vault"), ...args], e, i)],
  ["deno", !existsSync(deno) && "deno is not installed", (args, e, i) => sh(deno, ["run", "-A", join(root, "scripts", "vault.ts"), ...args], e, i)],
];

for (const [name, skip, ours] of runtimes) {
  describe(`vault.ts under ${name} and ansible-vault read each other`, { skip: missing || skip }, () => {
    const d = join(dir, name.split(" ")[0]);
    mkdirSync(d);
    const f = (n: string) => join(d, n);

    test("files: ours 1.1 and 1.2 open with ansible-vault; ansible-vault's open with ours", () => {
      writeFileSync(f("a.yml"), "k3s_token: from-ours\n");
      writeFileSync(f("b.yml"), "db_password: from-ours-1.2\n");
      assert.equal(ours(["encrypt", "--vault-password-file", "pw1", f("a.yml")]).status, 0);
      const r = ours(["encrypt", "--vault-id", "lab@pw2", f("b.yml")]);
      assert.equal(r.status, 0, r.all);
      assert.match(readFileSync(f("a.yml"), "utf8"), /^\$ANSIBLE_VAULT;1\.1;AES256\n/);
      assert.match(readFileSync(f("b.yml"), "utf8"), /^\$ANSIBLE_VAULT;1\.2;AES256;lab\n/);
      assert.equal(ansible("view", "--vault-password-file", "pw1", f("a.yml")).stdout, "k3s_token: from-ours\n");
      assert.equal(ansible("decrypt", "--vault-id", "lab@pw2", "--output", "-", f("b.yml")).stdout, "db_password: from-ours-1.2\n");

      writeFileSync(f("c.yml"), "token: from-ansible\n");
      writeFileSync(f("d.yml"), "token: from-ansible-1.2\n");
      assert.equal(ansible("encrypt", "--vault-password-file", "pw1", f("c.yml")).status, 0);
      assert.equal(ansible("encrypt", "--vault-id", "prod@pw2", f("d.yml")).status, 0);
      assert.equal(ours(["view", "--vault-password-file", "pw1", f("c.yml")]).stdout, "token: from-ansible\n");
      // Both passwords given: the 1.2 label picks; decrypt in place writes the plaintext.
      const dec = ours(["decrypt", "--vault-id", "dev@pw1", "--vault-id", "prod@pw2", f("d.yml")]);
      assert.equal(dec.status, 0, dec.all);
      assert.equal(readFileSync(f("d.yml"), "utf8"), "token: from-ansible-1.2\n");
    });

    test("encrypt_string: ours (1.1 and 1.2) is read by ansible-playbook", () => {
      const one = ours(["encrypt_string", "--vault-password-file", "pw1", "--name", "plain_id", "value one"]);
      const two = ours(["encrypt_string", "--vault-id", "lab@pw2", "--stdin-name", "labelled"], {}, "value two");
      assert.equal(one.status, 0, one.all);
      assert.equal(two.status, 0, two.all);
      assert.match(two.stdout, /^labelled: !vault \|\n {10}\$ANSIBLE_VAULT;1\.2;AES256;lab\n/);
      writeFileSync(f("strings.yml"), one.stdout + two.stdout);
      writeFileSync(f("pb.yml"), `- hosts: localhost\n  gather_facts: false\n  vars_files: [strings.yml]\n  tasks:\n    - copy: {content: "{{ plain_id }}|{{ labelled }}", dest: "${f("out.txt")}"}\n`);
      const r = sh("ansible-playbook", ["-i", "localhost,", "-c", "local", f("pb.yml"), "--vault-id", "default@pw1", "--vault-id", "lab@pw2"]);
      assert.equal(r.status, 0, r.all);
      assert.equal(readFileSync(f("out.txt"), "utf8"), "value one|value two");
    });

    test("rekey: ansible-vault opens the file with the new password only", () => {
      writeFileSync(f("r.yml"), "x: rekeyed\n");
      assert.equal(ours(["encrypt", "--vault-password-file", "pw1", f("r.yml")]).status, 0);
      const r = ours(["rekey", "--vault-password-file", "pw1", "--new-vault-id", "prod@pw2", f("r.yml")]);
      assert.equal(r.status, 0, r.all);
      assert.equal(ansible("view", "--vault-id", "prod@pw2", f("r.yml")).stdout, "x: rekeyed\n");
      assert.notEqual(ansible("view", "--vault-password-file", "pw1", f("r.yml")).status, 0);
    });

    test("edit: $EDITOR gets a 0600 file in a private 0700 folder that is gone afterwards; the result is re-encrypted", () => {
      writeFileSync(f("e.yml"), "a: 1\n");
      assert.equal(ansible("encrypt", "--vault-id", "prod@pw2", f("e.yml")).status, 0);
      const editor = f("editor.sh");
      writeFileSync(editor, `#!/bin/sh\nstat -c '%a' "$(dirname "$1")" "$1" > "${f("seen")}"\necho "$1" >> "${f("seen")}"\necho 'b: 2' >> "$1"\n`);
      chmodSync(editor, 0o700);
      const r = ours(["edit", "--vault-id", "prod@pw2", f("e.yml")], { EDITOR: editor });
      assert.equal(r.status, 0, r.all);
      const [dirMode, fileMode, scratch] = readFileSync(f("seen"), "utf8").trim().split("\n");
      assert.deepEqual([dirMode, fileMode], ["700", "600"]);
      assert.equal(existsSync(scratch), false);
      assert.equal(existsSync(join(scratch, "..")), false);
      assert.match(readFileSync(f("e.yml"), "utf8"), /^\$ANSIBLE_VAULT;1\.2;AES256;prod\n/);
      assert.equal(ansible("view", "--vault-id", "prod@pw2", f("e.yml")).stdout, "a: 1\nb: 2\n");
    });

    test("create: a new file from $EDITOR, encrypted with the --encrypt-vault-id password; an existing file is refused", () => {
      const editor = f("writer.sh");
      writeFileSync(editor, "#!/bin/sh\nprintf 'created: here\\n' > \"$1\"\n");
      chmodSync(editor, 0o700);
      const r = ours(["create", "--vault-id", "dev@pw1", "--vault-id", "prod@pw2", "--encrypt-vault-id", "prod", f("new.yml")], { EDITOR: editor });
      assert.equal(r.status, 0, r.all);
      assert.equal(ansible("view", "--vault-id", "prod@pw2", f("new.yml")).stdout, "created: here\n");
      const again = ours(["create", "--vault-password-file", "pw1", f("new.yml")], { EDITOR: editor });
      assert.equal(again.status, 1, again.all);
      assert.match(again.stderr, /exists, please use 'edit' instead/);
    });

    test("encrypting several files: one already encrypted means none is touched", () => {
      writeFileSync(f("m1.yml"), "m: 1\n");
      writeFileSync(f("m2.yml"), "m: 2\n");
      assert.equal(ours(["encrypt", "--vault-password-file", "pw1", f("m2.yml")]).status, 0);
      const r = ours(["encrypt", "--vault-password-file", "pw1", f("m1.yml"), f("m2.yml")]);
      assert.equal(r.status, 1, r.all);
      assert.match(r.stderr, /m2\.yml: input is already encrypted/);
      assert.equal(readFileSync(f("m1.yml"), "utf8"), "m: 1\n");
    });

    test("a wrong password: exit 1, the file named, nothing decrypted shown or written", () => {
      writeFileSync(f("w.yml"), "secret: do-not-show\n");
      assert.equal(ansible("encrypt", "--vault-password-file", "pw1", f("w.yml")).status, 0);
      const before = readFileSync(f("w.yml"), "utf8");
      for (const action of ["view", "decrypt"]) {
        const r = ours([action, "--vault-password-file", "bad", f("w.yml")]);
        assert.equal(r.status, 1, r.all);
        assert.match(r.stderr, new RegExp(`${f("w.yml")}: Decryption failed`));
        assert.doesNotMatch(r.all, /do-not-show/);
        assert.equal(readFileSync(f("w.yml"), "utf8"), before);
      }
    });
  });
}

describe("the runner reads what ansible-vault wrote (Node and Deno)", { skip: missing }, () => {
  const d = join(dir, "runner");
  mkdirSync(join(d, "group_vars"), { recursive: true });
  const inline = ansible("encrypt_string", "--vault-id", "prod@pw2", "--name", "datastore_password", "inline-s3cret").stdout;
  writeFileSync(join(d, "group_vars", "all.yml"), "k3s_token: file-t0ken\n");
  ansible("encrypt", "--vault-password-file", "pw1", join(d, "group_vars", "all.yml"));
  writeFileSync(join(d, "hosts.yml"), `all:\n  hosts:\n    localhost:\n      ansible_connection: local\n      ${inline.trimEnd().replace(/\n/g, "\n      ")}\n`);
  writeFileSync(join(d, "pb.yml"), `- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: {msg: "token {{ k3s_token }} and {{ datastore_password }}"}\n    - copy: {content: "{{ k3s_token }}|{{ datastore_password }}", dest: "{{ out }}"}\n`);
  const play = (how: string, args: string[]) =>
    how === "deno" ? sh(deno, ["run", "-A", join(root, "scripts", "play.ts"), ...args]) : sh(zx, [join(root, "run"), ...args]);

  for (const how of ["node", "deno"]) {
    test(`${how}: vault file in group_vars and an inline value in the inventory; values masked in the output`, { skip: how === "deno" && !existsSync(deno) && "deno is not installed" }, () => {
      const out = join(d, `${how}.txt`);
      const r = play(how, [join(d, "pb.yml"), "-i", join(d, "hosts.yml"), "--vault-password-file", "pw1", "--vault-id", "prod@pw2", "-e", `out=${out}`]);
      assert.equal(r.status, 0, r.all);
      assert.equal(readFileSync(out, "utf8"), "file-t0ken|inline-s3cret");
      // A message rendered from a !vault value is a Secret as a whole (taint), so it prints as ***.
      assert.match(r.stdout, /debug \(runner\/pb\.yml:4\) — \*\*\*\n/);
      assert.doesNotMatch(r.all, /file-t0ken|inline-s3cret/);
    });
  }

  test("a wrong password for the inline value fails the task that uses it, naming the inventory file and line", () => {
    const r = play("node", [join(d, "pb.yml"), "-i", join(d, "hosts.yml"), "--vault-password-file", "pw1", "--vault-id", "prod@bad", "-e", `out=${join(d, "never.txt")}`]);
    assert.equal(r.status, 2, r.all);
    assert.match(r.stdout, /failed: \[localhost\] debug .*hosts\.yml:5:\d+: Decryption failed/);
    assert.equal(existsSync(join(d, "never.txt")), false);
  });

  test("an inline value no task uses needs no password (decrypted on use, as Ansible)", () => {
    writeFileSync(join(d, "unused.yml"), "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=plain\n");
    const r = play("node", [join(d, "unused.yml"), "-i", join(d, "hosts.yml"), "--vault-password-file", "pw1"]);
    assert.equal(r.status, 0, r.all);
  });
});

const script = spawnSync("which", ["script"], { encoding: "utf8" }).stdout.trim();
describe("--ask-vault-pass on a terminal (script(1) provides the pty)", { skip: missing || (!script && "script(1) is not installed") }, () => {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const onTerminal = (command: string[], typed: string) => {
    const r = spawnSync(script, ["-qec", command.map(q).join(" "), "/dev/null"], { cwd: dir, encoding: "utf8", env, input: typed, timeout: 120_000 });
    return { status: r.status, out: r.stdout };
  };

  test("vault view and the runner ask 'Vault password: ' and use the answer", () => {
    const file = join(dir, "asked.yml");
    writeFileSync(file, "asked: yes-it-was\n");
    assert.equal(ansible("encrypt", "--vault-password-file", "pw1", file).status, 0);
    const view = onTerminal([zx, join(root, "vault"), "view", "--ask-vault-pass", file], "first password\r");
    assert.equal(view.status, 0, view.out);
    assert.match(view.out, /Vault password: [\s\S]*asked: yes-it-was/);

    writeFileSync(join(dir, "asked-pb.yml"), `- hosts: localhost\n  gather_facts: false\n  vars_files: [asked.yml]\n  tasks:\n    - copy: {content: "{{ asked }}", dest: "${join(dir, "asked.txt")}"}\n`);
    const run = onTerminal([zx, join(root, "run"), join(dir, "asked-pb.yml"), "-i", "localhost,", "-c", "local", "-J"], "first password\r");
    assert.equal(run.status, 0, run.out);
    assert.equal(readFileSync(join(dir, "asked.txt"), "utf8"), "yes-it-was");
  });
});
