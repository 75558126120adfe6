/**
 * roles/cluster-addresses: the one rule for another node's address (static_ip_address without
 * the prefix length, else ansible_host, else the name), read by base-os's /etc/hosts block,
 * ntp's time server address, postgresql's listen address and pg_hba lines and k3s-server's
 * first server address. The roles are loaded by the runner's own loader (one play with them
 * all, the dependency coming from their meta), and their task arguments rendered with the role
 * defaults and vars and an inventory's hostvars, as a run would.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPlaybook } from "../../../scripts/lib/playbook/load.ts";
import type { Item, Play, Task } from "../../../scripts/lib/playbook/types.ts";
import { Templar } from "../../../scripts/lib/template/templar.ts";
import { createHostvars } from "../../../scripts/lib/template/hostvars.ts";

const INVENTORY: Record<string, Record<string, unknown>> = {
  master: { static_ip_address: "192.168.0.20/24", ansible_host: "10.0.0.20" },
  "pi-1": { static_ip_address: "", ansible_host: "10.0.0.21", base_os_hostname: "node1" },
  "pi-2": {},
  "pi-3": { static_ip_address: "{{ '192.168.0.' ~ (20 + 3) }}/24" },
};

function loadPlay(): Play {
  const dir = mkdtempSync(join(tmpdir(), "cluster-addresses-"));
  try {
    writeFileSync(join(dir, "site.yml"), "- hosts: all\n  roles: [base-os, ntp, postgresql, k3s-server]\n");
    return loadPlaybook(join(dir, "site.yml")).plays[0];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function findTask(items: Item[], name: string): Task | undefined {
  for (const item of items) {
    if (item.kind === "task" && item.name === name) return item;
    if (item.kind === "block") {
      const found = findTask([...item.block, ...item.rescue, ...item.always], name);
      if (found) return found;
    }
  }
  return undefined;
}

const play = loadPlay();

/** A host's variables as a task of `role` sees them: every role's defaults, the inventory's, the roles' vars, the magic ones. */
function varsOf(host: string, role: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const own = play.roles.find((r) => r.name === role)!;
  const defaults = Object.assign({}, ...play.roles.map((r) => r.defaults), own.defaults);
  const roleVars = Object.assign({}, ...play.roles.map((r) => r.vars), own.vars);
  const hostvars = createHostvars(Object.keys(INVENTORY), (h) => ({ ...INVENTORY[h], inventory_hostname: h }));
  const groups = { all: Object.keys(INVENTORY), cluster: Object.keys(INVENTORY), servers: ["pi-3", "master"] };
  return { ...defaults, ...INVENTORY[host], ...roleVars, ...extra, inventory_hostname: host, groups, play_hosts: Object.keys(INVENTORY), hostvars };
}

function taskArgs(name: string): Record<string, unknown> {
  const task = findTask(play.items, name);
  assert.ok(task, `no task "${name}" in base-os or ntp`);
  return task.args;
}

test("base-os, ntp, postgresql and k3s-server depend on cluster-addresses, which the play loads once", () => {
  assert.deepEqual(play.roles.map((r) => r.name).filter((n) => n === "cluster-addresses"), ["cluster-addresses"]);
  assert.equal(typeof play.roles.find((r) => r.name === "cluster-addresses")!.defaults.cluster_addresses, "string");
});

test("cluster_addresses: the static address without its prefix, else ansible_host, else the name; templated values rendered as the host's", () => {
  const addresses = new Templar(varsOf("master", "base-os")).renderString("{{ cluster_addresses }}");
  assert.deepEqual(addresses, { master: "192.168.0.20", "pi-1": "10.0.0.21", "pi-2": "pi-2", "pi-3": "192.168.0.23" });
});

test("base-os's /etc/hosts block lists every node at that address under its hostname", () => {
  const block = new Templar(varsOf("pi-1", "base-os", { base_os_hosts_domain: "lan" })).render(taskArgs("List every cluster node in /etc/hosts").block);
  assert.equal(
    block,
    ["192.168.0.20\tmaster.lan master", "10.0.0.21\tnode1.lan node1", "pi-2\tpi-2.lan pi-2", "192.168.0.23\tpi-3.lan pi-3", ""].join("\n"),
  );
});

test("ntp's clients ask the time server at its address; the server itself and a node without ntp_serve_clients ask no one", () => {
  const decide = taskArgs("Decide this node's time source");
  const master = (host: string, extra: Record<string, unknown>) =>
    (new Templar(varsOf(host, "ntp", { ansible_facts: { virtualization_tech_guest: [] }, ...extra })).render(decide) as Record<string, unknown>).__ntp_master_address;
  assert.equal(master("pi-1", { ntp_serve_clients: true, ntp_server_host: "master" }), "192.168.0.20");
  assert.equal(master("pi-1", { ntp_serve_clients: true, ntp_server_host: "pi-2" }), "pi-2");
  assert.equal(master("master", { ntp_serve_clients: true, ntp_server_host: "master" }), "");
  assert.equal(master("pi-1", { ntp_serve_clients: false, ntp_server_host: "master" }), "");
});

test("postgresql listens on its own address and lets each k3s server in at its address", () => {
  const task = findTask(play.items, "Listen on this host's address with scram-sha-256 passwords")!;
  assert.equal(new Templar({ ...varsOf("pi-2", "postgresql"), ...task.vars }).renderString("{{ __postgresql_own_address }}"), "pi-2");
  assert.equal(new Templar({ ...varsOf("master", "postgresql"), ...task.vars }).renderString("{{ __postgresql_own_address }}"), "192.168.0.20");
  const block = String(new Templar(varsOf("pi-2", "postgresql")).render(taskArgs("Let the k3s servers connect to the k3s database").block));
  assert.deepEqual(
    block.split("\n").filter(Boolean).map((line) => line.split(/\s+/).slice(3, 4)[0]),
    ["192.168.0.23/32", "192.168.0.20/32"],
  );
});

test("k3s-server's API address is the first server's", () => {
  assert.equal(new Templar(varsOf("pi-1", "k3s-server")).renderString("{{ k3s_api_address }}"), "192.168.0.23");
});
