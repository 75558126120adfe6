/**
 * Secrets end to end through the runner's command line over the local connection (real
 * command module, real writers, a real --json file): the become password (with a quote and a
 * backslash, and a 3-character one), a no_log task's registered output and forms rendered
 * from them never appear at -vv or in the report, and correct playbooks keep working.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "secrets-e2e-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function runPlaybook(password: string, playbook: string, flags: string[] = []) {
  const inventory = join(dir, "hosts.yml");
  // JSON is valid YAML: the password needs no YAML escaping of its own.
  writeFileSync(inventory, JSON.stringify({ all: { hosts: { local1: { ansible_connection: "local", ansible_become_password: password } } } }));
  const file = join(dir, "play.yml");
  writeFileSync(file, playbook);
  const report = join(dir, "report.json");
  rmSync(report, { force: true });
  const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/play.ts", "-i", inventory, file, "-vv", "--json", report, "-e", `work=${dir}`, ...flags], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, CI: "true", NO_COLOR: "1" },
  });
  return { status: r.status, output: r.stdout + r.stderr, report: readFileSync(report, "utf8") };
}

function assertHidden(text: string, secrets: string[]): void {
  for (const s of secrets) {
    for (const f of [s, JSON.stringify(s).slice(1, -1), JSON.stringify(JSON.stringify(s)).slice(1, -1)]) {
      assert.equal(text.includes(f), false, `${JSON.stringify(f)} printed:\n${text}`);
    }
  }
}

const PLAYBOOK = `
- hosts: all
  gather_facts: false
  tasks:
    - debug: var=hostvars
    - debug:
        msg: "{{ ansible_become_password | upper }} {{ ansible_become_password | b64encode }} {{ ansible_become_password[::-1] }} {{ [ansible_become_password, 'x'] | join('+') }}"
    - command: echo S3cretOut
      register: s
      no_log: true
    - debug: var=s.stdout
    - file: path={{ work }}/w state=directory
      no_log: true
    - command: ls -d {{ work }}/w
      register: l
    - debug: var=l.stdout
    - assert:
        that:
          - "l.stdout == work ~ '/w'"
          - "s.stdout == 'S3cretOut'"
`;

test("the become password, a no_log result and their derived forms are masked at -vv and in --json; the playbook passes", () => {
  const pw = 'Hunter2"Pass\\word';
  const r = runPlaybook(pw, PLAYBOOK);
  assert.equal(r.status, 0, r.output);
  const derived = [pw, pw.toUpperCase(), Buffer.from(pw).toString("base64"), [...pw].reverse().join(""), "Hunter2", "S3cretOut"];
  assertHidden(r.output, derived);
  assertHidden(r.report, derived);
  // The path given to a no_log task is not a secret: its later output is shown as it is.
  assert.match(r.output, new RegExp(`l\\.stdout: ${dir}/w`));
});

test("a 3-character become password is masked too", () => {
  const r = runPlaybook("k9!", `
- hosts: all
  gather_facts: false
  tasks:
    - debug: var=hostvars
    - debug: msg="{{ ansible_become_password }}"
    - command: echo sudo said k9! here
      register: e
    - debug: var=e.stdout
`);
  assert.equal(r.status, 0, r.output);
  assertHidden(r.output, ["k9!"]);
  assertHidden(r.report, ["k9!"]);
  assert.match(r.output, /e\.stdout: sudo said \*\*\* here/);
});

test("a template file rendered from the password shows no derived form in --diff", () => {
  writeFileSync(join(dir, "auth.conf.j2"), "user=pi\nauth={{ ansible_become_password | b64encode }}\n");
  const pw = "Correct-Horse-9";
  const r = runPlaybook(pw, `
- hosts: all
  gather_facts: false
  tasks:
    - template: src={{ work }}/auth.conf.j2 dest={{ work }}/auth.conf
`, ["--diff"]);
  assert.equal(r.status, 0, r.output);
  assert.equal(readFileSync(join(dir, "auth.conf"), "utf8"), `user=pi\nauth=${Buffer.from(pw).toString("base64")}\n`);
  assertHidden(r.output + r.report, [pw, Buffer.from(pw).toString("base64")]);
  assert.match(r.output, /changed: \[local1\] template/);
  // Secret content is created readable by its owner only.
  assert.equal(statSync(join(dir, "auth.conf")).mode & 0o777, 0o600);
});
