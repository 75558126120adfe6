/**
 * The runner under Deno, end to end over REAL SSH: `deno run -A scripts/play.ts` (deno from
 * the npm registry, a dev dependency; deno.json maps the bare imports) runs a playbook against
 * two hosts that both point at a throwaway loopback sshd. First run changes, second changes
 * nothing, and the JSON report and the files on the target say so. Keeps Deno compatibility
 * checked on every run rather than retrofitted.
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { useSshd, sshdAvailable, type Sshd } from "../support/sshd.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const deno = join(root, "node_modules", ".bin", "deno");
const missing = sshdAvailable() || (!existsSync(deno) && "deno is not installed (npm ci installs it as a dev dependency)");
const sshd: Sshd | undefined = missing ? undefined : await useSshd();
const dir = mkdtempSync(join(tmpdir(), "deno-e2e-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const PLAYBOOK = `
- name: deno e2e
  hosts: nodes
  gather_facts: false
  vars:
    base: "{{ work }}/{{ inventory_hostname }}"
  tasks:
    - name: Make the host's dir
      file:
        path: "{{ base }}/etc"
        state: directory
        mode: "0755"
    - name: Write the config
      copy:
        content: "hello {{ inventory_hostname }}\\n"
        dest: "{{ base }}/etc/app.conf"
        mode: "0644"
      notify: config changed
    - name: Set the port
      lineinfile:
        path: "{{ base }}/etc/port.conf"
        line: "port=8080"
        create: true
    - name: Read it back
      command: cat {{ base }}/etc/app.conf
      register: conf
      changed_when: false
    - assert:
        that: "conf.stdout == 'hello ' ~ inventory_hostname"
  handlers:
    - name: config changed
      shell: echo run >> {{ base }}/handler.log
`;

interface Stats {
  ok: number;
  changed: number;
  failures: number;
  unreachable: number;
}

function denoRun(playbook: string, inventory: string, report: string) {
  const r = spawnSync(deno, ["run", "-A", "scripts/play.ts", playbook, "-i", inventory, "-e", `work=${dir}`, "--json", report], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, CI: "true", NO_COLOR: "1" },
    timeout: 120_000,
  });
  const stats = existsSync(report) ? (JSON.parse(readFileSync(report, "utf8")).stats as Record<string, Stats>) : {};
  return { status: r.status, output: `${r.stdout}\n${r.stderr}`, stats };
}

describe("the runner under Deno over real SSH", { skip: missing }, () => {
  test("first run changes, second run changes nothing; the handler ran once", () => {
    const pb = join(dir, "site.yml");
    writeFileSync(pb, PLAYBOOK);
    const inv = join(dir, "hosts.yml");
    const host = (name: string) => [
      `        ${name}:`,
      "          ansible_host: 127.0.0.1",
      `          ansible_port: ${sshd!.port}`,
      `          ansible_user: ${sshd!.user}`,
      `          ansible_ssh_private_key_file: ${sshd!.keyFile}`,
      `          ansible_ssh_common_args: -o UserKnownHostsFile=${sshd!.knownHostsFile}`,
    ];
    writeFileSync(inv, ["all:", "  children:", "    nodes:", "      hosts:", ...host("d1"), ...host("d2")].join("\n") + "\n");

    const first = denoRun(pb, inv, join(dir, "first.json"));
    assert.equal(first.status, 0, first.output);
    for (const h of ["d1", "d2"]) {
      // file, copy, lineinfile, the handler
      assert.equal(first.stats[h]?.changed, 4, `${h}: ${JSON.stringify(first.stats[h])}\n${first.output}`);
      assert.equal(readFileSync(join(dir, h, "etc", "app.conf"), "utf8"), `hello ${h}\n`);
    }
    assert.match(first.output, /PLAY RECAP/);

    const second = denoRun(pb, inv, join(dir, "second.json"));
    assert.equal(second.status, 0, second.output);
    for (const h of ["d1", "d2"]) {
      assert.equal(second.stats[h]?.changed, 0, `${h} changed on the second run\n${second.output}`);
      assert.equal(second.stats[h]?.failures, 0);
      assert.equal(readFileSync(join(dir, h, "handler.log"), "utf8"), "run\n");
    }
  });
});
