/**
 * Issue 8 findings 3, 4, 7 and 8 through the whole executor over REAL SSH (a throwaway
 * loopback OpenSSH sshd): the hostile values come from the inventory and reach the modules
 * through templating, in check mode and in a real run. The proof that nothing was evaluated
 * is that marker files the values would create do not exist, and that nothing was written
 * outside its place.
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useSshd, sshdAvailable, type Sshd } from "../support/sshd.ts";
import { loadInventory } from "../../scripts/lib/inventory/inventory.ts";
import { loadPlaybook } from "../../scripts/lib/playbook/load.ts";
import { runPlaybook } from "../../scripts/lib/run/execute.ts";
import type { RunEvent } from "../../scripts/lib/run/events.ts";
import { connectionSettingsFromVars, createTransport } from "../../scripts/lib/transport/connect.ts";

const missing = sshdAvailable();
const sshd: Sshd | undefined = missing ? undefined : await useSshd({ extraConfig: ["SetEnv SHLVL=1"] });
const root = mkdtempSync(join(tmpdir(), "inject-e2e-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** One work dir per run, deep enough that ../../escaped stays inside root. */
function workDir(name: string): string {
  const work = join(root, name, "w1", "w2");
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, "done"), "");
  writeFileSync(join(work, "src.txt"), "data\n");
  return work;
}

function writeInventory(work: string): string {
  const file = join(work, "..", "hosts.yml");
  const host = (name: string) => [
    `        ${JSON.stringify(name)}:`,
    `          ansible_host: 127.0.0.1`,
    `          ansible_port: ${sshd!.port}`,
    `          ansible_user: ${sshd!.user}`,
    `          ansible_ssh_private_key_file: ${sshd!.keyFile}`,
  ];
  const lines = [
    "all:",
    "  vars:",
    `    evil_glob: ${JSON.stringify("done[$(touch PWN-creates)]")}`,
    `    evil_glob_backticks: ${JSON.stringify("done[`touch PWN-removes`]")}`,
    `    evil_host: ${JSON.stringify(`127.0.0.1/1;touch ${work}/PWN-wait-for;#`)}`,
    `    evil_value: ${JSON.stringify("1\nfs.pwn_second_line=2")}`,
    "  children:",
    "    nodes:",
    "      hosts:",
    ...host("node1"),
    ...host("../../escaped"),
  ];
  writeFileSync(file, lines.join("\n") + "\n");
  return file;
}

const PLAYBOOK = `
- hosts: nodes
  gather_facts: false
  tasks:
    - name: creates with $(...)
      command: touch ran-creates
      args:
        chdir: "{{ work }}"
        creates: "{{ work }}/{{ evil_glob }}"
      when: inventory_hostname == 'node1'
    - name: removes with backticks
      command: touch ran-removes
      args:
        chdir: "{{ work }}"
        removes: "{{ work }}/{{ evil_glob_backticks }}"
      when: inventory_hostname == 'node1'
    - name: wait_for host with a command
      wait_for:
        host: "{{ evil_host }}"
        port: 1
        timeout: 1
      ignore_errors: true
      when: inventory_hostname == 'node1'
    - name: sysctl value with a second line
      sysctl:
        name: fs.pwn_first_line
        value: "{{ evil_value }}"
        sysctl_file: "{{ work }}/sysctl.conf"
        reload: false
      ignore_errors: true
      when: inventory_hostname == 'node1'
    - name: fetch into dest/<host>
      fetch:
        src: "{{ work }}/src.txt"
        dest: "{{ work }}/fetched"
      ignore_errors: true
`;

async function run(work: string, check: boolean) {
  const events: RunEvent[] = [];
  const pb = join(work, "..", "site.yml");
  writeFileSync(pb, PLAYBOOK);
  const summary = await runPlaybook(loadPlaybook(pb), {
    inventory: loadInventory([writeInventory(work)]),
    check,
    diff: false,
    forks: 5,
    tags: { only: [], skip: [] },
    extraVars: { work },
    connection: {},
    verbosity: 0,
    sink: (e) => events.push(e),
    createTransport: (host, vars, overrides) => {
      const s = connectionSettingsFromVars(host, vars, overrides);
      return createTransport(host, { ...s, knownHostsFiles: [sshd!.knownHostsFile], useSshConfig: false, agentSocket: "", warn: () => {} });
    },
  });
  const result = (host: string, name: string) => {
    const e = events.find((x) => x.type === "host-task-result" && x.host === host && x.task.name === name);
    assert.ok(e && e.type === "host-task-result", `no result for ${host}: ${name}`);
    return e.result as { status: string; msg?: string };
  };
  return { summary, result };
}

describe("hostile inventory values over real SSH", { skip: missing }, () => {
  for (const check of [true, false]) {
    test(`nothing is evaluated, nothing written out of place${check ? " (check mode)" : ""}`, async () => {
      const work = workDir(check ? "check" : "apply");
      const { result } = await run(work, check);

      // 4: the globs matched nothing (no such literal file) and ran nothing.
      assert.deepEqual(readdirSync(work).filter((f) => f.startsWith("PWN")), [], "a creates/removes pattern or the wait_for host was evaluated");
      assert.equal(result("node1", "removes with backticks").status, "ok", "removes: the literal path does not exist, so the command is skipped");

      // 3: refused, naming the option and the value.
      const wait = result("node1", "wait_for host with a command");
      assert.equal(wait.status, "failed");
      assert.match(wait.msg ?? "", /option "host" must be a host name or IP address.*127\.0\.0\.1\/1;touch/s);

      // 7: refused; the sysctl file was not written.
      const sysctl = result("node1", "sysctl value with a second line");
      assert.equal(sysctl.status, "failed");
      assert.match(sysctl.msg ?? "", /option "value" must be a single line/);
      assert.equal(existsSync(join(work, "sysctl.conf")), false);

      // 8: the host named ../../escaped is refused; node1's file lands in dest/node1/.
      const escaped = result("../../escaped", "fetch into dest/<host>");
      assert.equal(escaped.status, "failed");
      assert.match(escaped.msg ?? "", /Detected directory traversal/);
      // dest/../../escaped/<src> is work/../escaped/<src>
      assert.equal(existsSync(join(work, "..", "escaped")), false, "fetch wrote outside dest");
      assert.equal(existsSync(join(work, "fetched", "escaped")), false);
      if (!check) assert.ok(existsSync(join(work, "fetched", "node1", work, "src.txt")), "node1's fetch did not land in dest/node1/<src>");
    });
  }
});
