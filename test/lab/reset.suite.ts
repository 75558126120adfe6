/**
 * playbooks/reset.yml (issue 12) on a cluster site.yml built, in its own lab (prefix pirst,
 * 10.213.17.0/24), always taken down: `pg` (datastore), `server`, `agent` (a storage node with
 * the lab SSD). k3s is the lab's STAND-IN (scripts/lib/lab/k3s-standin) through k3s_airgap_dir.
 *
 *   1. site.yml's cluster plays converge (ssd-storage, postgresql, k3s, longhorn's node part and
 *      HelmChart); files are written on the SSD, and a k3s-like CNI bridge, KUBE-/CNI- chains
 *      and one rule of the user's (not k3s's) are added on the k3s nodes;
 *   2. without a terminal and without -e reset_confirm=yes the reset is refused, nothing changed;
 *   3. --check lists what it would remove and changes nothing;
 *   4. the reset removes k3s (uninstall script, folders, the interfaces, ONLY k3s's iptables
 *      chains: the user's rule stays), the HelmChart, the k3s database (reset_drop_datastore),
 *      and keeps the SSD's files (same checksums, still mounted); a second reset changes nothing;
 *   5. site.yml converges again and its second run reports changed=0;
 *   6. the storage node (a container with open-iscsi) reboots and comes back running, iscsid not
 *      enabled at boot there (the longhorn role's container rule);
 *   7. reset_wipe_storage: a data path that is a system folder is refused, --check lists what it
 *      would remove, then only the data path's contents go (lost+found, the mount, fstab stay).
 *
 * What only a real k3s proves: that the uninstall script ends real containers and unmounts
 * their volumes, real flannel/kube-proxy rules, Longhorn's own uninstall (deleting-confirmation
 * flag, the helm-delete job; the stand-in has no Kubernetes API for HelmCharts, and the lab
 * inventory sets longhorn_cluster_steps: false, which the run says).
 *
 * Standalone: `node --import tsx --test test/lab/reset.suite.ts`.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
const CONFIG = namedLabConfig("test-lab-reset", "pirst", 17);
const SPEC: { nodes: LabNodeRequest[] } = {
  nodes: [
    { name: "pg", arch: "amd64" },
    { name: "server", arch: "amd64" },
    { name: "agent", arch: "amd64", ssd: "1G" },
  ],
};
const RUN_TIMEOUT_MS = 6 * 60_000;
const DB_PASSWORD = "pg-Reset_7-k3s";
const SITE_TAGS = "ssd-storage,postgresql,k3s-server,k3s-agent,longhorn,kubeconfig";
const K3S_NODES = ["server", "agent"];
// A rule of the user's (no k3s name in it) that must survive; TEST-NET-1, never routed.
const USER_RULE = "-A INPUT -s 192.0.2.77/32 -j ACCEPT";

interface PlayRun {
  code: number | null;
  output: string;
  report?: JsonReport;
}

const labSkip = await labAvailable(SPEC, CONFIG);

describe("reset.yml takes the cluster apart and site.yml builds it again", { skip: labSkip ? `no lab: ${labSkip}` : false, concurrency: false }, () => {
  let lab: Lab | undefined;
  let dir: string;
  let inventory: string;
  let ssdSums = "";
  let runs = 0;

  before(
    async () => {
      dir = mkdtempSync(join(tmpdir(), "pi-reset-"));
      const airgap = join(dir, "airgap");
      writeStandinAirgapDir(airgap);
      lab = await bootLab(SPEC, { config: CONFIG });
      const labInventory = parse(readFileSync(lab.inventoryFile, "utf8")) as { all: { children: { lab: unknown } } };
      inventory = join(dir, "inventory.yml");
      writeFileSync(
        inventory,
        stringify(
          {
            all: {
              vars: {
                k3s_airgap_dir: airgap,
                k3s_ready_timeout: 120,
                k3s_kubeconfig_path: join(dir, "kube", "config"),
                k3s_datastore: "postgres",
                k3s_datastore_host: lab.node("pg").address,
                k3s_datastore_password: DB_PASSWORD,
                postgresql_k3s_password: DB_PASSWORD,
              },
              children: {
                lab: labInventory.all.children.lab,
                cluster: { children: { servers: { hosts: { server: null } }, agents: { hosts: { agent: null } } } },
                datastore: { hosts: { pg: null } },
                ssd: { hosts: { agent: null } },
              },
            },
          },
          { nullStr: "" },
        ),
      );
    },
    { timeout: 20 * 60_000 },
  );

  after(async () => {
    if (lab) await lab.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function play(playbook: string, extra: string[]): Promise<PlayRun> {
    const json = join(dir, `run-${++runs}.json`);
    // stdin is not a terminal here: reset.yml's prompt is not asked.
    const { code, output, seconds } = await runCommand("npx", ["zx", "run", join(repo, "playbooks", playbook), "-i", inventory, "--json", json, ...extra], {
      cwd: repo,
      env: { CI: "true", KUBECONFIG: join(dir, "never-used-kubeconfig") },
      timeoutMs: RUN_TIMEOUT_MS,
      stdin: "ignore",
    });
    process.stderr.write(`# reset lab: run ${runs} ${playbook} ${extra.join(" ")} -> exit ${code} in ${seconds.toFixed(1)} s\n`);
    return { code, output, report: readJsonReport(json) };
  }
  const site = (extra: string[] = []) => play("site.yml", ["--tags", SITE_TAGS, ...extra]);

  async function sh(node: string, command: string): Promise<string> {
    const r = await lab!.ssh(node, command);
    assert.equal(r.rc, 0, `${node}: ${command}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  function changedTasks(r: PlayRun): string[] {
    return r.report!.plays.flatMap((p) => p.tasks.flatMap((t) => Object.entries(t.hosts).filter(([, h]) => h.changed).map(([host]) => `${host}: ${t.task.name}`)));
  }

  function messages(r: PlayRun, task: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const t of r.report!.plays.flatMap((p) => p.tasks).filter((t) => t.task.name.endsWith(task))) {
      for (const [host, h] of Object.entries(t.hosts)) if (typeof h.msg === "string") out[host] = h.msg;
    }
    return out;
  }

  /** What k3s leaves on a node, one line per thing present (empty: none of it). */
  const K3S_LEFT =
    "for p in /usr/local/bin/k3s /etc/rancher/k3s /var/lib/rancher/k3s /etc/systemd/system/k3s.service /etc/systemd/system/k3s-agent.service; do [ -e $p ] && echo $p; done; " +
    "for i in cni0 flannel.1; do ip link show dev $i >/dev/null 2>&1 && echo $i; done; " +
    "iptables-save | grep -e KUBE- -e CNI- || true";
  const SSD_SUMS = "cd /var/lib/longhorn && find . -type f ! -path './lost+found/*' -print0 | sort -z | xargs -0 sha256sum";

  test("site.yml builds the cluster; files on the SSD, k3s-like interfaces and chains, a rule of the user's", { timeout: 2 * RUN_TIMEOUT_MS }, async () => {
    const r = await site();
    assert.equal(r.code, 0, `site.yml failed\n${r.output.slice(-6000)}`);
    assert.match(await sh("server", "k3s kubectl get nodes --no-headers"), /^agent\s+Ready/m);
    assert.ok(existsSync(join(dir, "kube", "config")));
    // Replicas-shaped data and a plain file on the SSD (the data path is its mount point).
    await sh("agent", "mkdir -p /var/lib/longhorn/replicas/pvc-1 && head -c 2097152 /dev/urandom > /var/lib/longhorn/replicas/pvc-1/volume-head-000.img && echo keep > /var/lib/longhorn/notes.txt");
    ssdSums = await sh("agent", SSD_SUMS);
    assert.match(ssdSums, /replicas\/pvc-1\/volume-head-000\.img/);
    // What flannel, the CNI plugins and kube-proxy would have made (the stand-in makes none).
    for (const node of K3S_NODES) {
      await sh(node, "command -v iptables-save >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends iptables >/dev/null");
      await sh(
        node,
        "ip link add cni0 type bridge && ip link add flannel.1 type bridge && " +
          "iptables -N KUBE-SERVICES && iptables -A INPUT -j KUBE-SERVICES && iptables -N CNI-FORWARD && iptables -A FORWARD -j CNI-FORWARD && " +
          "iptables -N FLANNEL-FWD && iptables -A FORWARD -s 10.42.0.0/16 -j FLANNEL-FWD && " +
          `iptables ${USER_RULE}`,
      );
    }
  });

  test("without a terminal and without -e reset_confirm=yes: refused, nothing changed", { timeout: RUN_TIMEOUT_MS }, async () => {
    const r = await play("reset.yml", []);
    assert.equal(r.code, 2, r.output.slice(-3000));
    assert.match(r.output, /The reset was not confirmed: nothing was changed\. Answer yes at the prompt, or without a terminal pass -e reset_confirm=yes/);
    const no = await play("reset.yml", ["-e", "reset_confirm=no"]);
    assert.equal(no.code, 2);
    assert.match(no.output, /The reset was not confirmed \(the answer was "no"\)/);
    for (const node of K3S_NODES) assert.match(await sh(node, K3S_LEFT), /\/usr\/local\/bin\/k3s\n/, `${node}: k3s was touched`);
  });

  test("--check lists what would be removed and changes nothing", { timeout: RUN_TIMEOUT_MS }, async () => {
    const before = await Promise.all(K3S_NODES.map((n) => sh(n, K3S_LEFT)));
    const r = await play("reset.yml", ["--check"]);
    assert.equal(r.code, 0, r.output.slice(-4000));
    const said = messages(r, "Say what is removed from this node");
    assert.match(said.agent, /^agent: would remove run \/usr\/local\/bin\/k3s-agent-uninstall\.sh, .*\/var\/lib\/rancher\/k3s.*, interface cni0, interface flannel\.1, iptables rules of k3s$/);
    assert.match(said.server, /^server: would remove run \/usr\/local\/bin\/k3s-uninstall\.sh, /);
    assert.match(messages(r, "Say what was not done without a Kubernetes API").server ?? "", /manifest file\s+would be removed/);
    assert.match(messages(r, "Say that the SSD's data is kept").agent ?? "", /kept/);
    assert.deepEqual(await Promise.all(K3S_NODES.map((n) => sh(n, K3S_LEFT))), before, "--check changed a node");
    assert.equal((await sh("server", "systemctl is-active k3s")).trim(), "active");
  });

  test("the reset removes k3s and only k3s's rules, drops the database, keeps the SSD's files; a second reset changes nothing", { timeout: 2 * RUN_TIMEOUT_MS }, async () => {
    const r = await play("reset.yml", ["-e", "reset_confirm=yes", "-e", "reset_drop_datastore=true"]);
    assert.equal(r.code, 0, r.output.slice(-6000));
    for (const node of K3S_NODES) {
      assert.equal(await sh(node, K3S_LEFT), "", `${node}: k3s left something`);
      assert.match(await sh(node, "iptables-save"), /^-A INPUT -s 192\.0\.2\.77\/32 -j ACCEPT$/m, `${node}: the user's rule is gone`);
      assert.doesNotMatch(await sh(node, "iptables-save"), /flannel/i);
    }
    assert.equal(await sh("agent", SSD_SUMS), ssdSums, "the SSD's files changed");
    assert.match(await sh("agent", "findmnt -n -o FSTYPE /var/lib/longhorn"), /^ext4$/m, "the SSD is no longer mounted");
    assert.equal((await sh("pg", "su postgres -c \"psql -tAc \\\"select count(*) from pg_database where datname = 'k3s'\\\"\"")).trim(), "0", "the k3s database is still there");
    const again = await play("reset.yml", ["-e", "reset_confirm=yes", "-e", "reset_drop_datastore=true"]);
    assert.equal(again.code, 0, again.output.slice(-4000));
    assert.deepEqual(changedTasks(again), [], "a second reset changed something");
  });

  test("site.yml builds the cluster again; its second run changes nothing", { timeout: 3 * RUN_TIMEOUT_MS }, async () => {
    const r = await site();
    assert.equal(r.code, 0, `site.yml after the reset failed\n${r.output.slice(-6000)}`);
    assert.match(await sh("server", "k3s kubectl get nodes --no-headers"), /^agent\s+Ready/m);
    assert.ok((await sh("server", "ls /var/lib/rancher/k3s/server/manifests")).includes("longhorn.yaml"), "the HelmChart is back");
    assert.equal(await sh("agent", SSD_SUMS), ssdSums, "site.yml changed the SSD's files");
    const second = await site();
    assert.equal(second.code, 0, second.output.slice(-4000));
    assert.deepEqual(changedTasks(second), [], "the second run changed something");
  });

  test("the storage node (a container with open-iscsi) reboots and comes back; iscsid is not enabled there", { timeout: 5 * 60_000 }, async () => {
    assert.equal((await lab!.ssh("agent", "systemctl is-enabled iscsid")).stdout.trim(), "disabled");
    await lab!.reboot("agent", 180_000);
    const state = (await lab!.ssh("agent", "timeout 90 systemctl is-system-running --wait")).stdout.trim();
    assert.ok(state === "running" || state === "degraded", `the rebooted container is "${state}"`);
    if (state === "degraded") process.stderr.write(`# reset lab: agent after reboot: degraded: ${(await lab!.ssh("agent", "systemctl --failed --no-legend --plain")).stdout.trim()}\n`);
    assert.match(await sh("agent", "findmnt -n -o FSTYPE /var/lib/longhorn"), /^ext4$/m);
  });

  test("reset_wipe_storage: a system folder is refused; --check lists; then only the data path is emptied, the SSD stays mounted", { timeout: 2 * RUN_TIMEOUT_MS }, async () => {
    const confirmed = ["-e", "reset_confirm=yes", "-e", "reset_wipe_storage=true"];
    const refused = await play("reset.yml", [...confirmed, "-e", "longhorn_data_path=/var/lib"]);
    assert.equal(refused.code, 2, refused.output.slice(-3000));
    assert.match(refused.output, /agent: longhorn_data_path "\/var\/lib" is not a folder\s+reset_wipe_storage may empty .*nothing was\s+removed/);
    assert.equal(await sh("agent", SSD_SUMS), ssdSums, "the refused wipe changed the SSD's files");
    const check = await play("reset.yml", ["--check", "-e", "reset_wipe_storage=true"]);
    assert.equal(check.code, 0, check.output.slice(-3000));
    assert.equal(messages(check, "Say what is removed from the SSD").agent, "agent: would remove /var/lib/longhorn/notes.txt, /var/lib/longhorn/replicas");
    assert.equal(await sh("agent", SSD_SUMS), ssdSums, "--check changed the SSD's files");
    const wipe = await play("reset.yml", confirmed);
    assert.equal(wipe.code, 0, wipe.output.slice(-3000));
    assert.equal(await sh("agent", "ls -A /var/lib/longhorn"), "lost+found\n", "the data path was not emptied (or lost+found went)");
    assert.match(await sh("agent", "findmnt -n -o FSTYPE /var/lib/longhorn; grep -c ' /var/lib/longhorn ' /etc/fstab"), /^ext4\n1\n$/, "the SSD's mount or fstab entry was touched");
  });
});
