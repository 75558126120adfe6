/**
 * The compatibility test of issue 3: test/compat/playbook.yml (every module we share with
 * Ansible) runs with ansible-playbook (Debian's package) on one fresh node and with our runner
 * on an identical fresh node; every task's status (changed/ok/failed/skipped) must match. Then
 * both tools run it again: the statuses must match again and nothing may change (a no-op run).
 *
 * Fresh identical hosts cannot be the shared test lab's (other suites change those), so this
 * suite boots its own small lab (prefix pitcm, 10.213.8.0/24) and always takes it down. It
 * works standalone too: `node --import tsx --test test/lab/compat.suite.ts`.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { bootLab, labAvailable, type Lab, type LabNode, type LabNodeRequest } from "../support/lab.ts";
import { namedLabConfig } from "../../scripts/lib/lab/config.ts";
import { which } from "../../scripts/lib/lab/preflight.ts";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const PLAYBOOK = join(repo, "test/compat/playbook.yml");
const CONFIG = namedLabConfig("test-lab-compat", "pitcm", 8);
/** One node per tool, identical; the SSD is for parted/filesystem/mount. */
const SPEC: { nodes: LabNodeRequest[] } = {
  nodes: [
    { name: "ansible", arch: "amd64", ssd: "1G" },
    { name: "ours", arch: "amd64", ssd: "1G" },
  ],
};
const RUN_TIMEOUT_MS = 5 * 60_000;

type Status = "changed" | "ok" | "failed" | "skipped" | "unreachable";

interface HostResult {
  changed?: boolean;
  failed?: boolean;
  skipped?: boolean;
  unreachable?: boolean;
  msg?: unknown;
  results?: HostResult[];
}

interface JsonReport {
  plays: Array<{ tasks: Array<{ task: { name: string }; hosts: Record<string, HostResult> }> }>;
}

/** One task as a tool reported it. */
interface TaskOutcome {
  name: string;
  /** The task's status; a loop's is followed by its items' ("changed [changed ok]"). */
  status: string;
  msg: string;
}

interface ToolRun {
  code: number | null;
  seconds: number;
  tasks: TaskOutcome[];
  output: string;
}

const skipReason = await compatSkipReason();

async function compatSkipReason(): Promise<string | false> {
  if (!which("ansible-playbook")) return "ansible-playbook is not installed (apt-get install ansible)";
  const reason = await labAvailable(SPEC, CONFIG);
  return reason ? `no lab: ${reason}` : false;
}

function statusOf(r: HostResult): Status {
  if (r.unreachable) return "unreachable";
  if (r.failed) return "failed";
  if (r.skipped) return "skipped";
  return r.changed ? "changed" : "ok";
}

/** A loop's status with every item's: "changed [changed ok]". */
function statusWithItems(r: HostResult): string {
  const own = statusOf(r);
  return r.results?.length ? `${own} [${r.results.map(statusOf).join(" ")}]` : own;
}

function messageOf(r: HostResult): string {
  const own = typeof r.msg === "string" ? r.msg : r.msg === undefined ? "" : JSON.stringify(r.msg);
  const items = (r.results ?? []).map((i) => (typeof i.msg === "string" ? i.msg : "")).filter(Boolean);
  return [own, ...items].filter(Boolean).join(" | ").slice(0, 500);
}

/** The host's outcome of every task, in order. */
function outcomes(report: JsonReport | undefined, host: string): TaskOutcome[] {
  if (!report) return [];
  return report.plays.flatMap((p) =>
    p.tasks.filter((t) => t.hosts[host]).map((t) => ({ name: t.task.name, status: statusWithItems(t.hosts[host]), msg: messageOf(t.hosts[host]) })),
  );
}

function readReport(text: string): JsonReport | undefined {
  try {
    return JSON.parse(text) as JsonReport;
  } catch {
    // ansible-playbook may print warnings before the JSON document
    const start = text.indexOf("{\n");
    if (start < 0) return undefined;
    try {
      return JSON.parse(text.slice(start)) as JsonReport;
    } catch {
      return undefined;
    }
  }
}

