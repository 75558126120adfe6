/**
 * site.yml's k3s roles refuse to put an older k3s over a newer one. The node is this machine
 * behind the loopback sshd of test/support/sshd.ts; its k3s is the lab's k3s STAND-IN
 * (`k3s --version` as k3s prints it) in a temp k3s_bin_dir. The runner is `node
 * scripts/play.ts`, a real process, on the k3s-server role's own preflight.yml, which
 * site.yml's k3s-server and k3s-agent plays run before the install (read-only: it writes
 * nothing, whatever it decides).
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { useSshd, sshdAvailable, type Sshd } from "../support/sshd.ts";
import { which } from "../../scripts/lib/lab/preflight.ts";
import { standinProgram } from "../../scripts/lib/lab/k3s-standin/airgap.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const missing = sshdAvailable() ?? (!which("python3") ? "no python3 (the k3s stand-in)" : undefined);
const sshd: Sshd | undefined = missing ? undefined : await useSshd({ extraConfig: ["SetEnv SHLVL=1"] });
const dir = mkdtempSync(join(tmpdir(), "k3s-downgrade-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const INSTALLED = "v1.31.4+k3s1";
const OLDER = "v1.30.8+k3s1";
const bin = join(dir, "bin");
const installedProgram = () => standinProgram(INSTALLED, "amd64");

before(() => {
  if (missing) return;
  mkdirSync(bin);
  writeFileSync(
    join(dir, "hosts.yml"),
    [
      "all:",
      "  children:",
      "    servers:",
      "      hosts:",
      "        node1:",
      "          ansible_host: 127.0.0.1",
      `          ansible_port: ${sshd!.port}`,
      `          ansible_user: ${sshd!.user}`,
      `          ansible_ssh_private_key_file: ${sshd!.keyFile}`,
      `          ansible_ssh_common_args: -o UserKnownHostsFile=${sshd!.knownHostsFile}`,
      "  vars:",
      `    k3s_bin_dir: ${bin}`,
      `    k3s_data_dir: ${join(dir, "data")}`,
    ].join("\n") + "\n",
  );
  writeFileSync(
    join(dir, "preflight.yml"),
    `- hosts: servers
  gather_facts: true
  tasks:
    - name: The k3s roles' preflight
      ansible.builtin.import_role:
        name: k3s-server
        tasks_from: preflight.yml
`,
  );
});

/** Puts the stand-in of INSTALLED in k3s_bin_dir (or none), as a node that runs k3s. */
function installStandin(present = true): void {
  rmSync(join(bin, "k3s"), { force: true });
  if (!present) return;
  writeFileSync(join(bin, "k3s"), installedProgram());
  chmodSync(join(bin, "k3s"), 0o755);
}

function play(playbook: string, ...args: string[]): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "scripts", "play.ts"), join(dir, playbook), "-i", join(dir, "hosts.yml"), ...args], {
    cwd: root,
    env: { ...process.env, CI: "true", NO_COLOR: "1", ANSIBLE_ROLES_PATH: join(root, "roles") },
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe("k3s install path: no silent downgrade", { skip: missing, concurrency: false }, () => {
  test("an older k3s_version is refused in preflight, before anything is fetched or written, naming host, both versions, the override and upgrade.yml", () => {
    installStandin();
    for (const check of [true, false]) {
      const r = play("preflight.yml", "-e", `k3s_version=${OLDER}`, ...(check ? ["--check"] : []));
      assert.equal(r.status, 2, r.output);
      assert.match(r.output, /failed: \[node1\] k3s-server : Refuse to downgrade the installed k3s/, r.output);
      assert.ok(
        r.output.includes(
          `node1 runs k3s ${INSTALLED} (${bin}/k3s), newer than k3s_version ${OLDER}: refusing to downgrade it, as k3s does not support downgrades ` +
            `(the datastore may already be migrated). Set k3s_version to ${INSTALLED} (or newer) in the inventory; upgrades of a running cluster go ` +
            "through playbooks/upgrade.yml. To install the older release anyway, restore the datastore from a backup taken before the upgrade and run " +
            "again with -e k3s_allow_downgrade=true.",
        ),
        r.output,
      );
      assert.doesNotMatch(r.output, /TASK \[k3s-server : Check that the memory cgroup is enabled\]/, "nothing after the refusal ran");
      assert.equal(readFileSync(join(bin, "k3s"), "utf8"), installedProgram(), "the installed k3s is untouched");
    }
  });

  test("the same or a newer version, no k3s yet, or k3s_allow_downgrade: the check lets the install go on", () => {
    // Only this check is judged: preflight's other checks (memory cgroup, clock) are about
    // this machine, not about the versions.
    installStandin();
    for (const extra of [[`k3s_version=${INSTALLED}`], ["k3s_version=v1.31.5-rc1+k3s1"], [`k3s_version=${OLDER}`, "k3s_allow_downgrade=true"]]) {
      const r = play("preflight.yml", ...extra.flatMap((e) => ["-e", e]));
      assert.match(r.output, /ok: \[node1\] k3s-server : Refuse to downgrade the installed k3s/, `${extra.join(" ")}\n${r.output}`);
    }
    installStandin(false);
    const fresh = play("preflight.yml", "-e", `k3s_version=${OLDER}`);
    assert.match(fresh.output, /ok: \[node1\] k3s-server : Refuse to downgrade the installed k3s/, fresh.output);
  });
});
