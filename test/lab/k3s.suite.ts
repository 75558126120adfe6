/**
 * The cluster of issue 10, in its own lab (prefix pik3s, 10.213.7.0/24), always taken down:
 * site.yml's cluster plays (postgresql on "datastore", k3s-server, k3s-agent, the kubeconfig
 * step) on a datastore, a server and two agents (the shape of seed 004: one tainted server,
 * its state in a real PostgreSQL), then the embedded-etcd HA profile on three more servers.
 *
 * No k3s binary can be had on the machines this runs on: by default the nodes get the lab's k3s
 * STAND-IN (scripts/lib/lab/k3s-standin, a python3 imitation of k3s's contract: config files,
 * token files, CA-hash check, node registry in the real PostgreSQL), delivered through
 * k3s_airgap_dir like a real air-gapped release. With K3S_AIRGAP_DIR=/path (a real k3s
 * release for amd64) the same tests run against real k3s; otherwise that variant reports
 * itself skipped with the reason. What only a real k3s proves (pods, the taint keeping work
 * off the server, networking) is listed in the README.
 *
 * Standalone: `node --import tsx --test test/lab/k3s.suite.ts`.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { bootLab, labAvailable, type Lab, type LabNodeRequest } from "../support/lab.ts";
import { namedLabConfig } from "../../scripts/lib/lab/config.ts";
import { writeStandinAirgapDir } from "../../scripts/lib/lab/k3s-standin/airgap.ts";
import { runCommand } from "../support/run-command.ts";
import type { JsonReport } from "../support/json-report.ts";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SITE = join(repo, "playbooks/site.yml");
const CONFIG = namedLabConfig("test-lab-k3s", "pik3s", 7);
const SPEC: { nodes: LabNodeRequest[] } = {
  nodes: ["pg", "server", "agent1", "agent2", "ha1", "ha2", "ha3"].map((name) => ({ name, arch: "amd64" as const })),
};
const RUN_TIMEOUT_MS = 6 * 60_000;
const DB_PASSWORD = "pg-Secret_4-k3s";
const CLUSTER_TAGS = "postgresql,k3s-server,k3s-agent,kubeconfig";

interface PlayRun {
  code: number | null;
  output: string;
  report?: JsonReport;
  json: string;
}

const labSkip = await labAvailable(SPEC, CONFIG);
const realDir = process.env.K3S_AIRGAP_DIR;

const run = (args: string[], env: Record<string, string>) => runCommand("npx", ["zx", "run", ...args], { cwd: repo, env: { CI: "true", ...env }, timeoutMs: RUN_TIMEOUT_MS });

/** The same tests for the stand-in and for a real release (`airgap` undefined: the stand-in). */
function k3sSuite(title: string, skip: string | false, realAirgap: string | undefined): void {
  describe(title, { skip, concurrency: false }, () => {
    let lab: Lab | undefined;
    let dir: string;
    let airgap: string;
    let inventory: string;
    let haInventory: string;
    let kubeconfig: string;
    const outputs: string[] = [];
    let runs = 0;

    before(
      async () => {
        dir = mkdtempSync(join(tmpdir(), "pi-k3s-"));
        airgap = realAirgap ?? join(dir, "airgap");
        if (!realAirgap) writeStandinAirgapDir(airgap, undefined, { images: true });
        lab = await bootLab(SPEC, { config: CONFIG });
        kubeconfig = join(dir, "kube", "config");
        inventory = writeInventory(lab, "inventory.yml", {
          servers: ["server"],
          agents: ["agent1", "agent2"],
          datastore: ["pg"],
          vars: {
            k3s_datastore: "postgres",
            k3s_datastore_host: lab.node("pg").address,
            k3s_datastore_password: DB_PASSWORD,
            postgresql_k3s_password: DB_PASSWORD,
          },
        });
        haInventory = writeInventory(lab, "inventory-ha.yml", { servers: ["ha1", "ha2", "ha3"], agents: [], datastore: [], vars: { k3s_datastore: "etcd", k3s_kubeconfig_context: "pi-ha" } });
        // A kubeconfig the user already has: its context must survive the merge.
        mkdirSync(dirname(kubeconfig), { recursive: true, mode: 0o700 });
        writeFileSync(
          kubeconfig,
          stringify({
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name: "work", cluster: { server: "https://work.example:443" } }],
            users: [{ name: "work-admin", user: { token: "work-token" } }],
            contexts: [{ name: "work", context: { cluster: "work", user: "work-admin" } }],
            "current-context": "work",
          }),
          { mode: 0o600 },
        );
      },
      { timeout: 20 * 60_000 },
    );

    after(async () => {
      if (lab) await lab.down();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    function writeInventory(l: Lab, file: string, shape: { servers: string[]; agents: string[]; datastore: string[]; vars: Record<string, unknown> }): string {
      const labInventory = parse(readFileSync(l.inventoryFile, "utf8")) as { all: { children: { lab: { hosts: Record<string, unknown> } } } };
      const hosts = (names: string[]) => Object.fromEntries(names.map((n) => [n, null]));
      const doc = {
        all: {
          vars: { k3s_airgap_dir: airgap, k3s_ready_timeout: 120, k3s_kubeconfig_path: kubeconfig, ...shape.vars },
          children: {
            lab: labInventory.all.children.lab,
            cluster: { children: { servers: { hosts: hosts(shape.servers) }, agents: { hosts: hosts(shape.agents) } } },
            datastore: { hosts: hosts(shape.datastore) },
          },
        },
      };
      const path = join(dir, file);
      writeFileSync(path, stringify(doc, { nullStr: "" }));
      return path;
    }

    async function play(inv: string, extra: string[] = [], tags = CLUSTER_TAGS): Promise<PlayRun> {
      const json = join(dir, `run-${++runs}.json`);
      const started = Date.now();
      // KUBECONFIG too: nothing of a test may reach the user's own ~/.kube/config.
      const r = await run([SITE, "-i", inv, "--tags", tags, "--json", json, ...extra], { KUBECONFIG: join(dir, "never-used-kubeconfig") });
      const output = `${r.stdout}\n${r.stderr}`;
      const jsonText = existsSync(json) ? readFileSync(json, "utf8") : "";
      outputs.push(output, jsonText);
      process.stderr.write(`# k3s: run ${runs} (${extra.join(" ") || "plain"}) -> exit ${r.code} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      return { code: r.code, output, report: jsonText ? (JSON.parse(jsonText) as JsonReport) : undefined, json: jsonText };
    }

    async function sh(node: string, command: string): Promise<string> {
      const r = await lab!.ssh(node, command);
      assert.equal(r.rc, 0, `${node}: ${command}\n${r.stderr}`);
      return r.stdout;
    }

    /** Every (re)start of a unit: its InvocationID changes (real k3s and the stand-in alike). */
    async function invocations(nodes: string[]): Promise<Record<string, string>> {
      const out: Record<string, string> = {};
      for (const n of nodes) {
        const unit = n === "server" || n.startsWith("ha") ? "k3s" : "k3s-agent";
        out[n] = (await sh(n, `systemctl show -p InvocationID --value ${unit}; grep -vc '^#' /var/lib/rancher/k3s/standin-starts 2>/dev/null || true`)).trim();
      }
      return out;
    }

    async function nodes(server: string): Promise<Array<{ metadata: { name: string; labels: Record<string, string> }; spec: { taints?: Array<{ key: string; value?: string; effect: string }> }; status: { conditions: Array<{ type: string; status: string }> } }>> {
      return JSON.parse(await sh(server, "k3s kubectl get nodes -o json")).items;
    }

    let first: PlayRun;

    test("site.yml converges: PostgreSQL, one server, two agents", { timeout: 8 * 60_000 }, async () => {
      first = await play(inventory);
      assert.equal(first.code, 0, `the first run failed\n${first.output.slice(-6000)}`);
      for (const host of ["pg", "server", "agent1", "agent2"]) {
        assert.ok(first.report!.stats[host], `${host} ran`);
        assert.equal(first.report!.stats[host].failures, 0, host);
      }
      const config = await sh("server", "stat -c '%a %U' /etc/rancher/k3s/config.yaml; grep -c '^datastore-endpoint: postgres://' /etc/rancher/k3s/config.yaml");
      assert.match(config, /^600 root\n1\n$/, "config.yaml is 0600 and holds the endpoint");
      const argv = await sh("server", "cat /proc/$(systemctl show -p MainPID --value k3s)/cmdline | tr '\\0' ' '");
      assert.doesNotMatch(argv, /postgres|token/, "no endpoint or token on k3s's command line");
    });

    test("every node is Ready and the server carries the dedicated-control-plane taint", async () => {
      const list = await nodes("server");
      assert.deepEqual(list.map((n) => n.metadata.name).sort(), ["agent1", "agent2", "server"]);
      for (const n of list) assert.equal(n.status.conditions.find((c) => c.type === "Ready")?.status, "True", `${n.metadata.name} Ready`);
      const server = list.find((n) => n.metadata.name === "server")!;
      assert.deepEqual(server.spec.taints?.map((t) => `${t.key}=${t.value}:${t.effect}`), ["CriticalAddonsOnly=true:NoExecute"]);
      for (const a of list.filter((n) => n.metadata.name !== "server")) assert.equal((a.spec.taints ?? []).length, 0, `${a.metadata.name} is untainted`);
      // The state is in PostgreSQL: the kine table on the datastore has rows.
      const rows = await sh("pg", "su postgres -c \"psql -tAc 'select count(*) from kine' k3s\"");
      assert.ok(Number(rows.trim()) > 0, `kine table rows: ${rows}`);
    });

    test("a second run changes nothing and restarts nothing", { timeout: 6 * 60_000 }, async () => {
      const all = ["server", "agent1", "agent2"];
      const before = await invocations(all);
      const second = await play(inventory);
      assert.equal(second.code, 0, second.output.slice(-6000));
      const changed = Object.entries(second.report!.stats).filter(([, s]) => s.changed > 0);
      const changedTasks = second.report!.plays.flatMap((p) => p.tasks.filter((t) => Object.values(t.hosts).some((h) => h.changed)).map((t) => t.task.name));
      assert.deepEqual(changed, [], `changed on the second run: ${changedTasks.join(", ")}`);
      assert.deepEqual(await invocations(all), before, "a k3s unit was restarted");
    });

    test("the token and the database password appear in no output", async () => {
      const token = (await sh("server", "cat /var/lib/rancher/k3s/server/token")).trim();
      const secret = token.split("::server:")[1];
      assert.ok(secret && secret.length >= 16, "the server wrote a K10 token");
      assert.equal(await sh("agent1", "stat -c %a /etc/rancher/k3s/config.yaml && grep -c \"^token: K10\" /etc/rancher/k3s/config.yaml"), "600\n1\n", "the agent joins with the K10 form");
      for (const [i, text] of outputs.entries()) {
        assert.ok(!text.includes(secret), `output ${i} shows the token`);
        assert.ok(!text.includes(DB_PASSWORD), `output ${i} shows the database password`);
      }
      // --check --diff with a changed setting: config.yaml holds the token, so the runner shows
      // a notice instead of its diff; the change itself is reported.
      const check = await play(inventory, ["--check", "--diff", "-e", "k3s_server_labels=[\"zone=rack1\"]", "--limit", "server"]);
      assert.equal(check.code, 0, check.output.slice(-4000));
      const write = check.report!.plays.flatMap((p) => p.tasks).find((t) => t.task.name.endsWith("Write /etc/rancher/k3s/config.yaml"))?.hosts.server as { changed?: boolean; diff?: Array<{ after: string }> };
      assert.equal(write?.changed, true, "check mode sees the config change");
      assert.equal(write?.diff?.[0]?.after, "(secret content hidden)\n");
      assert.ok(!check.output.includes(secret) && !check.json.includes(secret) && !check.output.includes(DB_PASSWORD), "--diff shows no secret");
    });

    test("the kubeconfig merge keeps the existing context and adds the cluster's", async () => {
      const doc = parse(readFileSync(kubeconfig, "utf8"));
      assert.deepEqual(doc.contexts.map((c: { name: string }) => c.name).sort(), ["pi-cluster", "work"]);
      assert.equal(doc["current-context"], "work");
      assert.equal(doc.clusters.find((c: { name: string }) => c.name === "pi-cluster").cluster.server, `https://${lab!.node("server").address}:6443`);
      assert.deepEqual(doc.users.find((u: { name: string }) => u.name === "work-admin"), { name: "work-admin", user: { token: "work-token" } });
      const backups = readdirSync(dirname(kubeconfig)).filter((f) => f.endsWith(".bak"));
      assert.equal(backups.length, 1, `one backup from the first merge, none from the re-run: ${backups.join(", ")}`);
      // Alone, as ./kubeconfig: fetched over SSH through the runner, into another file.
      const alone = join(dir, "alone", "config");
      const r = await runCommand(join(repo, "kubeconfig"), ["-i", inventory, "-e", `k3s_kubeconfig_path=${alone}`, "-e", "k3s_kubeconfig_context=lab"], {
        cwd: repo,
        env: { CI: "true", KUBECONFIG: join(dir, "never-used-kubeconfig") },
        timeoutMs: RUN_TIMEOUT_MS,
      });
      outputs.push(r.output);
      assert.equal(r.code, 0, r.output.slice(-3000));
      const aloneDoc = parse(readFileSync(alone, "utf8"));
      assert.equal(aloneDoc["current-context"], "lab");
      assert.equal(aloneDoc.clusters[0].cluster.server, `https://${lab!.node("server").address}:6443`);
      assert.ok(!existsSync(join(dir, "never-used-kubeconfig")), "a test reached the default kubeconfig");
    });

    test("an agent with a wrong token is refused, the error says why; the fix restarts that agent only", { timeout: 5 * 60_000 }, async () => {
      const before = await invocations(["server", "agent1", "agent2"]);
      const wrong = `K10${"0".repeat(64)}::server:not-the-secret`;
      const r = await play(inventory, ["--limit", "agent2", "-e", `k3s_agent_token=${wrong}`, "-e", "k3s_ready_timeout=20"]);
      assert.equal(r.code, 2, r.output.slice(-4000));
      assert.match(r.output, /Not Ready after 20 s: agent2\b[^\n]*its k3s-agent has not reported ready \(systemd: activating\)[^\n]*token CA hash does not match/, r.output.slice(-4000));
      assert.doesNotMatch(r.output, /Retries exhausted/);
      // The right token again: only agent2's setting changed, so only agent2 restarts.
      const fixed = await play(inventory);
      assert.equal(fixed.code, 0, fixed.output.slice(-4000));
      const after = await invocations(["server", "agent1", "agent2"]);
      assert.equal(after.server, before.server, "the server was restarted");
      assert.equal(after.agent1, before.agent1, "agent1 was restarted");
      assert.notEqual(after.agent2, before.agent2, "agent2 was not restarted");
      assert.deepEqual(Object.entries(fixed.report!.stats).filter(([h, st]) => st.changed > 0 && h !== "agent2").map(([h]) => h), [], "only agent2 changed");
      assert.equal((await nodes("server")).find((n) => n.metadata.name === "agent2")?.status.conditions.find((c) => c.type === "Ready")?.status, "True");
    });

    test("the embedded etcd profile joins three servers, one at a time", { timeout: 6 * 60_000 }, async () => {
      const r = await play(haInventory, [], "k3s-server");
      assert.equal(r.code, 0, r.output.slice(-6000));
      assert.match(await sh("ha1", "cat /etc/rancher/k3s/config.yaml"), /^cluster-init: true$/m);
      for (const joiner of ["ha2", "ha3"]) {
        const cfg = await sh(joiner, "cat /etc/rancher/k3s/config.yaml");
        assert.match(cfg, new RegExp(`^server: https://${lab!.node("ha1").address.replaceAll(".", "\\.")}:6443$`, "m"));
        assert.match(cfg, /^token: K10[0-9a-f]{64}::server:/m);
      }
      const list = await nodes("ha1");
      assert.deepEqual(list.map((n) => n.metadata.name).sort(), ["ha1", "ha2", "ha3"]);
      for (const n of list) {
        assert.equal(n.status.conditions.find((c) => c.type === "Ready")?.status, "True", `${n.metadata.name} Ready`);
        assert.equal(n.metadata.labels["node-role.kubernetes.io/control-plane"], "true");
      }
      const again = await play(haInventory, [], "k3s-server");
      assert.equal(again.code, 0, again.output.slice(-4000));
      assert.deepEqual(Object.entries(again.report!.stats).filter(([, s]) => s.changed > 0), [], "the HA re-run changes nothing");
    });
  });
}

k3sSuite("k3s cluster on the lab (k3s STAND-IN via k3s_airgap_dir)", labSkip ? `no lab: ${labSkip}` : false, undefined);
k3sSuite(
  "k3s cluster on the lab (real k3s from K3S_AIRGAP_DIR)",
  !realDir ? "K3S_AIRGAP_DIR is not set: give it a real k3s release for amd64 (k3s, sha256sum-amd64.txt) to run these tests against real k3s" : labSkip ? `no lab: ${labSkip}` : false,
  realDir,
);
