/**
 * `npm run bench`: our runner against ansible-playbook on a lab of 8 amd64 nodes (issue 4).
 *
 *   npm run bench                     3 rounds, hosts 1/4/8, 20 and 60 tasks, first run + no-op
 *   npm run bench -- --rounds 5
 *   npm run bench -- --quick          1 round, hosts 1/8, Ansible default only on 8x20 (development)
 *   npm run bench -- --hosts 8 --tasks 20 --no-default
 *
 * Per scenario and round, each tool (order alternates A B A B across rounds) gets: reset.yml
 * (not timed), the first run, the no-op re-run. Prints medians, ratios, the floor, the goals,
 * and writes test/bench/RESULTS.md. Exits non-zero when the tools disagree on changed counts.
 */
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir, cpus, totalmem, release } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { execSync } from "node:child_process";
import { parse, stringify } from "yaml";
import { bootLab, type Lab } from "../support/lab.ts";
import { namedLabConfig } from "../../scripts/lib/lab/config.ts";
import { down as labDown } from "../../scripts/lib/lab/down.ts";
import { runTool, runCommand, type Tool, type RunResult, type HostCounts } from "./lib/tools.ts";
import { measureFloor } from "./lib/floor.ts";
import { rowOf, textTable, markdownTable, goals, verdict, type Scenario } from "./lib/report.ts";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(BENCH_DIR, "../..");
const NODE_COUNT = 8;

interface Options {
  rounds: number;
  hosts: number[];
  tasks: number[];
  /** Run Ansible's default settings in every scenario, or only in these labels. */
  defaultEverywhere: boolean;
  noDefault: boolean;
  quick: boolean;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { rounds: 3, hosts: [1, 4, 8], tasks: [20, 60], defaultEverywhere: true, noDefault: false, quick: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i] ?? "";
    const list = () => next().split(",").map(Number).filter((n) => n > 0);
    if (a === "--rounds") o.rounds = Math.max(1, Number(next()) || 1);
    else if (a === "--quick") Object.assign(o, { quick: true, rounds: 1, hosts: [1, 8], defaultEverywhere: false });
    else if (a === "--hosts") o.hosts = list().filter((n) => n <= NODE_COUNT);
    else if (a === "--tasks") o.tasks = list().filter((n) => n === 20 || n === 60);
    else if (a === "--no-default") o.noDefault = true;
    else if (a === "--default-8x20-only") o.defaultEverywhere = false;
    else {
      process.stderr.write(`bench: unknown option ${a}\n(options: --rounds N, --quick, --hosts 1,4,8, --tasks 20,60, --no-default, --default-8x20-only)\n`);
      process.exit(2);
    }
  }
  return o;
}

const log = (line: string) => process.stderr.write(`# bench: ${line}\n`);

/** The lab's inventory with the group the playbooks target (`bench`: every node). */
function writeBenchInventory(lab: Lab, dir: string): string {
  const inv = parse(readFileSync(lab.inventoryFile, "utf8")) as { all: { children: Record<string, unknown> } };
  inv.all.children.bench = { hosts: Object.fromEntries(lab.nodes.map((n) => [n.name, null])) };
  const file = join(dir, "inventory.yml");
  writeFileSync(file, stringify(inv, { nullStr: "", lineWidth: 0 }));
  return file;
}

function sameCounts(a: Record<string, HostCounts>, b: Record<string, HostCounts>): string | undefined {
  const hosts = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const diffs = hosts.filter((h) => JSON.stringify(a[h]) !== JSON.stringify(b[h])).map((h) => `${h}: ${JSON.stringify(a[h])} vs ${JSON.stringify(b[h])}`);
  return diffs.length ? diffs.join("; ") : undefined;
}

