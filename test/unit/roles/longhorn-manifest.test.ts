/**
 * roles/longhorn's HelmChart, rendered from the role's own template, defaults and set_fact
 * expressions (roles/longhorn/tasks/server.yml), validated against a HelmChart schema written
 * from helm-controller's CRD (helmchart.schema.json), and its valuesContent parsed and checked.
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { Ajv } from "ajv";
import { Templar } from "../../../scripts/lib/template/templar.ts";

const here = dirname(fileURLToPath(import.meta.url));
const role = resolve(here, "../../../roles/longhorn");
const defaults = parse(readFileSync(join(role, "defaults/main.yml"), "utf8")) as Record<string, unknown>;
const serverTasks = parse(readFileSync(join(role, "tasks/server.yml"), "utf8")) as Array<Record<string, any>>;
const template = readFileSync(join(role, "templates/longhorn.yaml.j2"), "utf8");
const validate = new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(JSON.parse(readFileSync(join(here, "helmchart.schema.json"), "utf8")));
/** Not a type guard (Ajv's narrows the manifest to unknown). */
const valid = (x: unknown): boolean => validate(x);
const RFC1123_FILE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function task(name: string): Record<string, any> {
  const t = serverTasks.find((x) => x.name === name);
  assert.ok(t, `no task "${name}" in tasks/server.yml`);
  return t;
}

/** The server's variables as the role sees them: defaults, the inventory's, then the set_facts. */
function serverVars(inventory: Record<string, unknown>, storageNodes: string[]): Record<string, unknown> {
  const vars: Record<string, unknown> = { ...defaults, ...inventory, groups: { ssd: storageNodes, servers: ["master"] }, inventory_hostname: "master" };
  const facts = new Templar(vars).render(task("Count the storage nodes and decide the replica count")["ansible.builtin.set_fact"]) as Record<string, unknown>;
  return { ...vars, ...facts };
}

/** Whether a task's `when` holds for these variables. */
function holds(vars: Record<string, unknown>, name: string): boolean {
  const when = String(task(name).when).replace(/\n/g, " ");
  return Boolean(new Templar(vars).renderString(`{{ ${when} }}`));
}

function render(vars: Record<string, unknown>): { fileName: string; manifest: any; values: any } {
  const t = new Templar(vars);
  const fileName = String(t.renderString("{{ longhorn_manifest_name }}")) + ".yaml";
  const manifest = parse(String(t.renderFile(template, "longhorn.yaml.j2")));
  return { fileName, manifest, values: parse(manifest.spec.valuesContent) };
}

