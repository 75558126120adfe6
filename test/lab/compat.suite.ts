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
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootLab, type Lab, type LabNode, type LabNodeRequest } from "../support/lab.ts";
import { compareRuns, compatSkipReason, repo, runAnsible, runOurs, writeTargetInventory, type ToolRun } from "../support/compat.ts";
import { namedLabConfig } from "../../scripts/lib/lab/config.ts";

const PLAYBOOK = join(repo, "test/compat/playbook.yml");
const CONFIG = namedLabConfig("test-lab-compat", "pitcm", 8);
/** One node per tool, identical; the SSD is for parted/filesystem/mount. */
const SPEC: { nodes: LabNodeRequest[] } = {
  nodes: [
    { name: "ansible", arch: "amd64", ssd: "1G" },
    { name: "ours", arch: "amd64", ssd: "1G" },
  ],
};

const skipReason = await compatSkipReason(SPEC, CONFIG);

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
    return writeTargetInventory(l, node, dir, { ssd_device: node.ssdDevice, fetch_dir: fetchDir });
  }

  const ansible = (pass: number | string, node = "ansible", extra: string[] = []) => runAnsible(PLAYBOOK, inventories.get(node)!, dir, `compat: pass ${pass}`, extra);
  const ours = (pass: number | string, node = "ours", extra: string[] = []) => runOurs(PLAYBOOK, inventories.get(node)!, dir, `compat: pass ${pass}`, extra);

  const compare = (a: ToolRun, o: ToolRun, pass: number) => compareRuns(a, o, pass);

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
