/**
 * The kubeconfig merge (scripts/lib/kubeconfig): a k3s.yaml becomes one named context in the
 * user's file; other entries are kept, a re-merge changes nothing, a name clash replaces only
 * our entries. Runs under Node (npm run test:unit) and Deno (test/e2e/kubeconfig.test.ts
 * runs this file with `deno test`).
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { clusterEntries, mergeKubeconfig } from "../../../scripts/lib/kubeconfig/merge.ts";
import { defaultKubeconfigPath, writeKubeconfig } from "../../../scripts/lib/kubeconfig/write.ts";
import { UserError } from "../../../scripts/lib/errors.ts";

// What k3s writes to /etc/rancher/k3s/k3s.yaml (certificate data shortened).
const K3S_YAML = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0EtREFUQQ==
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
`;

const USER_FILE = `apiVersion: v1
kind: Config
clusters:
- name: work
  cluster: {server: "https://work.example:443"}
- name: pi-cluster
  cluster: {server: "https://old-address:6443"}
users:
- name: work-admin
  user: {token: abc}
contexts:
- name: work
  context: {cluster: work, user: work-admin}
- name: pi-cluster
  context: {cluster: pi-cluster, user: pi-cluster, namespace: apps}
current-context: work
`;

const entries = () => clusterEntries(K3S_YAML, "pi-cluster", "https://192.168.0.20:6443");

describe("kubeconfig merge", () => {
  test("the server's entries are renamed and point at the API address", () => {
    const e = entries();
    assert.equal(e.cluster.name, "pi-cluster");
    assert.deepEqual(e.cluster.cluster, { "certificate-authority-data": "Q0EtREFUQQ==", server: "https://192.168.0.20:6443" });
    assert.deepEqual(e.context.context, { cluster: "pi-cluster", user: "pi-cluster" });
    assert.equal((e.user.user as Record<string, string>)["client-key-data"], "S0VZ");
  });

  test("into no file: a new kubeconfig with our context as the current one", () => {
    const r = mergeKubeconfig(undefined, entries());
    assert.equal(r.action, "added");
    const doc = parse(r.text);
    assert.equal(doc["current-context"], "pi-cluster");
    assert.equal(doc.kind, "Config");
    assert.deepEqual(doc.contexts.map((c: { name: string }) => c.name), ["pi-cluster"]);
  });

  test("existing contexts, clusters, users and the current context are kept", () => {
    const other = USER_FILE.replace(/- name: pi-cluster\n  cluster: \{server: "https:\/\/old-address:6443"\}\n/, "").replace(/- name: pi-cluster\n  context: .*\n/, "");
    const r = mergeKubeconfig(other, entries());
    assert.equal(r.action, "added");
    const doc = parse(r.text);
    assert.equal(doc["current-context"], "work", "the user's current context stays");
    assert.deepEqual(doc.clusters.find((c: { name: string }) => c.name === "work"), { name: "work", cluster: { server: "https://work.example:443" } });
    assert.deepEqual(doc.users.find((u: { name: string }) => u.name === "work-admin"), { name: "work-admin", user: { token: "abc" } });
    assert.deepEqual(doc.contexts.map((c: { name: string }) => c.name), ["work", "pi-cluster"]);
  });

  test("a second merge of the same cluster changes nothing", () => {
    const first = mergeKubeconfig(USER_FILE, entries());
    const second = mergeKubeconfig(first.text, entries());
    assert.equal(second.action, "unchanged");
    assert.equal(second.text, first.text);
  });

  test("a name clash replaces only the entries with our name", () => {
    const r = mergeKubeconfig(USER_FILE, entries());
    assert.equal(r.action, "updated");
    const doc = parse(r.text);
    assert.equal(doc.clusters.length, 2);
    assert.equal(doc.clusters.find((c: { name: string }) => c.name === "pi-cluster").cluster.server, "https://192.168.0.20:6443");
    assert.equal(doc.clusters.find((c: { name: string }) => c.name === "work").cluster.server, "https://work.example:443");
    assert.deepEqual(doc.contexts.find((c: { name: string }) => c.name === "pi-cluster").context, { cluster: "pi-cluster", user: "pi-cluster" });
    assert.deepEqual(doc.contexts.find((c: { name: string }) => c.name === "work").context, { cluster: "work", user: "work-admin" });
  });

  test("a broken kubeconfig or a bad name is a clear error, not a rewrite", () => {
    assert.throws(() => mergeKubeconfig("clusters: [1, 2]\n", entries(), "/home/me/.kube/config"), (e: unknown) => e instanceof UserError && /\/home\/me\/\.kube\/config: "clusters" is not a list/.test(e.message));
    assert.throws(() => mergeKubeconfig("a: [", entries(), "cfg"), (e: unknown) => e instanceof UserError && /cfg is not valid YAML/.test(e.message));
    assert.throws(() => clusterEntries(K3S_YAML, "bad name", "https://x:6443"), /not usable/);
    assert.throws(() => clusterEntries(K3S_YAML, "pi", "http://x:6443"), /not https/);
    assert.throws(() => clusterEntries("kind: Config\n", "pi", "https://x:6443"), /no complete context/);
  });

  test("the file is written 0600 with a backup of the old one; $KUBECONFIG's first file is the target", () => {
    const dir = mkdtempSync(join(tmpdir(), "kubeconfig-unit-"));
    try {
      const path = join(dir, "nested", "config");
      assert.equal(writeKubeconfig(path, "a: 1\n"), undefined);
      const backup = writeKubeconfig(path, "a: 2\n", new Date("2026-12-04T20:00:00Z"));
      assert.equal(readFileSync(path, "utf8"), "a: 2\n");
      assert.equal(readFileSync(backup!, "utf8"), "a: 1\n");
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(statSync(backup!).mode & 0o777, 0o600);
      assert.deepEqual(readdirSync(join(dir, "nested")).sort(), ["config", "config.2026-12-04T20-00-00-000Z.bak"], "no temporary file is left");
      writeFileSync(join(dir, "x"), "");
      assert.equal(defaultKubeconfigPath({ KUBECONFIG: `${join(dir, "x")}:/other`, HOME: "/h" }), join(dir, "x"));
      assert.equal(defaultKubeconfigPath({ HOME: "/h" }), "/h/.kube/config");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