describe("longhorn HelmChart", () => {
  test("with the defaults and three storage nodes: valid, pinned, abort on failure, data path on the SSD, 3 replicas", () => {
    const vars = serverVars({ ssd_storage_mount: "/mnt/ssd" }, ["pi-1", "pi-2", "pi-3"]);
    assert.equal(holds(vars, "Refuse a replica count the storage nodes cannot hold"), false);
    const { fileName, manifest, values } = render(vars);
    assert.ok(valid(manifest), JSON.stringify(validate.errors));
    assert.match(fileName, RFC1123_FILE);
    assert.equal(fileName, "longhorn.yaml");
    assert.equal(manifest.metadata.name, "longhorn");
    assert.equal(manifest.metadata.namespace, "kube-system");
    assert.deepEqual(
      { chart: manifest.spec.chart, repo: manifest.spec.repo, version: manifest.spec.version, ns: manifest.spec.targetNamespace, create: manifest.spec.createNamespace, policy: manifest.spec.failurePolicy },
      { chart: "longhorn", repo: "https://charts.longhorn.io", version: "1.10.3", ns: "longhorn-system", create: true, policy: "abort" },
    );
    assert.equal(values.defaultSettings.defaultDataPath, "/mnt/ssd");
    assert.equal(values.defaultSettings.createDefaultDiskLabeledNodes, true);
    assert.equal(values.defaultSettings.taintToleration, undefined);
    assert.equal(values.persistence.defaultClassReplicaCount, 3);
    assert.equal(values.persistence.defaultClass, true);
    assert.equal(values.longhornManager, undefined);
  });

  test("ssd-storage's default mount is the data path when nothing is set", () => {
    const { values } = render(serverVars({}, ["pi-1"]));
    assert.equal(values.defaultSettings.defaultDataPath, "/var/lib/longhorn");
  });

  test("fewer storage nodes than 3: the replica count follows them", () => {
    for (const n of [1, 2]) {
      const vars = serverVars({}, Array.from({ length: n }, (_, i) => `pi-${i}`));
      assert.equal(holds(vars, "Refuse a replica count the storage nodes cannot hold"), false);
      assert.equal(render(vars).values.persistence.defaultClassReplicaCount, n);
    }
  });

  test("a requested replica count is used when the storage nodes can hold it, refused when not", () => {
    const ok = serverVars({ longhorn_replica_count: 2 }, ["a", "b", "c"]);
    assert.equal(holds(ok, "Refuse a replica count the storage nodes cannot hold"), false);
    assert.equal(render(ok).values.persistence.defaultClassReplicaCount, 2);
    for (const bad of [4, 0, "two"]) {
      const vars = serverVars({ longhorn_replica_count: bad }, ["a", "b", "c"]);
      assert.equal(holds(vars, "Refuse a replica count the storage nodes cannot hold"), true, `replica count ${bad} was accepted`);
    }
    const none = serverVars({}, []);
    assert.equal(holds(none, "Refuse a replica count the storage nodes cannot hold"), true, "no storage nodes was accepted");
    const msg = String(new Templar(serverVars({ longhorn_replica_count: 4 }, ["a", "b", "c"])).renderString(task("Refuse a replica count the storage nodes cannot hold")["ansible.builtin.fail"].msg));
    assert.match(msg, /longhorn_replica_count is 4 but there are 3\s+storage nodes \(group "ssd": a, b, c\)/);
  });

  test("a tainted server (seed 004's CriticalAddonsOnly): Longhorn tolerates it", () => {
    const { manifest, values } = render(serverVars({ k3s_server_taint: "CriticalAddonsOnly=true:NoExecute", longhorn_default_class: false }, ["a", "b"]));
    assert.ok(valid(manifest), JSON.stringify(validate.errors));
    assert.equal(values.defaultSettings.taintToleration, "CriticalAddonsOnly:NoSchedule; CriticalAddonsOnly:NoExecute");
    for (const c of ["longhornManager", "longhornDriver", "longhornUI"]) assert.deepEqual(values[c].tolerations, [{ key: "CriticalAddonsOnly", operator: "Exists" }]);
    assert.equal(values.persistence.defaultClass, false);
  });

  test("values that look like YAML stay strings (quoted), never new keys", () => {
    const { manifest, values } = render(serverVars({ longhorn_data_path: "/mnt/a: b\n  evil: 1", longhorn_version: "1.10" }, ["a"]));
    assert.ok(valid(manifest), JSON.stringify(validate.errors));
    assert.equal(values.defaultSettings.defaultDataPath, "/mnt/a: b\n  evil: 1");
    assert.equal(values.defaultSettings.evil, undefined);
    assert.equal(manifest.spec.version, "1.10");
  });

  test("manifest names that are not RFC 1123 are refused; the schema rejects a bad failurePolicy", () => {
    for (const name of ["longhorn", "longhorn-1"]) assert.equal(holds(serverVars({ longhorn_manifest_name: name }, ["a"]), "Refuse a manifest name k3s cannot use"), false, name);
    for (const name of ["long_horn", "Longhorn", "-longhorn", "longhorn.", "a".repeat(54)]) assert.equal(holds(serverVars({ longhorn_manifest_name: name }, ["a"]), "Refuse a manifest name k3s cannot use"), true, name);
    const { manifest } = render(serverVars({}, ["a"]));
    assert.equal(valid({ ...manifest, spec: { ...manifest.spec, failurePolicy: "retry" } }), false);
    assert.equal(valid({ ...manifest, spec: { ...manifest.spec, targetNameSpace: "x" } }), false);
  });
});