function sh(cmd: string): string {
  try {
    return execSync(cmd, { encoding: "utf8" }).trim();
  } catch {
    return "?";
  }
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  const started = new Date();
  const loadBefore = sh("uptime");
  const ansibleVersion = sh("ansible-playbook --version | head -1");
  if (ansibleVersion === "?" || !ansibleVersion) {
    process.stderr.write("bench: ansible-playbook not found (apt-get install ansible)\n");
    return 2;
  }

  const config = namedLabConfig("bench-lab", "pibnch", 2);
  const names = Array.from({ length: NODE_COUNT }, (_, i) => `bench${i + 1}`);
  log(`booting ${NODE_COUNT} nodes (${config.dir})`);
  let lab: Lab | undefined;
  const workDir = mkdtempSync(join(tmpdir(), "bench-"));
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: taking the lab down`);
    // Interrupted while booting: no Lab object yet, take down whatever the config started.
    await (lab ? lab.down() : labDown(config, () => {})).catch(() => {});
    rmSync(workDir, { recursive: true, force: true });
    process.exit(130);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));

  try {
    lab = await bootLab({ nodes: names.map((name) => ({ name, arch: "amd64" })), netboot: false }, { config, log });
    const inventoryFile = writeBenchInventory(lab, workDir);
    const ctx = { repoRoot: REPO_ROOT, inventoryFile };

    log("set-up: python3-apt on every node (Ansible's apt module needs it), through the lab's apt proxy");
    await Promise.all(
      lab.nodes.map(async (n) => {
        // Bounded and retried: one stalled upstream fetch through the proxy must not hang the bench.
        const apt = "apt-get -o Acquire::http::Timeout=20 -o Acquire::Retries=3";
        const r = await lab!.ssh(n, `for i in 1 2 3; do ${apt} update -qq && DEBIAN_FRONTEND=noninteractive ${apt} install -y -qq python3-apt >/dev/null && exit 0; sleep 2; done; exit 1`);
        if (r.rc !== 0) throw new Error(`python3-apt on ${n.name}: ${r.stderr}`);
      }),
    );
    // Warm-up (not timed): fills the apt proxy cache with the playbook's packages and warms
    // both tools' caches, so round 1 is not special.
    log("warm-up (not timed)");
    await runTool("ours", join(BENCH_DIR, "bootstrap.yml"), names, ctx);
    await runTool("ansible-best", join(BENCH_DIR, "bootstrap.yml"), names.slice(0, 1), ctx);

    const reset = () => runCommand("npx", ["zx", "run", join(BENCH_DIR, "reset.yml"), "-i", inventoryFile], { cwd: REPO_ROOT });
    const scenarios: Scenario[] = [];
    const mismatches: string[] = [];

    for (const tasks of opts.tasks) {
      for (const hostCount of opts.hosts) {
        const playbook = join(BENCH_DIR, tasks === 20 ? "bootstrap.yml" : "bootstrap-60.yml");
        const hosts = names.slice(0, hostCount);
        const first: Scenario = { hosts: hostCount, tasks, kind: "first", wall: {}, ownMs: [], floorMs: [] };
        const noop: Scenario = { hosts: hostCount, tasks, kind: "noop", wall: {}, ownMs: [], floorMs: [] };
        const tools: Tool[] = ["ansible-best", "ours"];
        const withDefault = !opts.noDefault && (opts.defaultEverywhere || (hostCount === 8 && tasks === 20));
        if (withDefault) tools.unshift("ansible-default");
        for (let round = 0; round < opts.rounds; round++) {
          const order = round % 2 === 0 ? tools : [...tools].reverse();
          const seen: Partial<Record<Tool, { first: RunResult; noop: RunResult }>> = {};
          for (const tool of order) {
            await reset();
            const f = await runTool(tool, playbook, hosts, ctx);
            const n = await runTool(tool, playbook, hosts, ctx);
            seen[tool] = { first: f, noop: n };
            (first.wall[tool] ??= []).push(f.wallMs);
            (noop.wall[tool] ??= []).push(n.wallMs);
            if (tool === "ours") {
              if (f.ownMs !== undefined) first.ownMs.push(f.ownMs);
              if (n.ownMs !== undefined) noop.ownMs.push(n.ownMs);
            }
            log(`${hostCount}x${tasks} round ${round + 1} ${tool}: first ${(f.wallMs / 1000).toFixed(2)}s, no-op ${(n.wallMs / 1000).toFixed(2)}s${tool === "ours" ? ` (own ${((f.ownMs ?? 0) / 1000).toFixed(2)} / ${((n.ownMs ?? 0) / 1000).toFixed(2)})` : ""}`);
          }
          for (const tool of tools.filter((t) => t !== "ours")) {
            for (const kind of ["first", "noop"] as const) {
              const diff = sameCounts(seen[tool]![kind].counts, seen.ours![kind].counts);
              if (diff) {
                const msg = `${hostCount}x${tasks} ${kind} round ${round + 1}: ${tool} vs ours changed counts differ: ${diff}`;
                mismatches.push(msg);
                process.stderr.write(`\n!!! MISMATCH ${msg}\n\n`);
              }
            }
          }
          const floorTargets = lab.nodes.slice(0, hostCount).map((n) => ({ address: n.address, keyFile: lab!.keyFile, knownHostsFile: lab!.knownHostsFile }));
          const floorMs = await measureFloor(floorTargets, tasks);
          first.floorMs.push(floorMs);
          noop.floorMs.push(floorMs);
        }
        scenarios.push(first, noop);
      }
    }

    const order = (s: Scenario) => (s.kind === "noop" ? 0 : 1) * 1000 + s.tasks * 10 + s.hosts;
    const rows = scenarios.sort((a, b) => order(a) - order(b)).map(rowOf);
    const goalList = goals(rows);
    const loadAfter = sh("uptime");

    console.log("\n" + textTable(rows) + "\n");
    for (const g of goalList) console.log(`${verdict(g).padEnd(12)} ${g.name} (measured ${g.measured})`);
    if (mismatches.length) console.log(`\nMISMATCH: the tools reported different changed counts:\n${mismatches.join("\n")}`);

    const machine = [
      `- Machine: ${cpus().length} CPUs (\`nproc\` ${sh("nproc")}, ${cpus()[0]?.model ?? "?"}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, kernel ${release()}`,
      `- Node ${process.version}, ${ansibleVersion} (Debian package), our runner at ${sh(`git -C ${REPO_ROOT} rev-parse --short HEAD`)}`,
      `- Date ${started.toISOString()}, ${opts.rounds} round(s)${opts.quick ? " (--quick)" : ""}, lab of ${NODE_COUNT} amd64 nspawn nodes on the same machine`,
      `- Load before: \`${loadBefore}\`; after: \`${loadAfter}\``,
    ].join("\n");
    const md = `# Benchmark results (npm run bench)

${machine}

Medians in seconds over the rounds; tools alternate A B A B across rounds. Every run is the whole
command as a user types it: \`ansible-playbook <playbook> -i <inventory> --limit <hosts>\` and
\`npx zx run <playbook> -i <inventory> --limit <hosts>\` from the repository root (start-up
included). "first run" follows reset.yml; "no-op" is the re-run right after it.

- **ansible default**: no ansible.cfg settings (no pipelining, no ControlPersist), facts off in the playbook.
- **ansible best**: pipelining=True, ssh_args \`-o ControlMaster=auto -o ControlPersist=60s\`
  (a fresh control-path directory per run, so each run pays its own SSH handshakes, as ours
  does), facts off, forks 8.
- **ours own**: the runner's own time without process start-up: first play start to last play
  end as written in its \`--json\` report (inventory and playbook loading before the first play
  are not in it).
- **floor**: plain OpenSSH in a shell, per host in parallel: one fresh connection
  (ControlMaster) then one \`ssh -S … true\` round trip per task over it (20 or 60), then close.
- **best/ours**, **default/ours**: how many times faster ours is. **own/floor**: ours own / floor.

${markdownTable(rows)}

## Goals (issue 4)

${goalList.map((g) => `- ${verdict(g)}: ${g.name} — measured ${g.measured}`).join("\n")}

Changed counts per host: ${mismatches.length ? `**MISMATCH**:\n\n${mismatches.map((m) => `- ${m}`).join("\n")}` : "both tools reported the same changed/failed/unreachable counts for every host in every run."}
`;
    writeFileSync(join(BENCH_DIR, "RESULTS.md"), md);
    log(`wrote ${join(BENCH_DIR, "RESULTS.md")}`);
    return mismatches.length ? 1 : 0;
  } finally {
    log("taking the lab down");
    await lab?.down().catch((e: unknown) => log(`lab down failed: ${String(e)}`));
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
