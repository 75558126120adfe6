/**
 * playbooks/upgrade.yml and reboot.yml (issue 12) on a k3s cluster of the lab's STAND-IN, in
 * its own lab (prefix piupg, 10.213.18.0/24, always taken down): one server (sqlite profile)
 * and three agents, installed by site.yml's k3s plays at release A (v1.30.8+k3s1), then
 *   1. a skipped minor version (v1.32) is refused before any node is touched;
 *   2. the upgrade to B (v1.31.4+k3s1) goes server, agent1, agent2, agent3, each cordoned,
 *      drained, upgraded, back at B, uncordoned, in that order (read from the server's
 *      standin-events, where the stand-in logs every node change it makes); all at B;
 *   3. a re-run changes nothing and restarts nothing; a downgrade to A is refused; --check to
 *      C reports the upgrade and changes nothing;
 *   4. to C (v1.31.5+k3s1), agents two at a time, agent1 unable to reach the server: the
 *      server is upgraded, agent1 does not come back, agent2 (same batch) finishes its turn,
 *      the run stops with why, agent3 (next batch) is not touched (still at B);
 *   5. agent1 repaired, a drain blocked on agent3 (the stand-in's test annotation): agent1 is
 *      finished (uncordoned at C), agent3 is given back uncordoned, the message names the pod;
 *   6. reboot.yml on agent2 alone: cordoned, drained, rebooted (new boot id), Ready, uncordoned;
 *      on agent3, cordoned beforehand by someone else: drained, rebooted, left cordoned.
 * The stand-in's versions are real files: each airgap folder's binary has its version baked
 * in, so an upgrade really replaces the program that runs.
 *
 * Standalone: `node --import tsx --test --test-concurrency=1 test/lab/upgrade.suite.ts`.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { bootLab, labAvailable, type Lab, type LabNodeRequest } from "../support/lab.ts";
import { namedLabConfig } from "../../scripts/lib/lab/config.ts";
import { writeStandinAirgapDir } from "../../scripts/lib/lab/k3s-standin/airgap.ts";
import { runCommand } from "../support/run-command.ts";
import { readJsonReport, type JsonReport } from "../support/json-report.ts";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CONFIG = namedLabConfig("test-lab-upgrade", "piupg", 18);
const NODES = ["server", "agent1", "agent2", "agent3"];
const SPEC: { nodes: LabNodeRequest[] } = { nodes: NODES.map((name) => ({ name, arch: "amd64" as const })) };
const RUN_TIMEOUT_MS = 5 * 60_000;
const A = "v1.30.8+k3s1";
const B = "v1.31.4+k3s1";
const C = "v1.31.5+k3s1";

const labSkip = await labAvailable(SPEC, CONFIG);

interface PlayRun {
  code: number | null;
  output: string;
  report?: JsonReport;
}

describe("upgrade.yml and reboot.yml on a stand-in k3s cluster", { skip: labSkip ? `no lab: ${labSkip}` : false, concurrency: false }, () => {
  let lab: Lab | undefined;
  let dir: string;
  let inventory: string;
  let runs = 0;
  const airgap = (version: string) => join(dir, `airgap-${version}`);

  before(
    async () => {
      dir = mkdtempSync(join(tmpdir(), "pi-upgrade-"));
      for (const v of [A, B, C]) writeStandinAirgapDir(airgap(v), v);
      lab = await bootLab(SPEC, { config: CONFIG });
      const labInventory = parse(readFileSync(lab.inventoryFile, "utf8")) as { all: { children: { lab: { hosts: Record<string, unknown> } } } };
      inventory = join(dir, "inventory.yml");
      writeFileSync(
        inventory,
        stringify(
          {
            all: {
              vars: { k3s_ready_timeout: 60 },
              children: {
                lab: labInventory.all.children.lab,
                cluster: { children: { servers: { hosts: { server: null } }, agents: { hosts: { agent1: null, agent2: null, agent3: null } } } },
              },
            },
          },
          { nullStr: "" },
        ),
      );
      const first = await play("site.yml", A, ["--tags", "k3s-server,k3s-agent"]);
      assert.equal(first.code, 0, `site.yml at ${A} failed\n${first.output.slice(-6000)}`);
    },
    { timeout: 12 * 60_000 },
  );

  after(async () => {
    if (lab) await lab.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A playbook run at `version` with that version's airgap folder, through `npx zx run`. */
  async function play(playbook: string, version: string, extra: string[] = []): Promise<PlayRun> {
    const json = join(dir, `run-${++runs}.json`);
    const args = ["zx", "run", join(repo, "playbooks", playbook), "-i", inventory, "--json", json, "-e", `k3s_version=${version}`, "-e", `k3s_airgap_dir=${airgap(version)}`, ...extra];
    // KUBECONFIG too: nothing of a test may reach the user's own ~/.kube/config.
    const { code, output, seconds } = await runCommand("npx", args, { cwd: repo, env: { CI: "true", KUBECONFIG: join(dir, "never-used-kubeconfig") }, timeoutMs: RUN_TIMEOUT_MS });
    process.stderr.write(`# upgrade: run ${runs} ${playbook} ${version} ${extra.join(" ")} -> exit ${code} in ${seconds.toFixed(1)} s\n`);
    return { code, output, report: readJsonReport(json) };
  }

  async function sh(node: string, command: string): Promise<string> {
    const r = await lab!.ssh(node, command);
    assert.equal(r.rc, 0, `${node}: ${command}\n${r.stderr}`);
    return r.stdout;
  }

  /** Node changes the server made, in order, as "<node> <change>" (the stand-in's log). */
  async function events(): Promise<string[]> {
    return (await sh("server", "cat /var/lib/rancher/k3s/standin-events")).split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(" ").slice(1).join(" "));
  }

  /** Each node as the cluster lists it: version, cordoned, our annotation. */
  async function cluster(): Promise<Record<string, { version: string; cordoned: boolean; ready: boolean; mark?: string }>> {
    const items = JSON.parse(await sh("server", "k3s kubectl get nodes -o json")).items as Array<{
      metadata: { name: string; annotations?: Record<string, string> };
      spec: { unschedulable?: boolean };
      status: { nodeInfo: { kubeletVersion: string }; conditions: Array<{ type: string; status: string }> };
    }>;
    return Object.fromEntries(
      items.map((n) => [
        n.metadata.name,
        {
          version: n.status.nodeInfo.kubeletVersion,
          cordoned: !!n.spec.unschedulable,
          ready: n.status.conditions.some((c) => c.type === "Ready" && c.status === "True"),
          mark: n.metadata.annotations?.["pi-cluster-runner/cordoned"],
        },
      ]),
    );
  }

  /** The version of each node's k3s binary and its count of k3s starts. */
  async function installed(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const n of NODES) out[n] = (await sh(n, "k3s --version | head -n1 | cut -d' ' -f3; grep -vc '^#' /var/lib/rancher/k3s/standin-starts")).trim().replace("\n", " starts=");
    return out;
  }

  const cycle = (node: string, from: string, to: string) => [`${node} cordoned`, `${node} drained`, `${node} version ${from} -> ${to}`, `${node} uncordoned`];

  test("a skipped minor version is refused before any node is touched", { timeout: 3 * 60_000 }, async () => {
    const before = { events: await events(), installed: await installed() };
    const r = await play("upgrade.yml", "v1.32.0+k3s1");
    assert.equal(r.code, 2, r.output.slice(-4000));
    assert.match(r.output, /k3s_version v1\.32\.0\+k3s1 skips a minor version: \w+ runs v1\.30\.8\+k3s1\. Kubernetes upgrades go one minor version at a time: upgrade to the newest v1\.31 release first/);
    assert.deepEqual(await events(), before.events, "no node was cordoned");
    assert.deepEqual(await installed(), before.installed, "no binary replaced, no k3s restarted");
  });

  test("the upgrade to B goes server, agent1, agent2, agent3: cordon, drain, upgrade, Ready, uncordon, one node at a time", { timeout: 5 * 60_000 }, async () => {
    const skip = (await events()).length;
    const r = await play("upgrade.yml", B);
    assert.equal(r.code, 0, r.output.slice(-6000));
    assert.deepEqual((await events()).slice(skip), [...cycle("server", A, B), ...cycle("agent1", A, B), ...cycle("agent2", A, B), ...cycle("agent3", A, B)]);
    for (const [name, n] of Object.entries(await cluster())) assert.deepEqual(n, { version: B, cordoned: false, ready: true, mark: undefined }, name);
    for (const [name, v] of Object.entries(await installed())) assert.equal(v, `${B} starts=2`, name);
  });

  test("a re-run changes nothing and restarts nothing; a downgrade is refused; --check changes nothing", { timeout: 4 * 60_000 }, async () => {
    const before = { events: await events(), installed: await installed() };
    const again = await play("upgrade.yml", B);
    assert.equal(again.code, 0, again.output.slice(-4000));
    const changed = again.report!.plays.flatMap((p) => p.tasks.filter((t) => Object.values(t.hosts).some((h) => h.changed)).map((t) => t.task.name));
    assert.deepEqual(changed, [], "changed on the re-run");
    assert.match(again.output, /agent3 already runs k3s v1\.31\.4\+k3s1: not cordoned, not restarted/);
    const down = await play("upgrade.yml", A);
    assert.equal(down.code, 2, down.output.slice(-4000));
    assert.match(down.output, /k3s_version v1\.30\.8\+k3s1 is older than v1\.31\.4\+k3s1, which \w+ runs: k3s does not support downgrades/);
    // --check shows the upgrade to C and does none of it.
    const check = await play("upgrade.yml", C, ["--check"]);
    assert.equal(check.code, 0, check.output.slice(-4000));
    assert.match(check.output, /changed: \[agent3\] k3s-server : Install the k3s binary/);
    assert.deepEqual(await events(), before.events);
    assert.deepEqual(await installed(), before.installed);
  });

  test("a node that does not come back stops the upgrade: its batch finishes, later nodes stay at their version", { timeout: 5 * 60_000 }, async () => {
    const skip = (await events()).length;
    // agent1 loses its route to the server: its new k3s cannot register (the SSH path is the bridge's).
    // Its old node object says v1.31.4 until the 40 s grace period, then NotReady: on a busy
    // machine the wait may see either.
    await sh("agent1", `ip route add blackhole ${lab!.node("server").address}/32`);
    try {
      const r = await play("upgrade.yml", C, ["-e", "k3s_ready_timeout=20", "-e", "k3s_agents_serial=2"]);
      assert.equal(r.code, 2, r.output.slice(-4000));
      assert.match(r.output, /agent1 \(node agent1\) did not come back within 20 s after the upgrade: it (still reports v1\.31\.4\+k3s1, not v1\.31\.5\+k3s1|is not Ready \(NodeStatusUnknown: Kubelet stopped posting node status\.\)); its k3s unit is activating; it says: Waiting to retrieve agent configuration; server is not ready: [^\n"]*\. The run stops when this batch ends: agent1 stays cordoned, later batches are not touched/);
      assert.match(r.output, /Stopped after agent1: agent1 \(node agent1\) did not come back/);
      const changes = (await events()).slice(skip);
      const of = (node: string) => changes.filter((e) => e.startsWith(`${node} `));
      assert.deepEqual(changes.slice(0, 4), cycle("server", B, C), "the server first");
      assert.deepEqual(of("agent1"), ["agent1 cordoned", "agent1 drained"]);
      assert.deepEqual(of("agent2"), cycle("agent2", B, C), "agent2, in agent1's batch, finished its turn");
      assert.deepEqual(of("agent3"), [], "agent3, in the next batch, was not touched");
      const now = await cluster();
      assert.equal(now.agent1.cordoned, true);
      assert.equal(now.agent1.mark, "upgrade");
      assert.deepEqual(now.agent2, { version: C, cordoned: false, ready: true, mark: undefined });
      assert.deepEqual(now.agent3, { version: B, cordoned: false, ready: true, mark: undefined }, "agent3 was not touched");
      assert.match((await installed()).agent3, /^v1\.31\.4\+k3s1 starts=2$/);
    } finally {
      await sh("agent1", `ip route del blackhole ${lab!.node("server").address}/32`);
    }
    // Its k3s (already C) registers once the route is back.
    const deadline = Date.now() + 60_000;
    while ((await cluster()).agent1.version !== C) {
      assert.ok(Date.now() < deadline, "agent1 did not register at C after its route came back");
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.equal((await events()).at(-1), `agent1 version ${B} -> ${C}`);
  });

  test("the next run finishes the stopped node; a drain that times out gives the node back and names the pod", { timeout: 5 * 60_000 }, async () => {
    await sh("server", "k3s kubectl annotate node -- agent3 standin.k3s.io/drain-blocker=shop/web-0");
    const skip = (await events()).length;
    const r = await play("upgrade.yml", C, ["-e", "k3s_drain_timeout=3"]);
    assert.equal(r.code, 2, r.output.slice(-4000));
    assert.match(r.output, /Draining agent3 \(node agent3\) did not finish within 3 s, so it was uncordoned and not upgraded; the run stops when this batch ends\. What blocks it: shop\/web-0: Cannot evict pod as it would violate the pod's disruption budget\./);
    const now = await cluster();
    assert.deepEqual(now.agent1, { version: C, cordoned: false, ready: true, mark: undefined }, "agent1 finished");
    assert.deepEqual(now.agent3, { version: B, cordoned: false, ready: true, mark: undefined }, "agent3 given back");
    // agent1 already ran C once its route was back: no restart, only drained and uncordoned;
    // agent2 is at C: left alone.
    assert.deepEqual((await events()).slice(skip), ["agent1 drained", "agent1 uncordoned", "agent3 cordoned", "agent3 uncordoned"]);
    await sh("server", "k3s kubectl annotate node -- agent3 standin.k3s.io/drain-blocker-");
  });

  test("reboot.yml on one agent: cordoned, drained, rebooted, Ready again, uncordoned; a node cordoned by someone else stays cordoned", { timeout: 5 * 60_000 }, async () => {
    const bootBefore = (await sh("agent2", "cat /proc/sys/kernel/random/boot_id")).trim();
    let skip = (await events()).length;
    const r = await play("reboot.yml", C, ["--limit", "agent2"]);
    assert.equal(r.code, 0, r.output.slice(-6000));
    assert.notEqual((await sh("agent2", "cat /proc/sys/kernel/random/boot_id")).trim(), bootBefore, "agent2 rebooted");
    assert.deepEqual((await events()).slice(skip), ["agent2 cordoned", "agent2 drained", "agent2 uncordoned"]);
    assert.deepEqual((await cluster()).agent2, { version: C, cordoned: false, ready: true, mark: undefined });
    // The admin cordoned agent3 for their own reasons: its turn drains and reboots it, and leaves it cordoned.
    await sh("server", "k3s kubectl cordon agent3");
    skip = (await events()).length;
    const kept = await play("reboot.yml", C, ["--limit", "agent3"]);
    assert.equal(kept.code, 0, kept.output.slice(-6000));
    assert.deepEqual((await events()).slice(skip), ["agent3 drained"]);
    assert.deepEqual((await cluster()).agent3, { version: B, cordoned: true, ready: true, mark: undefined });
    await sh("server", "k3s kubectl uncordon agent3");
  });
});
