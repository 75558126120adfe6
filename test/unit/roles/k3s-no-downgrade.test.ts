/**
 * site.yml's downgrade refusal, from the role's own task (roles/k3s-server/tasks/
 * no-downgrade.yml, "Refuse to downgrade the installed k3s"), rendered as the runner does:
 * release order as upgrade.yml's (numbers, an rc before its release, k3sN revisions), the
 * override, and a binary that is missing or not a release. The e2e test
 * (test/e2e/k3s-downgrade.test.ts) runs it over SSH against the k3s stand-in.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { Templar } from "../../../scripts/lib/template/templar.ts";

const file = resolve(dirname(fileURLToPath(import.meta.url)), "../../../roles/k3s-server/tasks/no-downgrade.yml");
const task = (parse(readFileSync(file, "utf8")) as Array<Record<string, any>>).find((t) => t.name === "Refuse to downgrade the installed k3s");

/** Whether the install may go on when preflight's probe read `stdout` from the node's `k3s --version`. */
function allowed(wanted: string, stdout: string, allowDowngrade = false): boolean {
  assert.ok(task, `the task is missing from ${file}`);
  const vars: Record<string, unknown> = { k3s_version: wanted, k3s_allow_downgrade: allowDowngrade, k3s_bin_dir: "/usr/local/bin", inventory_hostname: "pi-2", __k3s_node: { k3s_installed: stdout } };
  const templar = new Templar(vars);
  // Task vars are templated lazily, as Ansible's: each sees the ones before it.
  for (const [k, v] of Object.entries(task.vars as Record<string, string>)) vars[k] = String(templar.render(v)).trim();
  return (new Templar(vars).render(`{{ ${task["ansible.builtin.assert"].that} }}`) as unknown) === true;
}
const runs = (v: string) => `k3s version ${v} (1234abcd)`;

test("older releases are refused: minor, patch (as numbers), k3s revision, an rc of the installed release", () => {
  for (const [installed, wanted] of [
    ["v1.31.4+k3s1", "v1.30.8+k3s1"],
    ["v1.31.10+k3s1", "v1.31.9+k3s1"],
    ["v1.31.4+k3s2", "v1.31.4+k3s1"],
    ["v1.31.4+k3s1", "v1.31.4-rc1+k3s1"],
  ]) {
    assert.equal(allowed(wanted, runs(installed)), false, `${installed} -> ${wanted}`);
  }
});

test("the same or a newer release, no k3s, a binary that is not a release, or k3s_allow_downgrade: allowed", () => {
  for (const [installed, wanted] of [
    ["v1.31.4+k3s1", "v1.31.4+k3s1"],
    ["v1.31.9+k3s1", "v1.31.10+k3s1"],
    ["v1.31.4-rc1+k3s1", "v1.31.4+k3s1"],
    ["v1.30.8+k3s1", "v1.31.4+k3s1"],
  ]) {
    assert.equal(allowed(wanted, runs(installed)), true, `${installed} -> ${wanted}`);
  }
  assert.equal(allowed("v1.30.8+k3s1", ""), true, "no k3s installed");
  assert.equal(allowed("v1.30.8+k3s1", "k3s version dev-build\n"), true, "not a release: nothing to compare");
  assert.equal(allowed("v1.30.8+k3s1", runs("v1.31.4+k3s1"), true), true, "k3s_allow_downgrade");
});

test("the message names the host, both versions, the binary, upgrade.yml and the override", () => {
  const vars: Record<string, unknown> = { k3s_version: "v1.30.8+k3s1", k3s_bin_dir: "/usr/local/bin", inventory_hostname: "pi-2", __k3s_node: { k3s_installed: runs("v1.31.4+k3s1") } };
  const templar = new Templar(vars);
  for (const [k, v] of Object.entries(task!.vars as Record<string, string>)) vars[k] = String(templar.render(v)).trim();
  const msg = String(new Templar(vars).render(task!["ansible.builtin.assert"].fail_msg)).trim();
  assert.match(msg, /^pi-2 runs k3s v1\.31\.4\+k3s1 \(\/usr\/local\/bin\/k3s\), newer than k3s_version v1\.30\.8\+k3s1: refusing to downgrade it/);
  assert.match(msg, /playbooks\/upgrade\.yml/);
  assert.match(msg, /-e k3s_allow_downgrade=true\.$/);
});
