/**
 * The public-role compatibility test of issue 15: test/compat/roles.yml (our own roles written
 * the way popular public roles are, see test/compat/roles/README.md) runs with ansible-playbook
 * on one fresh node and with our runner on an identical fresh node. Every task's status
 * (changed/ok/failed/skipped, a loop's items too) must match, both nodes must end in the same
 * state (files' checksums and modes, users, units), and both re-runs must change nothing.
 *
 * Own lab (prefix pitrl, 10.213.12.0/24), always taken down. Standalone:
 * `node --import tsx --test test/lab/compat-roles.suite.ts`.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootLab, type Lab, type LabNode, type LabNodeRequest } from "../support/lab.ts";
import { changedTasks, compareRuns, compatSkipReason, repo, runAnsible, runOurs, writeTargetInventory, type ToolRun } from "../support/compat.ts";
import { namedLabConfig } from "../../scripts/lib/lab/config.ts";

const PLAYBOOK = join(repo, "test/compat/roles.yml");
const CONFIG = namedLabConfig("test-lab-compat-roles", "pitrl", 12);
const SPEC: { nodes: LabNodeRequest[] } = {
  nodes: [
    { name: "ansible", arch: "amd64" },
    { name: "ours", arch: "amd64" },
  ],
};

/**
 * What the roles cannot do in the lab's containers, by task: the playbook turns these off with
 * a variable, and the suite checks both tools really skipped them.
 */
const CONTAINER_LIMITS: Record<string, string> = {
  "ntp : ntp | service started":
    "systemd-timesyncd needs CAP_SYS_TIME and has ConditionVirtualization=!container: it never becomes active in a container, so state: started would report changed on every run (ntp_start_service: false)",
};

/** What the playbook leaves on a node (the same on both when the tools agree). */
const END_STATE = [
  "for f in /etc/systemd/timesyncd.conf.d/50-compat.conf /etc/ssh/sshd_config.d/40-hardening.conf /etc/ssh/sshd_config /etc/sudoers.d/90-compat" +
    " /etc/sysctl.d/90-compat-roles.conf /var/lib/compat-roles-sysctl.json /etc/fstab /etc/modules-load.d/containerd.conf /etc/sysctl.d/99-kubernetes-cri.conf" +
    " /etc/containerd/compat-config.json /var/lib/rancher/k3s/node-address /var/lib/rancher/k3s/host-facts /etc/sysctl.d/91-k3s-prereq.conf /var/lib/compat-roles-raspberrypi /etc/firewall.bash /etc/systemd/system/firewall.service" +
    " /etc/apt/apt.conf.d/20auto-upgrades /etc/apt/apt.conf.d/50unattended-upgrades /home/compatadmin/.ssh/authorized_keys; do" +
    " stat -c '%n %a %U %G' \"$f\"; sha256sum \"$f\"; done",
  "stat -c '%n %F %a' /var/lib/rancher/k3s/server/manifests /home/compatadmin /home/compatbot 2>&1",
  "getent group k3sadmins compatadmin compatbot; getent passwd compatadmin compatbot compatgone; id -nG compatadmin; grep -E '^compat(admin|bot):' /etc/shadow | cut -d: -f1-2",
  "readlink /etc/localtime; cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/all/rp_filter /proc/sys/net/ipv4/conf/default/rp_filter /proc/sys/net/ipv4/tcp_syncookies",
  "for u in firewall systemd-timesyncd ssh; do echo \"$u $(systemctl is-enabled $u) $(systemctl is-active $u)\"; done",
  "dpkg-query -W -f '${Package} ${Status}\\n' unattended-upgrades tzdata; debconf-show unattended-upgrades",
  "test -e /swapfile && echo swapfile present || echo no swapfile",
].join("\n");

const skipReason = await compatSkipReason(SPEC, CONFIG);

describe("compatibility: public-role-style roles with ansible-playbook and with our runner", { skip: skipReason, concurrency: false }, () => {
  let lab: Lab | undefined;
  let dir: string;
  const inventories = new Map<string, string>();
  const firstRuns: ToolRun[] = [];

  before(
    async () => {
      dir = mkdtempSync(join(tmpdir(), "pi-compat-roles-"));
      lab = await bootLab(SPEC, { config: CONFIG });
      for (const node of lab.nodes) inventories.set(node.name, writeTargetInventory(lab, node, dir));
    },
    { timeout: 20 * 60_000 },
  );

  after(async () => {
    if (lab) await lab.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const both = (pass: number) =>
    Promise.all([runAnsible(PLAYBOOK, inventories.get("ansible")!, dir, `compat-roles pass ${pass}`), runOurs(PLAYBOOK, inventories.get("ours")!, dir, `compat-roles pass ${pass}`)]);

  async function endState(node: LabNode): Promise<string> {
    const r = await lab!.ssh(node, END_STATE);
    assert.equal(r.rc, 0, `${node.name}: end state probe failed\n${r.stderr}`);
    return r.stdout;
  }

  test("first run: same status for every task", { timeout: 10 * 60_000 }, async () => {
    const [a, o] = await both(1);
    firstRuns.push(a, o);
    compareRuns(a, o, 1, "compat-roles");
    assert.ok(changedTasks(a).length > 0, "the first run changes something");
    process.stderr.write(`# compat-roles first run: ansible-playbook ${a.seconds.toFixed(1)} s, ours ${o.seconds.toFixed(1)} s\n`);
  });

  test("what cannot run in a container is skipped by both, named with why", () => {
    for (const [task, why] of Object.entries(CONTAINER_LIMITS)) {
      for (const r of firstRuns) {
        const t = r.tasks.find((x) => x.name === task);
        assert.equal(t?.status, "skipped", `${task} should be skipped in the lab (${why})`);
      }
    }
  });

  test("both nodes end in the same state", async () => {
    const [a, o] = await Promise.all(lab!.nodes.map((n) => endState(n)));
    assert.equal(o, a, "the node our runner configured differs from the one ansible-playbook configured");
  });

  test("second run: same status again, and nothing changes", { timeout: 10 * 60_000 }, async () => {
    const [a, o] = await both(2);
    compareRuns(a, o, 2, "compat-roles");
    assert.deepEqual(changedTasks(a), [], "ansible-playbook: the second run changed tasks");
    assert.deepEqual(changedTasks(o), [], "our runner: the second run changed tasks");
    process.stderr.write(`# compat-roles re-run: ansible-playbook ${a.seconds.toFixed(1)} s, ours ${o.seconds.toFixed(1)} s\n`);
  });
});
