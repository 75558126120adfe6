/**
 * The longhorn role's storage-node part on real lab nodes (issue 12): ssd-storage prepares the
 * SSD, longhorn installs open-iscsi, nfs-common, cryptsetup and dmsetup, writes the
 * modules-load.d file and the multipathd blacklist (as a block: other content stays), puts the
 * data path on the SSD and runs its preflight; a second run changes nothing.
 *
 * What cannot run here, said plainly: lab nodes are systemd-nspawn containers, which cannot load
 * kernel modules, so iscsi_tcp is not loaded, and the kernel checks (iscsid running, iscsi_tcp,
 * the kernel's NFSv4) are skipped: the lab inventory sets longhorn_preflight_kernel: false and
 * the test checks that the role says so. Labelling nodes and waiting for Longhorn need a real
 * k3s (longhorn_cluster_steps: false here); the HelmChart itself is tested in
 * test/unit/roles/longhorn-manifest.test.ts.
 *
 * Fresh nodes of its own (prefix pilh, 10.213.4.0/24), always taken down. Standalone:
 * `node --import tsx --test test/lab/longhorn.suite.ts`.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { Ajv } from "ajv";
import { bootLab, labAvailable, type Lab, type LabNodeRequest } from "../support/lab.ts";
import { namedLabConfig } from "../../scripts/lib/lab/config.ts";
import { runCommand } from "../support/run-command.ts";
import { readJsonReport, type JsonReport } from "../support/json-report.ts";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CONFIG = namedLabConfig("test-lab-lh", "pilh", 4);
const SPEC: { nodes: LabNodeRequest[] } = {
  nodes: [
    { name: "st1", arch: "amd64", ssd: "1G" },
    { name: "st2", arch: "amd64", ssd: "1G" },
  ],
};
const RUN_TIMEOUT_MS = 4 * 60_000;
const KERNEL_CHECKS = ["Load iscsi_tcp now", "Start iscsid", "Preflight: iscsid is running", "Preflight: the iscsi_tcp module is loaded", "Preflight: the kernel has NFSv4"];

const reason = await labAvailable(SPEC, CONFIG);
/** Not a type guard (Ajv's narrows the manifest to unknown). */
const validHelmChart = (x: unknown): boolean => validateHelmChart(x);
const validateHelmChart = new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(JSON.parse(readFileSync(join(repo, "test/unit/roles/helmchart.schema.json"), "utf8")));

interface Run {
  code: number | null;
  output: string;
  report?: JsonReport;
}

/** (host, task) -> status, for every task of the longhorn and ssd-storage plays. */
function statuses(report: JsonReport | undefined): Array<{ host: string; task: string; status: string; msg: string }> {
  if (!report) return [];
  return report.plays.flatMap((p) =>
    p.tasks.flatMap((t) =>
      Object.entries(t.hosts).map(([host, r]) => ({
        host,
        task: t.task.name.replace(/^longhorn : /, ""),
        status: r.failed ? "failed" : r.skipped ? "skipped" : r.changed ? "changed" : "ok",
        msg: typeof r.msg === "string" ? r.msg : "",
      })),
    ),
  );
}

