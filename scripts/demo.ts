/**
 * `npm run demo`: the main job on a fresh machine. Boots the lab (node1 amd64, node2 amd64
 * with an SSD, pi1 an arm64 Raspberry Pi with an SSD), runs playbooks/site.yml against it with
 * the live view, runs it again to show that nothing changes, then says where the lab is and
 * how to take it down. A lab that is already up is reused.
 *
 * The cluster is seed 004's shape: node1 runs PostgreSQL and the one tainted k3s server, node2
 * and pi1 join as agents. No k3s binary can be had here, so k3s is the lab's STAND-IN
 * (scripts/lib/lab/k3s-standin), delivered through k3s_airgap_dir as a real air-gapped release
 * would be; the demo says so. Its kubeconfig goes to the lab folder, never to ~/.kube/config.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ExitCode, UserError } from "./lib/errors.ts";
import { cliLabConfig, labNames } from "./lib/lab/config.ts";
import { labRunning, up } from "./lib/lab/up.ts";
import { readState, type LabState } from "./lib/lab/state.ts";
import { writeStandinAirgapDir } from "./lib/lab/k3s-standin/airgap.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DEMO_NODES = [
  { name: "node1", arch: "amd64" as const, pi: false },
  { name: "node2", arch: "amd64" as const, pi: false, ssd: "1G" },
  { name: "pi1", arch: "arm64" as const, pi: true, ssd: "1G" },
];

/**
 * The cluster's groups and settings, as a second inventory beside the lab's: node1 is the
 * datastore and the server, the others are agents; k3s is the stand-in. The database password
 * is made once per lab and kept (0600) so a later demo on the same lab changes nothing.
 */
function writeClusterInventory(state: LabState, labDir: string, cacheDir: string): { inventory: string; kubeconfig: string } {
  const airgap = join(cacheDir, "k3s-standin-airgap");
  writeStandinAirgapDir(airgap);
  const passwordFile = join(labDir, "demo-datastore-password");
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(18).toString("hex"), { mode: 0o600 });
  const password = readFileSync(passwordFile, "utf8").trim();
  const [server, ...agents] = state.nodes.map((n) => n.name);
  const kubeconfig = join(labDir, "kubeconfig");
  const hosts = (names: string[]) => names.map((n) => `        ${n}:`).join("\n");
  const inventory = join(labDir, "demo-cluster.yml");
  writeFileSync(
    inventory,
    [
      "# The demo's cluster (npm run demo): k3s is the lab's STAND-IN, not real k3s.",
      "all:",
      "  vars:",
      `    k3s_airgap_dir: ${JSON.stringify(airgap)}`,
      "    k3s_datastore: postgres",
      `    k3s_datastore_host: ${JSON.stringify(state.nodes[0].address)}`,
      `    k3s_datastore_password: ${JSON.stringify(password)}`,
      `    postgresql_k3s_password: ${JSON.stringify(password)}`,
      `    k3s_kubeconfig_path: ${JSON.stringify(kubeconfig)}`,
      "    k3s_kubeconfig_context: pi-lab",
      "  children:",
      "    datastore:",
      "      hosts:",
      hosts([server]),
      "    servers:",
      "      hosts:",
      hosts([server]),
      "    agents:",
      "      hosts:",
      hosts(agents),
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  return { inventory, kubeconfig };
}

/** Runs the playbook as users type it (`npx zx run ...`), output straight to the terminal; returns the JSON report's stats. */
function runSite(inventories: string[], report: string, kubeconfig: string): Promise<{ code: number; stats: Record<string, { changed: number; failures: number; unreachable: number }> }> {
  return new Promise((resolvePromise, reject) => {
    const args = ["zx", "run", "playbooks/site.yml", ...inventories.flatMap((i) => ["-i", i]), "--json", report];
    // KUBECONFIG too: the demo's cluster must not reach the user's own ~/.kube/config.
    const child = spawn("npx", args, { cwd: repoRoot, stdio: "inherit", env: { ...process.env, KUBECONFIG: kubeconfig } });
    child.on("error", reject);
    child.on("close", (code) => {
      let stats = {};
      try {
        stats = JSON.parse(readFileSync(report, "utf8")).stats ?? {};
      } catch {
        // no report: the exit code says what happened
      }
      resolvePromise({ code: code ?? 1, stats });
    });
  });
}

async function main(): Promise<number> {
  const config = cliLabConfig(repoRoot);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let state = readState(labNames(config).stateFile);
  if (state && labRunning(config)) {
    log(`Reusing the lab that is already up (${state.nodes.map((n) => n.name).join(", ")}).`);
  } else {
    log("Booting the lab: node1 (amd64), node2 (amd64, SSD), pi1 (arm64 Raspberry Pi, SSD)...");
    state = await up(config, { nodes: DEMO_NODES, netboot: false }, log);
  }
  const cluster = writeClusterInventory(state, config.dir, config.cacheDir);
  const inventories = [state.inventoryFile, cluster.inventory];
  const report = join(tmpdir(), `pi-cluster-demo-${process.pid}.json`);
  try {
    console.log("\n== First run: converge the lab, then the cluster (k3s is the lab's STAND-IN) ==\n");
    const first = await runSite(inventories, report, cluster.kubeconfig);
    if (first.code !== 0) {
      console.log(`\nThe first run failed (exit ${first.code}); the lab stays up for a look.`);
      return first.code;
    }
    console.log("\n== Second run: nothing should change ==\n");
    const second = await runSite(inventories, report, cluster.kubeconfig);
    const changed = Object.entries(second.stats).filter(([, s]) => s.changed > 0);
    console.log("");
    if (second.code === 0 && changed.length === 0) console.log("Second run: changed=0 on every host.");
    else console.log(`Second run: exit ${second.code}; changes on ${changed.map(([h, s]) => `${h} (${s.changed})`).join(", ") || "no host"}.`);
    console.log(`\nThe lab is up: inventory ${state.inventoryFile}`);
    for (const n of state.nodes) console.log(`  ${n.name.padEnd(8)} ${n.address.padEnd(12)} ${n.arch}${n.pi ? " pi" : ""}${n.ssdDevice ? ` ssd=${n.ssdDevice}` : ""}`);
    console.log(`  ssh: ssh -i ${state.keyFile} -o UserKnownHostsFile=${state.knownHostsFile} root@${state.nodes[0].address}`);
    console.log(`  cluster: node1 runs PostgreSQL and the tainted k3s server, the others are agents.`);
    console.log(`  k3s here is a STAND-IN (scripts/lib/lab/k3s-standin): it follows k3s's contract (config,`);
    console.log(`  tokens, CA check, node registration, kubectl get nodes, state in the real PostgreSQL)`);
    console.log(`  but runs no pods. With a real release: -e k3s_airgap_dir=/path/to/release.`);
    console.log(`  nodes: ssh ... root@${state.nodes[0].address} k3s kubectl get nodes`);
    console.log(`  kubeconfig (context pi-lab): ${cluster.kubeconfig}`);
    console.log(`  again: npx zx run playbooks/site.yml -i inventory/lab.yml -i ${cluster.inventory}`);
    console.log("  take it down: npm run lab -- down");
    return second.code === 0 && changed.length === 0 ? ExitCode.ok : ExitCode.error;
  } finally {
    rmSync(report, { force: true });
  }
}

try {
  process.exitCode = await main();
} catch (e) {
  if (e instanceof UserError) {
    process.stderr.write(`demo: ${e.format()}\n`);
    process.exitCode = e.exitCode;
  } else {
    process.stderr.write(`demo: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = ExitCode.error;
  }
}
