/**
 * The lab's k3s STAND-IN on a REAL PostgreSQL (issue 10), in its own lab of three fresh amd64
 * nodes (prefix pik3a, 10.213.5.0/24, always taken down): `pgsql` (group datastore), `server`, `agent`.
 *
 *   1. roles/postgresql: --check on the fresh node fails nothing and changes nothing; the role
 *      converges on `pgsql`; the second run reports changed=0 and restarts nothing;
 *   2. the stand-in (from the air-gap folder `npm run lab -- k3s-airgap` writes, started by a
 *      minimal Type=notify unit, as the k3s roles will) runs `k3s server` with
 *      datastore-endpoint postgres://…: token files, kubeconfig, tainted node, state in the
 *      `kine` table, the password in no argv and no log;
 *   3. an agent joins with the server's token and is Ready with its label;
 *   4. a wrong secret and a wrong CA hash are refused (the agent keeps retrying, never joins);
 *   5. the server, restarted with its local data dir WIPED, comes back with the same CA and
 *      the same nodes (the state is in PostgreSQL);
 *   6. a wrong database password, another token on the same database, and a host that is not
 *      a server (pg_hba) are refused with k3s's / PostgreSQL's own messages.
 *
 * Standalone: `node --import tsx --test test/lab/k3s-standin.suite.ts`.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { bootLab, labAvailable, type Lab, type LabNodeRequest } from "../support/lab.ts";
import { namedLabConfig } from "../../scripts/lib/lab/config.ts";
import { sshArgv } from "../../scripts/lib/lab/ssh-command.ts";
import { writeStandinAirgapDir } from "../../scripts/lib/lab/k3s-standin/airgap.ts";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CONFIG = namedLabConfig("test-lab-k3sa", "pik3a", 5);
const SPEC: { nodes: LabNodeRequest[] } = {
  nodes: [
    { name: "pgsql", arch: "amd64" },
    { name: "server", arch: "amd64" },
    { name: "agent", arch: "amd64" },
  ],
};
const PLAY_TIMEOUT_MS = 6 * 60_000;
const STARTS = "grep -vc '^#' /var/lib/rancher/k3s/standin-starts";

const skipReason = await (async () => {
  const reason = await labAvailable(SPEC, CONFIG);
  return reason ? `no lab: ${reason}` : false;
})();

interface Play {
  code: number | null;
  output: string;
  stats: Record<string, { changed: number; failures: number }>;
}

const unit = (description: string, exec: string) =>
  `[Unit]\nDescription=${description} (k3s STAND-IN, lab test)\nAfter=network-online.target\n\n[Service]\nType=notify\n` +
  `ExecStart=${exec}\nKillMode=process\nRestart=always\nRestartSec=2\nTimeoutStartSec=60\n\n[Install]\nWantedBy=multi-user.target\n`;

describe("k3s stand-in on a real PostgreSQL", { skip: skipReason, concurrency: false }, () => {
  let lab: Lab | undefined;
  let dir: string;
  let inventory: string;
  let playbook: string;
  let airgap: string;
  const password = `pw-${randomBytes(9).toString("hex")}`;
  const tokenSecret = `tok-${randomBytes(9).toString("hex")}`;
  let serverToken = "";
  const outputs: string[] = [];

  const ssh = async (node: string, command: string) => {
    const r = await lab!.ssh(node, command);
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const must = async (node: string, command: string) => {
    const r = await ssh(node, command);
    assert.equal(r.rc, 0, `${node}: ${command}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };

  /** Writes a file on a node through ssh's stdin (mode set before any content lands). */
  function push(node: string, path: string, content: string | Buffer, mode: string): Promise<void> {
    const argv = sshArgv({ keyFile: lab!.keyFile, knownHostsFile: lab!.knownHostsFile, address: lab!.node(node).address },
      `set -e; mkdir -p "$(dirname '${path}')"; umask 077; cat > '${path}.tmp'; chmod ${mode} '${path}.tmp'; mv -f '${path}.tmp' '${path}'`);
    return new Promise((ok, fail) => {
      const child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "ignore", "pipe"] });
      let err = "";
      child.stderr.on("data", (d) => (err += d));
      child.on("close", (code) => (code === 0 ? ok() : fail(new Error(`push ${path} to ${node}: ${err}`))));
      child.stdin.end(content);
    });
  }

  function play(pass: number | string, extra: string[] = []): Promise<Play> {
    const json = join(dir, `play-${pass}.json`);
    const started = Date.now();
    return new Promise((done) => {
      const child = spawn(process.execPath, ["--import", "tsx", "scripts/play.ts", "-i", inventory, playbook, "--json", json, ...extra], {
        cwd: repo,
        env: { ...process.env, CI: "true", NO_COLOR: "1" },
      });
      let output = "";
      child.stdout.on("data", (d) => (output += d));
      child.stderr.on("data", (d) => (output += d));
      const timer = setTimeout(() => child.kill("SIGINT"), PLAY_TIMEOUT_MS);
      child.on("close", (code) => {
        clearTimeout(timer);
        outputs.push(output);
        process.stderr.write(`# k3s-standin: postgresql play ${pass} -> exit ${code} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        const report = existsSync(json) ? JSON.parse(readFileSync(json, "utf8")) : { stats: {} };
        outputs.push(existsSync(json) ? readFileSync(json, "utf8") : "");
        done({ code, output, stats: report.stats ?? {} });
      });
    });
  }

  /** The nodes as the server's `k3s kubectl get nodes -o json` lists them. */
  async function nodes(): Promise<Array<{ metadata: { name: string; labels: Record<string, string> }; spec: { taints?: Array<{ key: string; value?: string; effect: string }> }; status: { conditions: Array<{ type: string; status: string }> } }>> {
    return JSON.parse(await must("server", "k3s kubectl get nodes -o json")).items;
  }
  const ready = (n: { status: { conditions: Array<{ type: string; status: string }> } }) => n.status.conditions.some((c) => c.type === "Ready" && c.status === "True");

  async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  before(
    async () => {
      dir = mkdtempSync(join(tmpdir(), "pi-k3s-standin-"));
      lab = await bootLab(SPEC, { config: CONFIG });
      airgap = join(dir, "airgap");
      writeStandinAirgapDir(airgap);
      const host = (name: string) => ({
        ansible_host: lab!.node(name).address,
        ansible_user: "root",
        ansible_ssh_private_key_file: lab!.keyFile,
        ansible_ssh_common_args: `-o UserKnownHostsFile=${lab!.knownHostsFile} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes`,
      });
      inventory = join(dir, "inventory.yml");
      writeFileSync(inventory, stringify({
        all: {
          vars: { postgresql_k3s_password: password },
          children: {
            datastore: { hosts: { pgsql: host("pgsql") } },
            servers: { hosts: { server: host("server") } },
            agents: { hosts: { agent: host("agent") } },
          },
        },
      }));
      playbook = join(dir, "datastore.yml");
      writeFileSync(playbook, stringify([{ name: "k3s datastore", hosts: "datastore", become: true, gather_facts: true, roles: ["postgresql"] }]));
    },
    { timeout: 20 * 60_000 },
  );

  after(async () => {
    if (lab) await lab.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("roles/postgresql converges, and a second run changes nothing", { timeout: 3 * PLAY_TIMEOUT_MS }, async () => {
    const check = await play("check", ["--check"]);
    assert.equal(check.code, 0, `--check on the fresh node failed:\n${check.output.slice(-4000)}`);
    assert.ok(check.stats.pgsql?.changed > 0, "--check reports what would change");
    assert.notEqual((await ssh("pgsql", "dpkg-query -W -f '${Status}' postgresql 2>/dev/null | grep -q 'ok installed'")).rc, 0, "--check installed PostgreSQL");
    const first = await play(1);
    assert.equal(first.code, 0, first.output.slice(-4000));
    assert.ok(first.stats.pgsql?.changed > 0, "the first run changes something");
    const pid1 = (await must("pgsql", "systemctl show -p MainPID --value postgresql@15-main")).trim();
    const second = await play(2);
    assert.equal(second.code, 0, second.output.slice(-4000));
    assert.equal(second.stats.pgsql?.changed, 0, `the second run changed something:\n${second.output.slice(-3000)}`);
    assert.equal((await must("pgsql", "systemctl show -p MainPID --value postgresql@15-main")).trim(), pid1, "the second run restarted PostgreSQL");
    const hba = await must("pgsql", "grep -v '^#' /etc/postgresql/15/main/pg_hba.conf | grep -E '^host +k3s'");
    assert.deepEqual(hba.trim().split("\n").map((l) => l.split(/\s+/).join(" ")), [`host k3s k3s ${lab!.node("server").address}/32 scram-sha-256`]);
    assert.match(await must("pgsql", "ss -Hltn 'sport = :5432'"), new RegExp(lab!.node("pgsql").address.replaceAll(".", "\\.") + ":5432"));
  });

  test("the stand-in server keeps its state in PostgreSQL and says what it is", { timeout: 120_000 }, async () => {
    const endpoint = `postgres://k3s:${password}@${lab!.node("pgsql").address}:5432/k3s`;
    for (const node of ["server", "agent"]) await push(node, "/usr/local/bin/k3s", readFileSync(join(airgap, "k3s")), "0755");
    await push("server", "/etc/rancher/k3s/config.yaml", `token: ${tokenSecret}\ndatastore-endpoint: ${endpoint}\nnode-taint:\n  - CriticalAddonsOnly=true:NoExecute\n`, "0600");
    await push("server", "/etc/systemd/system/k3s.service", unit("k3s server", "/usr/local/bin/k3s server"), "0644");
    // Type=notify: `systemctl start` returns only once the stand-in sent READY=1
    await must("server", "systemctl daemon-reload && systemctl start k3s");
    assert.match(await must("server", "k3s --version"), /^k3s version v1\.31\.4\+k3s1 \(stand-in\)\n/);
    serverToken = (await must("server", "cat /var/lib/rancher/k3s/server/token")).trim();
    const caHash = (await must("server", "sha256sum /var/lib/rancher/k3s/server/tls/server-ca.crt")).split(" ")[0];
    assert.equal(serverToken, `K10${caHash}::server:${tokenSecret}`);
    assert.equal((await must("server", "stat -c %a /var/lib/rancher/k3s/server/token /etc/rancher/k3s/k3s.yaml")).trim(), "600\n600");
    assert.match(await must("server", "cat /etc/rancher/k3s/k3s.yaml"), /STAND-IN[\s\S]*server: https:\/\/127\.0\.0\.1:6443/);
    assert.equal((await must("server", "k3s kubectl get --raw=/readyz")).trim(), "ok");
    assert.equal((await must("agent", `python3 -c "import ssl,urllib.request as u;print(u.urlopen('https://${lab!.node("server").address}:6443/ping',context=ssl._create_unverified_context()).read().decode())"`)).trim(), "pong");
    const [server] = await nodes();
    assert.equal(server.metadata.name, "server");
    assert.equal(server.metadata.labels["node-role.kubernetes.io/control-plane"], "true");
    assert.deepEqual(server.spec.taints, [{ key: "CriticalAddonsOnly", value: "true", effect: "NoExecute" }]);
    assert.ok(ready(server));
    const rows = await must("pgsql", "runuser -u postgres -- psql -X -A -t -d k3s -c \"SELECT name FROM kine WHERE deleted = 0 ORDER BY name\"");
    assert.match(rows, /^\/bootstrap\/[0-9a-f]{12}$/m);
    assert.match(rows, /^\/registry\/minions\/server$/m);
    assert.notEqual((await ssh("server", "test -e /var/lib/rancher/k3s/server/db/state.db")).rc, 0, "no local sqlite with an external datastore");
    const seen = await must("server", "ps -eo args; journalctl -u k3s --no-pager -o cat");
    assert.ok(seen.includes("component=k3s-standin"), "the log names the stand-in");
    assert.ok(!seen.includes(password), "the datastore password is in argv or the log");
    assert.ok(!seen.includes(tokenSecret), "the token is in argv or the log");
  });

  test("an agent joins with the server's token and is Ready with its label", { timeout: 90_000 }, async () => {
    await push("agent", "/etc/rancher/k3s/config.yaml", `server: https://${lab!.node("server").address}:6443\ntoken: ${serverToken}\nnode-label:\n  - tier=worker\n`, "0600");
    await push("agent", "/etc/systemd/system/k3s-agent.service", unit("k3s agent", "/usr/local/bin/k3s agent"), "0644");
    await must("agent", "systemctl daemon-reload && systemctl start k3s-agent");
    const agent = await eventually("agent Ready", async () => (await nodes()).find((n) => n.metadata.name === "agent" && ready(n)));
    assert.equal(agent.metadata.labels.tier, "worker");
    assert.equal(agent.spec.taints, undefined);
  });

  test("a wrong token is refused: wrong secret, wrong CA hash", { timeout: 60_000 }, async () => {
    const url = `https://${lab!.node("server").address}:6443`;
    const hash = serverToken.slice(3, 67);
    const attempt = async (token: string) => {
      await push("agent", "/root/intruder.yaml", `server: ${url}\ntoken: ${token}\nnode-name: intruder\ndata-dir: /root/intruder-data\n`, "0600");
      const r = await ssh("agent", "timeout 6 k3s agent --config /root/intruder.yaml");
      assert.equal(r.rc, 124, `the agent with a wrong token must keep retrying (as k3s), not exit: rc ${r.rc}\n${r.stderr}`);
      return r.stderr;
    };
    assert.match(await attempt(`K10${hash}::server:not-the-secret`), /Failed to validate connection to cluster at .*: token is not valid: .*401 Unauthorized/);
    assert.match(await attempt(`K10${"0".repeat(64)}::server:${tokenSecret}`), /token CA hash does not match the Cluster CA certificate hash: 0{64} != [0-9a-f]{64}/);
    assert.ok(!(await nodes()).some((n) => n.metadata.name === "intruder"), "the intruder registered");
  });

  test("the server restarted with its data dir wiped comes back from PostgreSQL", { timeout: 120_000 }, async () => {
    const caBefore = await must("server", "cat /var/lib/rancher/k3s/server/tls/server-ca.crt");
    await must("server", "systemctl stop k3s && rm -rf /var/lib/rancher/k3s && systemctl start k3s");
    assert.equal((await must("server", STARTS)).trim(), "1", "a fresh data dir counts one start");
    assert.equal(await must("server", "cat /var/lib/rancher/k3s/server/tls/server-ca.crt"), caBefore, "the CA came back from the datastore");
    assert.equal((await must("server", "cat /var/lib/rancher/k3s/server/token")).trim(), serverToken);
    const names = (await nodes()).map((n) => n.metadata.name).sort();
    assert.deepEqual(names, ["agent", "server"]);
    await eventually("agent Ready after the restart", async () => (await nodes()).find((n) => n.metadata.name === "agent" && ready(n)));
    assert.equal((await must("agent", STARTS)).trim(), "1", "the agent was not restarted");
  });

  test("a wrong database password, another token, and a host outside pg_hba are refused", { timeout: 90_000 }, async () => {
    const ds = lab!.node("pgsql").address;
    const tryServer = async (node: string, config: string) => {
      await push(node, "/root/other.yaml", `${config}https-listen-port: 16443\ndata-dir: /root/other-data\ndisable-agent: true\n`, "0600");
      return ssh(node, "timeout 30 k3s server --config /root/other.yaml");
    };
    const wrongPw = await tryServer("server", `token: ${tokenSecret}\ndatastore-endpoint: postgres://k3s:wrong-${password}@${ds}:5432/k3s\n`);
    assert.equal(wrongPw.rc, 1, wrongPw.stderr);
    assert.match(wrongPw.stderr, /level=fatal msg="starting kubernetes: preparing server: creating storage endpoint: building kine: pq: password authentication failed for user \\"k3s\\""/);
    assert.ok(!wrongPw.stderr.includes(password), "the password is in the error");
    const otherToken = await tryServer("server", `token: another-token\ndatastore-endpoint: postgres://k3s:${password}@${ds}:5432/k3s\n`);
    assert.equal(otherToken.rc, 1, otherToken.stderr);
    assert.match(otherToken.stderr, /bootstrap data already found and encrypted with different token/);
    const notAServer = await tryServer("agent", `token: ${tokenSecret}\ndatastore-endpoint: postgres://k3s:${password}@${ds}:5432/k3s\n`);
    assert.equal(notAServer.rc, 1, notAServer.stderr);
    assert.match(notAServer.stderr, new RegExp(`no pg_hba\\.conf entry for host \\\\"${lab!.node("agent").address.replaceAll(".", "\\.")}\\\\"`));
    // the running server was not disturbed
    assert.equal((await must("server", STARTS)).trim(), "1");
  });

  test("the password appears in no play output", () => {
    const plays = outputs.filter((o) => o.includes("PLAY") || o.includes('"plays"'));
    assert.ok(plays.length >= 2, "the play outputs were recorded");
    for (const o of plays) assert.ok(!o.includes(password), "the PostgreSQL password is in the play output or --json report");
  });
});
