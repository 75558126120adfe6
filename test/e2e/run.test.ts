/**
 * The executor end to end over REAL SSH: a YAML playbook (command, copy, lineinfile,
 * set_fact, debug, assert, a handler) loaded by the loader, an inventory of two hosts that
 * both point at a throwaway loopback OpenSSH sshd (test/support/sshd.ts), everything written
 * inside one temp dir under /tmp. Run twice: the first run changes, the second changes nothing.
 * Also prints the per-task overhead of a no-op run (60 tasks x 8 hosts).
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useSshd, sshdAvailable, type Sshd } from "../support/sshd.ts";
import { loadInventory } from "../../scripts/lib/inventory/inventory.ts";
import { loadPlaybook } from "../../scripts/lib/playbook/load.ts";
import { runPlaybook } from "../../scripts/lib/run/execute.ts";
import type { RunEvent } from "../../scripts/lib/run/events.ts";
import type { RunOptions } from "../../scripts/lib/run/options.ts";
import { connectionSettingsFromVars, createTransport } from "../../scripts/lib/transport/connect.ts";

const missing = sshdAvailable();
const sshd: Sshd | undefined = missing ? undefined : await useSshd({ extraConfig: ["SetEnv SHLVL=1"] });
const dir = mkdtempSync(join(tmpdir(), "run-e2e-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function writeInventory(hosts: string[]): string {
  const file = join(dir, `hosts-${hosts.length}.yml`);
  const lines = ["all:", "  children:", "    nodes:", "      hosts:"];
  for (const h of hosts) lines.push(`        ${h}:`, `          ansible_host: 127.0.0.1`, `          ansible_port: ${sshd!.port}`, `          ansible_user: ${sshd!.user}`, `          ansible_ssh_private_key_file: ${sshd!.keyFile}`);
  writeFileSync(file, lines.join("\n") + "\n");
  return file;
}

async function runFile(playbookFile: string, inventoryFile: string, extra: Partial<RunOptions> = {}) {
  const events: RunEvent[] = [];
  const inventory = loadInventory([inventoryFile]);
  const playbook = loadPlaybook(playbookFile);
  const started = performance.now();
  const summary = await runPlaybook(playbook, {
    inventory,
    check: false,
    diff: false,
    forks: 50,
    tags: { only: [], skip: [] },
    extraVars: { work: dir },
    connection: {},
    verbosity: 0,
    sink: (e) => events.push(e),
    createTransport: (host, vars, overrides) => {
      const s = connectionSettingsFromVars(host, vars, overrides);
      return createTransport(host, { ...s, knownHostsFiles: [sshd!.knownHostsFile], useSshConfig: false, agentSocket: "", warn: () => {} });
    },
    ...extra,
  });
  return { summary, events, ms: performance.now() - started };
}

const PLAYBOOK = `
- name: e2e
  hosts: nodes
  gather_facts: false
  vars:
    base: "{{ work }}/{{ inventory_hostname }}"
    port: 8080
  tasks:
    - name: Make the host's dir
      command: mkdir -p {{ base }}/etc
      args:
        creates: "{{ base }}/etc"
    - name: Write the config
      copy:
        content: "hello {{ inventory_hostname }}\\n"
        dest: "{{ base }}/etc/app.conf"
      notify: config changed
    - name: Set the port
      lineinfile:
        path: "{{ base }}/etc/port.conf"
        line: "port={{ port }}"
        create: true
    - set_fact:
        greeting: "hi from {{ inventory_hostname }}"
    - debug:
        msg: "{{ greeting }}"
    - name: Read it back
      command: cat {{ base }}/etc/app.conf {{ base }}/etc/port.conf
      register: conf
      changed_when: false
    - assert:
        that:
          - "'port=8080' in conf.stdout_lines"
          - "conf.stdout_lines[0] == 'hello ' ~ inventory_hostname"
  handlers:
    - name: config changed
      shell: echo run >> {{ base }}/handler.log
`;

describe("runPlaybook over real SSH", { skip: missing }, () => {
  test("first run changes, second run changes nothing; handler once", async () => {
    const pb = join(dir, "site.yml");
    writeFileSync(pb, PLAYBOOK);
    const inv = writeInventory(["node1", "node2"]);
    const first = await runFile(pb, inv);
    const failures = first.events.filter((e) => e.type === "host-task-result" && e.result.status === "failed");
    assert.deepEqual(failures, [], JSON.stringify(failures.map((f) => (f as { result: unknown }).result)));
    assert.equal(first.summary.failed, false);
    assert.equal(first.summary.stats.node1.changed, 4); // mkdir, copy, lineinfile, handler
    assert.equal(readFileSync(join(dir, "node2/etc/app.conf"), "utf8"), "hello node2\n");
    assert.equal(readFileSync(join(dir, "node2/etc/port.conf"), "utf8"), "port=8080\n");
    const debug = first.events.find((e) => e.type === "host-task-result" && e.host === "node2" && e.task.module === "debug");
    assert.equal((debug as { result: { msg: string } }).result.msg, "hi from node2");

    const second = await runFile(pb, inv);
    assert.equal(second.summary.failed, false);
    const changedTasks = second.events.flatMap((e) => (e.type === "host-task-result" && e.result.status === "changed" ? [`${e.host}: ${e.task.name ?? e.task.module}: ${e.result.msg}`] : []));
    assert.deepEqual(changedTasks, []);
    for (const h of ["node1", "node2"]) assert.equal(second.summary.stats[h].changed, 0, `${h} changed on the second run`);
    assert.equal(readFileSync(join(dir, "node1/handler.log"), "utf8"), "run\n");
    assert.ok(existsSync(join(dir, "node1/etc")));
  });

  test("delegate_to: localhost runs on the controller, with the host's variables", async () => {
    const pb = join(dir, "delegate.yml");
    writeFileSync(pb, `- hosts: nodes
  gather_facts: false
  tasks:
    - shell: echo "\${SSH_CONNECTION:-none}"
      register: remote
      changed_when: false
    - shell: echo "\${SSH_CONNECTION:-none} {{ inventory_hostname }}"
      delegate_to: localhost
      register: here
      changed_when: false
    - assert:
        that:
          - "remote.stdout.endswith(' ${sshd!.port}')"
          - "not here.stdout.startswith(remote.stdout)"
          - "here.stdout.endswith(' ' ~ inventory_hostname)"
`);
    const r = await runFile(pb, writeInventory(["d1"]));
    const bad = r.events.filter((e) => e.type === "host-task-result" && e.result.status === "failed");
    assert.deepEqual(bad.map((e) => (e as { result: { msg?: string } }).result.msg), []);
    assert.equal(r.summary.stats.d1.ok, 3);
  });

  test("a 60-task x 8-host no-op run changes nothing (and prints its per-task overhead)", async () => {
    const tasks: string[] = [];
    for (let i = 0; i < 60; i++) {
      tasks.push(`    - name: line ${i}\n      lineinfile:\n        path: "{{ work }}/noop-{{ inventory_hostname }}"\n        line: "key${i}=value"\n        create: true`);
    }
    const pb = join(dir, "noop.yml");
    writeFileSync(pb, `- hosts: nodes\n  gather_facts: false\n  tasks:\n${tasks.join("\n")}\n`);
    const inv = writeInventory(Array.from({ length: 8 }, (_, i) => `n${i}`));
    const first = await runFile(pb, inv);
    assert.equal(first.summary.failed, false);
    const second = await runFile(pb, inv);
    assert.equal(second.summary.failed, false);
    for (const s of Object.values(second.summary.stats)) assert.equal(s.changed, 0);
    const perTask = second.ms / 60;
    // The same number of bare round trips (`true`) on 8 fresh connections, for comparison.
    const bare = Array.from({ length: 8 }, (_, i) => {
      const s = connectionSettingsFromVars(`n${i}`, { ansible_host: "127.0.0.1", ansible_port: sshd!.port, ansible_user: sshd!.user, ansible_ssh_private_key_file: sshd!.keyFile });
      return createTransport(`n${i}`, { ...s, knownHostsFiles: [sshd!.knownHostsFile], useSshConfig: false, agentSocket: "", warn: () => {} });
    });
    const t0 = performance.now();
    await Promise.all(bare.map(async (t) => {
      await t.connect();
      for (let i = 0; i < 60; i++) await t.exec("true");
    }));
    const bareMs = performance.now() - t0;
    await Promise.all(bare.map((t) => t.close()));
    console.log(`# no-op run, 60 tasks x 8 hosts over loopback SSH: ${second.ms.toFixed(0)} ms total, ${perTask.toFixed(2)} ms per task (all 8 hosts); 8 x (connect + 60 bare round trips): ${bareMs.toFixed(0)} ms`);
    // Printed, not asserted: timing belongs to the benchmark (npm run bench), not to tests.
  });
});