describe("longhorn role conventions", () => {
  test("every default is prefixed longhorn_ and has a row in the README's variables table", () => {
    const readme = readFileSync(join(role, "README.md"), "utf8");
    for (const name of Object.keys(defaults)) {
      assert.match(name, /^longhorn_/);
      assert.ok(readme.includes(`| \`${name}\` |`), `${name} is not in roles/longhorn/README.md`);
    }
  });
});

describe("longhorn: which storage nodes are labelled (tasks/cluster.yml)", () => {
  const clusterTasks = parse(readFileSync(join(role, "tasks/cluster.yml"), "utf8")) as Array<Record<string, any>>;
  const step = (name: string) => {
    const t = clusterTasks.find((x) => x.name === name);
    assert.ok(t, `no task "${name}" in tasks/cluster.yml`);
    return t;
  };
  /** The role's own expressions, in task order, on `kubectl get nodes -o json` output. */
  function plan(hostvars: Record<string, Record<string, unknown>>, storage: string[], kubectlItems: unknown[]) {
    let vars: Record<string, unknown> = { __longhorn_storage_hosts: storage, hostvars };
    vars = { ...vars, ...(new Templar(vars).render(step("Name the storage nodes as Kubernetes knows them (their hostnames)")["ansible.builtin.set_fact"]) as object) };
    vars.__longhorn_nodes = { stdout: JSON.stringify({ apiVersion: "v1", kind: "List", items: kubectlItems }) };
    vars = { ...vars, ...(new Templar(vars).render(step("Find the storage nodes that are missing or not labelled yet")["ansible.builtin.set_fact"]) as object) };
    const t = new Templar(vars);
    const when = (name: string) => Boolean(t.renderString(`{{ ${String(step(name).when)} }}`));
    return {
      badNames: when("Refuse node names Kubernetes cannot have"),
      missing: when("Refuse to install with storage nodes that have not joined"),
      toLabel: t.renderString(step("Label the storage nodes so that only they get a default disk").loop) as string[],
      argv: step("Label the storage nodes so that only they get a default disk")["ansible.builtin.command"].argv as string[],
    };
  }
  const node = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels: { "kubernetes.io/hostname": name, ...labels } } });

  test("only the storage nodes without the label are labelled; a re-run labels nothing", () => {
    const items = [node("master"), node("pi-1"), node("pi-2", { "node.longhorn.io/create-default-disk": "true" }), node("pi-3")];
    const p = plan({ "pi-1": {}, "pi-2": {}, "pi-3": { base_os_hostname: "pi-3" } }, ["pi-1", "pi-2", "pi-3"], items);
    assert.deepEqual({ bad: p.badNames, missing: p.missing, label: p.toLabel }, { bad: false, missing: false, label: ["pi-1", "pi-3"] });
    const after = items.map((n) => node(n.metadata.name, n.metadata.name === "master" ? {} : { "node.longhorn.io/create-default-disk": "true" }));
    assert.deepEqual(plan({ "pi-1": {}, "pi-2": {}, "pi-3": {} }, ["pi-1", "pi-2", "pi-3"], after).toLabel, []);
    // A label with another value ("config") is set to true (--overwrite).
    assert.deepEqual(plan({ a: {} }, ["a"], [node("a", { "node.longhorn.io/create-default-disk": "config" })]).toLabel, ["a"]);
    assert.deepEqual(p.argv.slice(0, 6), ["k3s", "kubectl", "label", "--overwrite", "node", "--"]);
  });

  test("the node name is the hostname base-os gave; a node not in the cluster, or a name Kubernetes refuses, stops the role", () => {
    const p = plan({ "pi-1": { base_os_hostname: "storage-1" } }, ["pi-1"], [node("storage-1")]);
    assert.deepEqual(p.toLabel, ["storage-1"]);
    assert.equal(plan({ "pi-1": {} }, ["pi-1"], [node("master")]).missing, true);
    assert.equal(plan({ Pi_1: {} }, ["Pi_1"], [node("Pi_1")]).badNames, true);
    assert.equal(plan({ "-x": {} }, ["-x"], [node("-x")]).badNames, true);
  });
});
