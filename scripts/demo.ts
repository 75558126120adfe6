/**
 * `npm run demo`: the main job on a fresh machine. Boots the lab (node1 amd64, node2 amd64
 * with an SSD, pi1 an arm64 Raspberry Pi with an SSD), runs playbooks/site.yml against it with
 * the live view, runs it again to show that nothing changes, then says where the lab is and
 * how to take it down. A lab that is already up is reused.
 */
import { spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ExitCode, UserError } from "./lib/errors.ts";
import { cliLabConfig, labNames } from "./lib/lab/config.ts";
import { labRunning, up } from "./lib/lab/up.ts";
import { readState } from "./lib/lab/state.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DEMO_NODES = [
  { name: "node1", arch: "amd64" as const, pi: false },
  { name: "node2", arch: "amd64" as const, pi: false, ssd: "1G" },
  { name: "pi1", arch: "arm64" as const, pi: true, ssd: "1G" },
];

/** Runs the playbook as users type it (`npx zx run ...`), output straight to the terminal; returns the JSON report's stats. */
function runSite(inventory: string, report: string): Promise<{ code: number; stats: Record<string, { changed: number; failures: number; unreachable: number }> }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn("npx", ["zx", "run", "playbooks/site.yml", "-i", inventory, "--json", report], { cwd: repoRoot, stdio: "inherit" });
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
  const report = join(tmpdir(), `pi-cluster-demo-${process.pid}.json`);
  try {
    console.log("\n== First run: converge the lab ==\n");
    const first = await runSite(state.inventoryFile, report);
    if (first.code !== 0) {
      console.log(`\nThe first run failed (exit ${first.code}); the lab stays up for a look.`);
      return first.code;
    }
    console.log("\n== Second run: nothing should change ==\n");
    const second = await runSite(state.inventoryFile, report);
    const changed = Object.entries(second.stats).filter(([, s]) => s.changed > 0);
    console.log("");
    if (second.code === 0 && changed.length === 0) console.log("Second run: changed=0 on every host.");
    else console.log(`Second run: exit ${second.code}; changes on ${changed.map(([h, s]) => `${h} (${s.changed})`).join(", ") || "no host"}.`);
    console.log(`\nThe lab is up: inventory ${state.inventoryFile}`);
    for (const n of state.nodes) console.log(`  ${n.name.padEnd(8)} ${n.address.padEnd(12)} ${n.arch}${n.pi ? " pi" : ""}${n.ssdDevice ? ` ssd=${n.ssdDevice}` : ""}`);
    console.log(`  ssh: ssh -i ${state.keyFile} -o UserKnownHostsFile=${state.knownHostsFile} root@${state.nodes[0].address}`);
    console.log("  again: npx zx run playbooks/site.yml -i inventory/lab.yml");
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