describe("longhorn: storage nodes prepared on real lab nodes", { skip: reason ? `no lab: ${reason}` : false, concurrency: false }, () => {
  let lab: Lab | undefined;
  let dir: string;

  before(
    async () => {
      dir = mkdtempSync(join(tmpdir(), "pi-longhorn-"));
      lab = await bootLab(SPEC, { config: CONFIG });
    },
    { timeout: 20 * 60_000 },
  );

  after(async () => {
    if (lab) await lab.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function site(pass: string, extra: string[] = [], inventory = lab!.inventoryFile): Promise<Run> {
    const json = join(dir, `site-${pass}.json`);
    const args = ["zx", "run", "playbooks/site.yml", "-i", inventory, "--tags", "ssd-storage,longhorn", "--json", json, ...extra];
    const { code, output } = await runCommand("npx", args, { cwd: repo, env: { CI: "true" }, timeoutMs: RUN_TIMEOUT_MS });
    return { code, output: output.slice(-6000), report: readJsonReport(json) };
  }

  test("--check on fresh nodes: the SSD still to be mounted is not held against the data path, nothing is written", { timeout: RUN_TIMEOUT_MS + 10_000 }, async () => {
    const r = await site("check", ["--check"]);
    assert.equal(r.code, 0, `--check failed\n${r.output}`);
    const said = statuses(r.report).filter((s) => s.task === "Say what check mode cannot judge yet" && s.status === "ok");
    assert.equal(said.length, 2, `both nodes should say the data path is judged on a real run\n${r.output}`);
    for (const node of lab!.nodes) {
      const state = await lab!.ssh(node, "test -e /etc/multipath.conf && echo multipath.conf; test -e /etc/modules-load.d/longhorn.conf && echo modules-load; dpkg-query -W -f '${Status}' open-iscsi 2>/dev/null | grep -q 'install ok' && echo open-iscsi; findmnt -n /var/lib/longhorn; true");
      assert.equal(state.stdout.trim(), "", `${node.name}: --check changed the node`);
    }
  });

  test("first run: the storage nodes converge, the kernel checks are skipped and the run says so", { timeout: RUN_TIMEOUT_MS + 10_000 }, async () => {
    const r = await site("1");
    assert.equal(r.code, 0, `site.yml failed\n${r.output}`);
    const all = statuses(r.report);
    for (const node of lab!.nodes) {
      const mine = all.filter((s) => s.host === node.name);
      assert.ok(mine.some((s) => s.task === "Install iSCSI, the NFSv4 client and the disk encryption tools" && s.status === "changed"), `${node.name}: packages not installed`);
      for (const name of KERNEL_CHECKS) {
        const s = mine.find((x) => x.task === name);
        assert.equal(s?.status, "skipped", `${node.name}: "${name}" should be skipped in a container (longhorn_preflight_kernel: false)`);
      }
      for (const name of ["Preflight: the NFSv4 client is installed", "Preflight: multipathd is absent or keeps off the SCSI disks", "Preflight: the data path is a writable folder"]) {
        assert.equal(mine.find((x) => x.task === name)?.status, "ok", `${node.name}: "${name}" did not pass`);
      }
      const said = mine.find((x) => x.task === "Preflight: say which kernel checks did not run");
      assert.match(said?.msg ?? "", /container\): longhorn_preflight_kernel is false, so iscsi_tcp\s+was not loaded/, `${node.name}: the run does not say which checks it skipped`);
    }
    process.stderr.write("# longhorn lab: not run in a container (no kernel modules): modprobe iscsi_tcp, starting iscsid, the iscsid/iscsi_tcp/NFSv4-kernel preflight checks\n");
  });

  test("the nodes hold what Longhorn needs", async () => {
    const script = [
      "dpkg-query -W -f '${Package} ${Status}\\n' open-iscsi nfs-common cryptsetup dmsetup",
      "{ systemctl is-enabled iscsid || true; }",
      "cat /etc/modules-load.d/longhorn.conf",
      "cat /etc/multipath.conf",
      "findmnt -n -r -o TARGET,FSTYPE,SOURCE --target /var/lib/longhorn",
      "grep -c ' /var/lib/longhorn ' /etc/fstab",
      "test -x /sbin/mount.nfs4 && echo nfs4-helper",
    ].join(" && ");
    for (const node of lab!.nodes) {
      const r = await lab!.ssh(node, script);
      assert.equal(r.rc, 0, `${node.name}: ${r.stderr}\n${r.stdout}`);
      for (const pkg of ["open-iscsi", "nfs-common", "cryptsetup", "dmsetup"]) assert.match(r.stdout, new RegExp(`^${pkg} install ok installed$`, "m"), `${node.name}: ${pkg}`);
      // A container: iscsid is NOT enabled at boot (it held up a rebooted container's boot).
      assert.match(r.stdout, /^disabled$/m, `${node.name}: iscsid enabled at boot in a container`);
      assert.match(r.stdout, /^iscsi_tcp$/m, `${node.name}: modules-load.d`);
      assert.match(r.stdout, /# BEGIN longhorn role[^\n]*\nblacklist \{\n {4}devnode "\^sd\[a-z0-9\]\+"\n\}\n# END longhorn role/, `${node.name}: multipath blacklist`);
      assert.match(r.stdout, /^\/var\/lib\/longhorn ext4 \/dev\/loop\d+p1$/m, `${node.name}: data path not on the SSD's ext4`);
      assert.match(r.stdout, /^nfs4-helper$/m);
      // Not started here (longhorn_preflight_kernel: false): say what state it is in, for the log.
      const state = await lab!.ssh(node, "systemctl is-active iscsid; ls /sys/module | grep -c iscsi || true");
      process.stderr.write(`# longhorn lab: ${node.name}: iscsid ${state.stdout.trim().replace("\n", ", iscsi kernel modules visible: ")}\n`);
    }
  });

  test("the doctor on the converged nodes: the SSD mounted by UUID; iscsid not running in a container, and said", { timeout: 60_000 }, async () => {
    const r = await runCommand("npx", ["zx", "doctor", "-i", lab!.inventoryFile, "--json"], { cwd: repo, env: { CI: "true" }, timeoutMs: 50_000 });
    const report = JSON.parse(r.stdout) as { ok: boolean; verdicts: Array<{ host: string; check: string; status: string; detail: string }> };
    const of = (host: string, check: string) => report.verdicts.find((v) => v.host === host && v.check === check);
    for (const node of lab!.nodes) {
      assert.equal(of(node.name, "ssd-mount")?.status, "ok", JSON.stringify(of(node.name, "ssd-mount")));
      assert.match(of(node.name, "ssd-mount")!.detail, /^\/dev\/loop\d+p1 \(ext4\) by UUID=[0-9a-f-]{36}$/);
      assert.equal(of(node.name, "hostname-unique")?.status, "ok");
      // The lab cannot run iscsid (no iscsi_tcp in a container): the doctor must not say it runs.
      assert.equal(of(node.name, "iscsid")?.status, "fail");
      assert.match(of(node.name, "iscsid")!.detail, /^iscsid is inactive/);
    }
    assert.equal(r.code, 2, "a failed check gives exit 2");
    process.stderr.write(`# longhorn lab: doctor: ${report.verdicts.map((v) => `${v.host} ${v.check} ${v.status}`).join("; ")}\n`);
  });

  test("second run changes nothing; other content of multipath.conf stays", { timeout: RUN_TIMEOUT_MS + 10_000 }, async () => {
    const st1 = lab!.node("st1");
    // A user's own multipath settings before the block: the role must keep them.
    const add = await lab!.ssh(st1, "printf 'defaults {\\n    user_friendly_names yes\\n}\\n' | cat - /etc/multipath.conf > /tmp/mp && cat /tmp/mp > /etc/multipath.conf");
    assert.equal(add.rc, 0, add.stderr);
    const r = await site("2");
    assert.equal(r.code, 0, `second run failed\n${r.output}`);
    const changed = statuses(r.report).filter((s) => s.status === "changed").map((s) => `${s.host}: ${s.task}`);
    assert.deepEqual(changed, [], "the second run changed tasks");
    const mp = await lab!.ssh(st1, "cat /etc/multipath.conf");
    assert.match(mp.stdout, /^defaults \{\n {4}user_friendly_names yes\n\}\n# BEGIN longhorn role/, "the user's multipath settings were not kept");
  });

  test("the server part writes the HelmChart where k3s reads it, valid, and a re-run changes nothing", { timeout: 2 * RUN_TIMEOUT_MS }, async () => {
    // st1 plays the first server (no k3s here: longhorn_cluster_steps is false in the lab).
    const inventory = parse(readFileSync(lab!.inventoryFile, "utf8")) as { all: { children: Record<string, unknown> } };
    inventory.all.children.servers = { hosts: { st1: null } };
    const file = join(dir, "with-server.yml");
    writeFileSync(file, stringify(inventory));
    const runs: Run[] = [];
    for (const pass of ["server-1", "server-2"]) runs.push(await site(pass, ["--limit", "st1"], file));
    for (const r of runs) assert.equal(r.code, 0, r.output);
    const first = statuses(runs[0].report).filter((s) => s.host === "st1");
    assert.equal(first.find((s) => s.task === "Write the Longhorn HelmChart where k3s applies it")?.status, "changed", runs[0].output);
    assert.match(first.find((s) => s.task === "Say what was not done without a Kubernetes API")?.msg ?? "", /were not\s+labelled node\.longhorn\.io\/create-default-disk=true/);
    assert.deepEqual(statuses(runs[1].report).filter((s) => s.status === "changed").map((s) => s.task), [], "the second run changed tasks");
    const r = await lab!.ssh("st1", "stat -c '%a %U' /var/lib/rancher/k3s/server/manifests/longhorn.yaml && cat /var/lib/rancher/k3s/server/manifests/longhorn.yaml");
    assert.equal(r.rc, 0, r.stderr);
    const [mode, ...text] = r.stdout.split("\n");
    assert.equal(mode, "600 root");
    const manifest = parse(text.join("\n"));
    assert.ok(validHelmChart(manifest), JSON.stringify(validateHelmChart.errors));
    const values = parse(manifest.spec.valuesContent);
    assert.equal(values.defaultSettings.defaultDataPath, "/var/lib/longhorn");
    assert.equal(values.persistence.defaultClassReplicaCount, 2, "two storage nodes: two replicas");
    assert.equal(manifest.spec.failurePolicy, "abort");
  });

  test("a data path that is not on the SSD is refused with the reason", { timeout: RUN_TIMEOUT_MS + 10_000 }, async () => {
    const json = join(dir, "refused.json");
    const args = ["zx", "run", "playbooks/site.yml", "-i", lab!.inventoryFile, "--tags", "longhorn", "--limit", "st2", "-e", "longhorn_data_path=/srv/longhorn", "--json", json];
    const { code, output } = await runCommand("npx", args, { cwd: repo, env: { CI: "true" }, timeoutMs: RUN_TIMEOUT_MS });
    const r: Run = { code, output, report: readJsonReport(json) };
    assert.equal(r.code, 2, `expected the host to fail\n${r.output}`);
    const failed = statuses(r.report).find((s) => s.status === "failed");
    assert.equal(failed?.task, "Refuse a data path that is not on a mounted ext4 or XFS filesystem", r.output);
    assert.match(failed?.msg ?? "", /longhorn_data_path "\/srv\/longhorn" on st2\s+is on \/ \(/, failed?.msg);
    const exists = await lab!.ssh("st2", "test -e /srv/longhorn && echo exists || echo absent");
    assert.equal(exists.stdout.trim(), "absent", "the refused data path was created anyway");
  });
});