function run(command: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; seconds: number }> {
  const started = Date.now();
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { cwd: repo, env: { ...process.env, NO_COLOR: "1", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGINT"), RUN_TIMEOUT_MS);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 });
    });
  });
}

describe("compatibility: the same playbook with ansible-playbook and with our runner", { skip: skipReason, concurrency: false }, () => {
  let lab: Lab | undefined;
  let dir: string;
  const inventories = new Map<string, string>();

  before(
    async () => {
      dir = mkdtempSync(join(tmpdir(), "pi-compat-"));
      lab = await bootLab(SPEC, { config: CONFIG });
      for (const node of lab.nodes) inventories.set(node.name, writeInventory(lab, node));
    },
    { timeout: 20 * 60_000 },
  );

  after(async () => {
    if (lab) await lab.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Inventory with the one host `target` at `node` (same name on both sides: same templating). */
  function writeInventory(l: Lab, node: LabNode): string {
    const fetchDir = join(dir, `fetched-${node.name}`);
    mkdirSync(fetchDir, { recursive: true });
    const inventory = {
      all: {
        hosts: {
          target: {
            ansible_host: node.address,
            ansible_user: "root",
            ansible_ssh_private_key_file: l.keyFile,
            ansible_ssh_common_args: `-o UserKnownHostsFile=${l.knownHostsFile} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes`,
            ansible_python_interpreter: "/usr/bin/python3",
            ssd_device: node.ssdDevice,
            fetch_dir: fetchDir,
          },
        },
      },
    };
    const file = join(dir, `inventory-${node.name}.yml`);
    writeFileSync(file, stringify(inventory));
    return file;
  }

  async function ansible(pass: number | string, node = "ansible", extra: string[] = []): Promise<ToolRun> {
    const home = join(dir, "ansible-home");
    const r = await run("ansible-playbook", ["-i", inventories.get(node)!, PLAYBOOK, ...extra], {
      ANSIBLE_STDOUT_CALLBACK: "json",
      ANSIBLE_HOME: home,
      ANSIBLE_LOCAL_TEMP: join(home, "tmp"),
      ANSIBLE_PIPELINING: "1",
      ANSIBLE_HOST_KEY_CHECKING: "1",
      ANSIBLE_RETRY_FILES_ENABLED: "0",
      ANSIBLE_NOCOLOR: "1",
      ANSIBLE_DEPRECATION_WARNINGS: "0",
    });
    process.stderr.write(`# compat: ansible-playbook pass ${pass} -> exit ${r.code} in ${r.seconds.toFixed(1)} s\n`);
    return { code: r.code, seconds: r.seconds, tasks: outcomes(readReport(r.stdout), "target"), output: `${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}` };
  }

  async function ours(pass: number | string, node = "ours", extra: string[] = []): Promise<ToolRun> {
    const json = join(dir, `ours-${pass}.json`);
    // The user's entry point, as the README documents it (bundle or tsx, whichever run picks).
    const r = await run("npx", ["zx", "run", "-i", inventories.get(node)!, PLAYBOOK, "--json", json, ...extra], { CI: "true" });
    process.stderr.write(`# compat: our runner pass ${pass} -> exit ${r.code} in ${r.seconds.toFixed(1)} s\n`);
    const report = existsSync(json) ? readReport(readFileSync(json, "utf8")) : undefined;
    return { code: r.code, seconds: r.seconds, tasks: outcomes(report, "target"), output: `${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}` };
  }

  /** Every task's status matches (same tasks, same order); returns the table for the log. */
  function compare(a: ToolRun, o: ToolRun, pass: number): void {
    assert.ok(a.tasks.length > 0, `pass ${pass}: no task results from ansible-playbook (exit ${a.code})\n${a.output}`);
    assert.ok(o.tasks.length > 0, `pass ${pass}: no task results from our runner (exit ${o.code})\n${o.output}`);
    const names = [...new Set([...a.tasks.map((t) => t.name), ...o.tasks.map((t) => t.name)])];
    const mismatches: string[] = [];
    for (const name of names) {
      const x = a.tasks.find((t) => t.name === name);
      const y = o.tasks.find((t) => t.name === name);
      if (x?.status === y?.status) continue;
      mismatches.push(
        `task "${name}": ansible ${x?.status ?? "(not run)"}${x?.msg ? ` (${x.msg})` : ""} / ours ${y?.status ?? "(not run)"}${y?.msg ? ` (${y.msg})` : ""}`,
      );
    }
    const summary = (r: ToolRun) => ["changed", "ok", "failed", "skipped"].map((s) => `${s}=${r.tasks.filter((t) => t.status.split(" ")[0] === s).length}`).join(" ");
    const changedNames = (r: ToolRun) => r.tasks.filter((t) => t.status.startsWith("changed")).map((t) => t.name).join(", ");
    process.stderr.write(`# compat pass ${pass}: ${names.length} tasks; ansible ${summary(a)}; ours ${summary(o)}\n`);
    const loops = a.tasks.filter((t) => t.status.includes("[")).map((t) => `${t.name}: ${t.status}`).join("; ");
    if (loops) process.stderr.write(`# compat pass ${pass} loops (both): ${loops}\n`);
    if (pass > 1) process.stderr.write(`# compat pass ${pass} changed: ansible [${changedNames(a)}]; ours [${changedNames(o)}]\n`);
    assert.deepEqual(mismatches, [], `pass ${pass}: task statuses differ between ansible-playbook and our runner`);
    assert.equal(a.tasks.map((t) => t.name).join("\n"), o.tasks.map((t) => t.name).join("\n"), `pass ${pass}: the tasks ran in a different order`);
    assert.equal(a.code, 0, `pass ${pass}: ansible-playbook failed\n${a.output}`);
    assert.equal(o.code, 0, `pass ${pass}: our runner failed\n${o.output}`);
  }

  /** Each node's boot id: the playbook reboots once on the first run, never on the second. */
  async function bootIds(): Promise<string[]> {
    const l = lab!;
    return Promise.all(l.nodes.map(async (n) => (await l.ssh(n, "cat /proc/sys/kernel/random/boot_id")).stdout.trim()));
  }

  test("first run: same status for every task", { timeout: 10 * 60_000 }, async () => {
    const before = await bootIds();
    const [a, o] = await Promise.all([ansible(1), ours(1)]);
    compare(a, o, 1);
    assert.ok(a.tasks.some((t) => t.status === "changed"), "the first run changes something");
    const after = await bootIds();
    lab!.nodes.forEach((n, i) => assert.notEqual(after[i], before[i], `${n.name}: the reboot task did not reboot the node`));
  });

  /** What the playbook leaves on a node, with the node's own SSD device name normalised. */
  async function endState(node: LabNode): Promise<string> {
    const script = [
      "cd /srv/compat && find . -printf '%p %y %m %u %g %s %l\\n' | sort && find . -type f | sort | xargs sha256sum",
      "getent passwd compat; getent group compatgrp; id -nG compat; grep '^compat:' /etc/shadow | cut -d: -f1-2",
      "sha256sum /home/compat/.ssh/authorized_keys; stat -c '%a %U' /home/compat/.ssh /home/compat/.ssh/authorized_keys",
      "cat /etc/sysctl.d/90-compat.conf; cat /proc/sys/net/ipv4/ip_forward",
      "readlink /etc/localtime; cat /etc/timezone 2>/dev/null; hostname; cat /etc/hostname",
      "systemctl is-enabled compat; systemctl is-active compat",
      "grep /mnt/compat /etc/fstab; findmnt -n -o SOURCE,FSTYPE /mnt/compat",
      "dpkg-query -W -f '${Package} ${Status}\\n' curl parted",
      "stat -c '%n %a %U %G %s' /var/lib/compat-rebooted /etc/systemd/system/compat.service",
      "iptables -S COMPAT; ufw status verbose; update-alternatives --query compat-tool; debconf-show tzdata | grep Areas; locale -a | grep -i '^en_us'",
    ].join("\n");
    const r = await lab!.ssh(node, script.replace("cat /etc/timezone 2>/dev/null; ", ""));
    assert.equal(r.rc, 0, `${node.name}: end state probe failed\n${r.stderr}`);
    return node.ssdDevice ? r.stdout.replaceAll(node.ssdDevice, "SSD") : r.stdout;
  }

  // /etc/timezone is left out above (see KNOWN_CROSS_DIFFERENCES): Ansible leaves it stale.
  test("both nodes end in the same state", async () => {
    const [a, o] = await Promise.all(lab!.nodes.map((n) => endState(n)));
    assert.equal(o, a, "the node our runner configured differs from the one ansible-playbook configured");
  });

  test("second run: same status again, and nothing changes", { timeout: 10 * 60_000 }, async () => {
    const before = await bootIds();
    const [a, o] = await Promise.all([ansible(2), ours(2)]);
    compare(a, o, 2);
    assert.deepEqual(await bootIds(), before, "the second run rebooted a node");
    const changed = (r: ToolRun) => r.tasks.filter((t) => t.status.startsWith("changed")).map((t) => t.name);
    assert.deepEqual(changed(a), [], "ansible-playbook: the second run changed tasks");
    assert.deepEqual(changed(o), [], "our runner: the second run changed tasks");
  });

  test("each tool in check mode on the node the other converged: nothing to change", { timeout: 10 * 60_000 }, async () => {
    // Ansible's apt needs python3-apt for check mode (a real run installs it itself, which is
    // why the node Ansible converged has it and ours does not): give it to our node first.
    const ourNode = lab!.node("ours");
    const prep = await lab!.ssh(ourNode, "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-apt >/dev/null");
    assert.equal(prep.rc, 0, `apt-get install python3-apt on ${ourNode.name}: ${prep.stderr}`);
    const [a, o] = await Promise.all([ansible("cross", "ours", ["--check"]), ours("cross", "ansible", ["--check"])]);
    const changedNames = (r: ToolRun) => r.tasks.filter((t) => t.status.startsWith("changed")).map((t) => t.name).join(", ");
    process.stderr.write(`# compat cross --check would change: ansible on our node [${changedNames(a)}]; ours on Ansible's node [${changedNames(o)}]\n`);
    const verdict = (r: ToolRun, tool: keyof typeof KNOWN_CROSS_DIFFERENCES) => {
      assert.ok(r.tasks.length > 0, `${tool} --check on the other node: no task results (exit ${r.code})\n${r.output}`);
      const failed = r.tasks.filter((t) => t.status.startsWith("failed")).map((t) => `${t.name}: ${t.msg}`);
      const changed = r.tasks.filter((t) => t.status.startsWith("changed") && !(t.name in KNOWN_CROSS_DIFFERENCES[tool])).map((t) => `${t.name}: ${t.msg}`);
      assert.deepEqual(failed, [], `${tool} --check on the other tool's node: failed tasks`);
      assert.deepEqual(changed, [], `${tool} --check on the other tool's node: would change`);
    };
    verdict(a, "ansible");
    verdict(o, "ours");
  });
});

/**
 * Differences between the tools' results that are deliberate, by tool and task, with why. The
 * task's status still has to match in the same-tool passes above; only the cross check (one
 * tool re-checking what the other converged) allows these.
 */
const KNOWN_CROSS_DIFFERENCES: Record<"ansible" | "ours", Record<string, string>> = {
  ansible: {},
  ours: {
    // community.general.timezone sets the zone with timedatectl when systemd runs, which leaves
    // Debian's /etc/timezone saying the old zone (Etc/UTC) next to a new /etc/localtime. Ours
    // also keeps /etc/timezone in sync (tools such as tzdata's debconf read it), so on a node
    // Ansible configured it sees the stale file and would rewrite it.
    timezone: "Ansible leaves /etc/timezone stale",
  },
};
