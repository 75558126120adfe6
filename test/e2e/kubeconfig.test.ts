/**
 * scripts/kubeconfig.ts end to end, as users run it: `./kubeconfig --from -` under Node (the
 * entry the playbook step calls) and `deno run -A scripts/kubeconfig.ts --from FILE`, merging a
 * k3s.yaml into a kubeconfig that already has a context; and the merge's unit tests under
 * `deno test` (Node runs them with the unit tests).
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const root = fileURLToPath(new URL("../../", import.meta.url));
const deno = join(root, "node_modules", ".bin", "deno");
const noDeno = !existsSync(deno) && "deno is not installed (npm ci installs it as a dev dependency)";
const dir = mkdtempSync(join(tmpdir(), "kubeconfig-e2e-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const K3S_YAML = `apiVersion: v1
clusters:
- cluster: {certificate-authority-data: Q0E=, server: "https://127.0.0.1:6443"}
  name: default
contexts:
- context: {cluster: default, user: default}
  name: default
current-context: default
kind: Config
users:
- name: default
  user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ}
`;
const EXISTING = `apiVersion: v1
kind: Config
clusters: [{name: work, cluster: {server: "https://work.example:443"}}]
users: [{name: work-admin, user: {token: abc}}]
contexts: [{name: work, context: {cluster: work, user: work-admin}}]
current-context: work
`;

function check(path: string, server: string): void {
  const doc = parse(readFileSync(path, "utf8"));
  assert.deepEqual(doc.contexts.map((c: { name: string }) => c.name), ["work", "pi"]);
  assert.equal(doc["current-context"], "work");
  assert.equal(doc.clusters.find((c: { name: string }) => c.name === "pi").cluster.server, server);
  assert.equal(statSync(path).mode & 0o777, 0o600);
}

describe("./kubeconfig and scripts/kubeconfig.ts", () => {
  test("Node: ./kubeconfig --from - merges stdin, then a re-run leaves the file alone", () => {
    const path = join(dir, "node", "config");
    mkdirSync(join(dir, "node"));
    writeFileSync(path, EXISTING);
    const args = ["--from", "-", "--server", "https://10.0.0.1:6443", "--context", "pi", "--kubeconfig", path];
    const r = spawnSync(join(root, "kubeconfig"), args, { input: K3S_YAML, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^added the context pi \(https:\/\/10\.0\.0\.1:6443\) in .*; the old file is .*\.bak\n$/);
    check(path, "https://10.0.0.1:6443");
    const again = spawnSync(join(root, "kubeconfig"), args, { input: K3S_YAML, encoding: "utf8" });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /^unchanged: /);
    assert.equal(readdirSync(join(dir, "node")).filter((f) => f.endsWith(".bak")).length, 1, "no second backup");
  });

  test("a bad kubeconfig is refused with the file named, and left as it was", () => {
    const path = join(dir, "bad-config");
    writeFileSync(path, "clusters: 3\n");
    const r = spawnSync(join(root, "kubeconfig"), ["--from", "-", "--server", "https://10.0.0.1:6443", "--kubeconfig", path], { input: K3S_YAML, encoding: "utf8" });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /bad-config: "clusters" is not a list/);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, "no stack trace");
    assert.equal(readFileSync(path, "utf8"), "clusters: 3\n");
  });

  test("Deno: deno run -A scripts/kubeconfig.ts --from FILE", { skip: noDeno }, () => {
    const path = join(dir, "deno-config");
    writeFileSync(path, EXISTING);
    writeFileSync(join(dir, "k3s.yaml"), K3S_YAML);
    const r = spawnSync(deno, ["run", "-A", "scripts/kubeconfig.ts", "--from", join(dir, "k3s.yaml"), "--server", "https://10.0.0.2:6443", "--context", "pi", "--kubeconfig", path], { cwd: root, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    check(path, "https://10.0.0.2:6443");
  });

  test("Deno: the merge's unit tests", { skip: noDeno, timeout: 120_000 }, () => {
    const r = spawnSync(deno, ["test", "-A", "test/unit/kubeconfig/merge.test.ts"], { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /1 passed \(7 steps\)/);
  });
});
