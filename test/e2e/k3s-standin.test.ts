/**
 * The lab's k3s STAND-IN (scripts/lib/lab/k3s-standin/k3s.py) run on this machine, on
 * loopback only: config files and drop-ins as k3s reads them, unknown keys refused, the token
 * files, a server and an agent joining over TLS, wrong tokens refused, kubectl's views, a
 * restart keeping the nodes. /etc/rancher is redirected into a temp dir
 * (K3S_STANDIN_ETC_RANCHER). The real-PostgreSQL side is in test/lab/k3s-standin.suite.ts.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, lstatSync, readlinkSync } from "node:fs";
import { createHash } from "node:crypto";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { which } from "../../scripts/lib/lab/preflight.ts";
import { standinProgram } from "../../scripts/lib/lab/k3s-standin/airgap.ts";

const K3S = resolve(dirname(fileURLToPath(import.meta.url)), "../../scripts/lib/lab/k3s-standin/k3s.py");
const skip = !which("python3") ? "no python3" : !which("openssl") ? "no openssl" : false;

function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

describe("k3s stand-in on loopback", { skip, concurrency: false }, () => {
  let root: string;
  let port: number;
  const children: ChildProcess[] = [];

  /** A node's folders: its own /etc/rancher and data dir. */
  const node = (name: string) => ({ etc: join(root, name, "etc"), data: join(root, name, "data") });
  const env = (name: string, extra: Record<string, string> = {}) => ({ ...process.env, K3S_STANDIN_ETC_RANCHER: node(name).etc, ...extra });

  function k3s(name: string, args: string[], extra: Record<string, string> = {}) {
    const r = spawnSync("python3", [K3S, ...args], { env: env(name, extra), encoding: "utf8", timeout: 20_000 });
    return { rc: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  function start(name: string, args: string[], extra: Record<string, string> = {}): ChildProcess & { log: () => string } {
    const child = spawn("python3", [K3S, ...args], { env: env(name, extra), stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    child.stderr!.on("data", (d) => (log += d));
    children.push(child);
    return Object.assign(child, { log: () => log });
  }

  async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const stop = (child: ChildProcess) =>
    new Promise<void>((ok) => {
      if (child.exitCode !== null || child.signalCode !== null) return ok();
      child.once("exit", () => ok());
      child.kill("SIGTERM");
    });

  const kubectlNodes = () => {
    const r = k3s("server", ["kubectl", "get", "nodes", "-o", "json"]);
    return r.rc === 0 ? (JSON.parse(r.stdout).items as Array<Record<string, any>>) : undefined;
  };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "k3s-standin-"));
    port = await freePort();
  });

  after(async () => {
    await Promise.all(children.map(stop));
    rmSync(root, { recursive: true, force: true });
  });

  test("config: drop-ins in order, key+ appends, CLI wins; unknown keys refused by the agent, skipped with a warning by the server (as k3s)", () => {
    const etc = node("cfg").etc;
    mkdirSync(join(etc, "k3s/config.yaml.d"), { recursive: true });
    writeFileSync(join(etc, "k3s/config.yaml"), "node-label:\n  - a=1\nnode-name: from-main\n");
    writeFileSync(join(etc, "k3s/config.yaml.d/20-b.yaml"), "node-label+: [b=2]\nnode-name: 'from-20'\n");
    writeFileSync(join(etc, "k3s/config.yaml.d/10-a.yaml"), "node-name: from-10 # comment\n");
    const probe = (extraArgs: string[]) => {
      // `--help` after the config would not parse it: ask python for the merged settings instead
      const code = `import importlib.util,json,sys\nspec=importlib.util.spec_from_file_location('k',${JSON.stringify(K3S)})\nk=importlib.util.module_from_spec(spec);spec.loader.exec_module(k)\ntry:\n  s=k.load_settings('agent',sys.argv[1:],{})\n  print(json.dumps({'name':s['node-name'],'labels':s['node-label']},separators=(',',':')))\nexcept k.Fatal as e:\n  print('FATAL '+str(e))`;
      return spawnSync("python3", ["-c", code, ...extraArgs], { env: env("cfg"), encoding: "utf8" }).stdout.trim();
    };
    assert.equal(probe([]), JSON.stringify({ name: "from-20", labels: ["a=1", "b=2"] }));
    assert.equal(probe(["--node-name", "cli", "--node-label=c=3"]), JSON.stringify({ name: "cli", labels: ["a=1", "b=2", "c=3"] }));
    writeFileSync(join(etc, "k3s/config.yaml.d/30-typo.yaml"), "node-lable: x=1\n");
    assert.equal(probe([]), "FATAL flag provided but not defined: -node-lable");
    rmSync(join(etc, "k3s/config.yaml.d/30-typo.yaml"));
    writeFileSync(join(etc, "k3s/config.yaml.d/40-server-key.yaml"), "cluster-init: true\n");
    assert.equal(probe([]), "FATAL flag provided but not defined: -cluster-init", "a server-only key is unknown to the agent");
    rmSync(join(etc, "k3s/config.yaml.d/40-server-key.yaml"));
    // k3s server only warns about a config key it does not know (and skips it)
    const serverProbe = `import importlib.util,json,sys\nspec=importlib.util.spec_from_file_location('k',${JSON.stringify(K3S)})\nk=importlib.util.module_from_spec(spec);spec.loader.exec_module(k)\ns=k.load_settings('server',[],{})\nprint('has-typo' if 'node-lable' in s else 'skipped')`;
    writeFileSync(join(etc, "k3s/config.yaml.d/30-typo.yaml"), "node-lable: x=1\n");
    const warned = spawnSync("python3", ["-c", serverProbe], { env: env("cfg"), encoding: "utf8" });
    assert.equal(warned.stdout.trim(), "skipped");
    assert.match(warned.stderr, /level=warning msg="Unknown flag --node-lable found in config.yaml, skipping"/);
    rmSync(join(etc, "k3s/config.yaml.d/30-typo.yaml"));
    assert.equal(k3s("cfg", ["server", "--no-such-flag"]).rc, 1, "an unknown flag on the server's command line is fatal");
    const r = k3s("cfg", ["agent", "--no-such-flag"]);
    assert.equal(r.rc, 1);
    assert.match(r.stderr, /level=fatal msg="flag provided but not defined: -no-such-flag" component=k3s-standin/);
  });

  test("server: token files in k3s's format, kubeconfig, its own tainted node, READY after serving", { timeout: 30_000 }, async () => {
    const { etc, data } = node("server");
    mkdirSync(join(etc, "k3s"), { recursive: true });
    writeFileSync(join(etc, "k3s/config.yaml"), `token: s3cret-token\nhttps-listen-port: ${port}\nbind-address: 127.0.0.1\nnode-name: srv\nnode-ip: 127.0.0.1\nnode-taint:\n  - CriticalAddonsOnly=true:NoExecute\nwrite-kubeconfig-mode: "0640"\n`);
    const server = start("server", ["server", "-d", data]);
    await until("server Ready", () => kubectlNodes()?.find((n) => n.metadata.name === "srv"));
    const ca = readFileSync(join(data, "server/tls/server-ca.crt"));
    const hash = createHash("sha256").update(ca).digest("hex");
    assert.equal(readFileSync(join(data, "server/token"), "utf8"), `K10${hash}::server:s3cret-token\n`);
    assert.equal(statSync(join(data, "server/token")).mode & 0o777, 0o600);
    assert.ok(lstatSync(join(data, "server/node-token")).isSymbolicLink() && readlinkSync(join(data, "server/node-token")) === "token");
    assert.ok(statSync(join(data, "server/manifests")).isDirectory());
    const kubeconfig = readFileSync(join(etc, "k3s/k3s.yaml"), "utf8");
    assert.equal(statSync(join(etc, "k3s/k3s.yaml")).mode & 0o777, 0o640);
    assert.match(kubeconfig, /^# written by the k3s STAND-IN/);
    assert.match(kubeconfig, new RegExp(`server: https://127\\.0\\.0\\.1:${port}\\n`));
    const srv = kubectlNodes()!.find((n) => n.metadata.name === "srv")!;
    assert.deepEqual(srv.spec.taints, [{ key: "CriticalAddonsOnly", value: "true", effect: "NoExecute" }]);
    assert.equal(srv.metadata.labels["node-role.kubernetes.io/control-plane"], "true");
    assert.equal(srv.status.conditions[0].status, "True");
    await until("the log says the server is up", () => (server.log().includes("k3s stand-in server is up") ? true : undefined));
    assert.ok(!server.log().includes("s3cret-token"), "the token is in the log");
    assert.equal(k3s("server", ["kubectl", "get", "--raw=/readyz"]).stdout, "ok");
  });

  test("agents: the right token joins with labels; a wrong secret or CA hash keeps being refused", { timeout: 40_000 }, async () => {
    const token = readFileSync(join(node("server").data, "server/token"), "utf8").trim();
    const url = `https://127.0.0.1:${port}`;
    start("agent1", ["agent", "-d", node("agent1").data, "--node-name", "ag1", "--node-label", "tier=worker"], { K3S_URL: url, K3S_TOKEN: token });
    const ag1 = await until("ag1 registered", () => kubectlNodes()?.find((n) => n.metadata.name === "ag1"));
    assert.equal(ag1.metadata.labels.tier, "worker");
    assert.equal(ag1.status.conditions[0].status, "True");
    const wrongSecret = start("bad1", ["agent", "-d", node("bad1").data, "--node-name", "bad1"], { K3S_URL: url, K3S_TOKEN: token.replace(/:[^:]+$/, ":nope") });
    const wrongHash = start("bad2", ["agent", "-d", node("bad2").data, "--node-name", "bad2"], { K3S_URL: url, K3S_TOKEN: `K10${"1".repeat(64)}::server:s3cret-token` });
    await until("both refused twice", () => ((wrongSecret.log().match(/token is not valid/g) ?? []).length >= 2 && (wrongHash.log().match(/CA hash does not match/g) ?? []).length >= 2 ? true : undefined));
    assert.equal(wrongSecret.exitCode, null, "a refused agent keeps retrying, as k3s");
    assert.match(wrongHash.log(), /token CA hash does not match the Cluster CA certificate hash: 1{64} != [0-9a-f]{64}/);
    assert.ok(!kubectlNodes()!.some((n) => ["bad1", "bad2"].includes(n.metadata.name)));
    const http = start("bad3", ["agent", "-d", node("bad3").data], { K3S_URL: `http://127.0.0.1:${port}`, K3S_TOKEN: token });
    await until("http refused", () => (http.exitCode === 1 ? true : undefined));
    assert.match(http.log(), /level=fatal msg="--server must be an https:\/\/ URL/);
  });

  test("kubectl: table, selector, cordon/label/taint, errors as kubectl's", () => {
    const table = k3s("server", ["kubectl", "get", "nodes"]);
    assert.match(table.stdout, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\nag1\s+Ready\s+<none>\s+\S+\s+v1\.31\.4\+k3s1\nsrv\s+Ready\s+control-plane,master\s/);
    assert.equal(k3s("server", ["kubectl", "get", "nodes", "-l", "node-role.kubernetes.io/control-plane=true", "-o", "name"]).stdout, "node/srv\n");
    assert.equal(k3s("server", ["kubectl", "cordon", "ag1"]).stdout, "node/ag1 cordoned\n");
    k3s("server", ["kubectl", "label", "node", "ag1", "zone=a"]);
    k3s("server", ["kubectl", "taint", "node", "ag1", "dedicated=db:NoSchedule"]);
    const ag1 = kubectlNodes()!.find((n) => n.metadata.name === "ag1")!;
    assert.equal(ag1.spec.unschedulable, true);
    assert.equal(ag1.metadata.labels.zone, "a");
    assert.deepEqual(ag1.spec.taints, [{ key: "dedicated", value: "db", effect: "NoSchedule" }]);
    assert.match(k3s("server", ["kubectl", "get", "nodes"]).stdout, /ag1\s+Ready,SchedulingDisabled/);
    k3s("server", ["kubectl", "uncordon", "ag1"]);
    const missing = k3s("server", ["kubectl", "get", "nodes", "ghost"]);
    assert.equal(missing.rc, 1);
    assert.equal(missing.stderr, 'Error from server (NotFound): nodes "ghost" not found\n');
    assert.equal(k3s("server", ["kubectl", "apply", "-f", "x.yaml"]).rc, 1);
  });

  test("kubectl: -- ends the options as in kubectl (roles put it before inventory names)", () => {
    const labelled = k3s("server", ["kubectl", "label", "--overwrite", "node", "--", "ag1", "zone=b"]);
    assert.equal(labelled.rc, 0, labelled.stderr);
    assert.equal(kubectlNodes()!.find((n) => n.metadata.name === "ag1")!.metadata.labels.zone, "b");
    assert.equal(k3s("server", ["kubectl", "get", "nodes", "-o", "name", "--", "ag1"]).stdout, "node/ag1\n");
    // After --, a name that starts with "-" is a name, not a flag.
    const dashed = k3s("server", ["kubectl", "get", "nodes", "--", "-x"]);
    assert.equal(dashed.rc, 1);
    assert.equal(dashed.stderr, 'Error from server (NotFound): nodes "-x" not found\n');
    k3s("server", ["kubectl", "label", "--overwrite", "node", "--", "ag1", "zone=a"]);
  });

  test("a restarted server keeps its nodes and labels; registration labels are not re-applied", { timeout: 30_000 }, async () => {
    const [server] = children;
    const kubeconfigBefore = readFileSync(join(node("server").etc, "k3s/k3s.yaml"), "utf8");
    const servingBefore = readFileSync(join(node("server").data, "server/tls/serving-kube-apiserver.crt"), "utf8");
    await stop(server);
    const again = start("server", ["server", "-d", node("server").data, "--node-label", "late=1"]);
    await until("server back", () => (again.log().includes("server is up") ? true : undefined));
    const nodes = await until("nodes listed", () => kubectlNodes());
    assert.deepEqual(nodes.map((n) => n.metadata.name).sort(), ["ag1", "srv"]);
    assert.equal(nodes.find((n) => n.metadata.name === "srv")!.metadata.labels.late, undefined, "node-label applies only at registration");
    assert.equal(nodes.find((n) => n.metadata.name === "ag1")!.metadata.labels.zone, "a");
    assert.equal(readFileSync(join(node("server").etc, "k3s/k3s.yaml"), "utf8"), kubeconfigBefore, "a restart keeps the kubeconfig (a fetch of it stays unchanged)");
    assert.equal(readFileSync(join(node("server").data, "server/tls/serving-kube-apiserver.crt"), "utf8"), servingBefore, "same SANs: same serving certificate");
    const starts = readFileSync(join(node("server").data, "standin-starts"), "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
    assert.equal(starts.length, 2);
  });

  test("embedded-etcd shape: a second server joins with server: + token and both list every node", { timeout: 30_000 }, async () => {
    const token = readFileSync(join(node("server").data, "server/token"), "utf8").trim();
    const joinerPort = await freePort();
    const { etc, data } = node("server2");
    mkdirSync(join(etc, "k3s"), { recursive: true });
    writeFileSync(join(etc, "k3s/config.yaml"), `server: https://127.0.0.1:${port}\ntoken: ${token}\nhttps-listen-port: ${joinerPort}\nbind-address: 127.0.0.1\nnode-name: srv2\nnode-ip: 127.0.0.1\n`);
    const joiner = start("server2", ["server", "-d", data]);
    await until("joiner up", () => (joiner.log().includes("server is up") ? true : undefined));
    assert.equal(readFileSync(join(data, "server/token"), "utf8").trim(), token, "the joiner has the cluster's CA, hence the same token");
    const viaJoiner = k3s("server2", ["kubectl", "get", "nodes", "-o", "name"]).stdout.trim().split("\n");
    assert.deepEqual(viaJoiner, ["node/ag1", "node/srv", "node/srv2"]);
    assert.deepEqual(kubectlNodes()!.map((n) => n.metadata.name), ["ag1", "srv", "srv2"]);
    const wrong = start("server3", ["server", "-d", node("server3").data, "--https-listen-port", String(await freePort()), "--server", `https://127.0.0.1:${port}`, "--token", token.replace(/:[^:]+$/, ":nope")]);
    await until("wrong joiner ends", () => (wrong.exitCode !== null ? true : undefined));
    assert.equal(wrong.exitCode, 1);
    assert.match(wrong.log(), /level=fatal msg="starting kubernetes: preparing server: failed to get CA certs: .*401 Unauthorized/);
  });

  test("a stopped agent turns NotReady after the grace period; a duplicate hostname is refused", { timeout: 40_000 }, async () => {
    const fast = { K3S_STANDIN_HEARTBEAT_SECONDS: "0.5", K3S_STANDIN_NODE_GRACE_SECONDS: "3" };
    const fastPort = await freePort();
    const { etc, data } = node("fast");
    mkdirSync(join(etc, "k3s"), { recursive: true });
    writeFileSync(join(etc, "k3s/config.yaml"), `token: fast\nhttps-listen-port: ${fastPort}\nbind-address: 127.0.0.1\nnode-name: fastsrv\nnode-ip: 127.0.0.1\n`);
    const fastServer = start("fast", ["server", "-d", data], fast);
    await until("fast server up", () => (fastServer.log().includes("server is up") ? true : undefined));
    const token = readFileSync(join(data, "server/token"), "utf8").trim();
    const url = `https://127.0.0.1:${fastPort}`;
    const nodesOf = () => {
      const r = k3s("fast", ["kubectl", "get", "nodes", "-o", "json"]);
      return r.rc === 0 ? (JSON.parse(r.stdout).items as Array<Record<string, any>>) : undefined;
    };
    const worker = start("w1", ["agent", "-d", node("w1").data, "--node-name", "w1"], { ...fast, K3S_URL: url, K3S_TOKEN: token });
    await until("w1 Ready", () => nodesOf()?.find((n) => n.metadata.name === "w1" && n.status.conditions[0].status === "True"));
    // another machine (its own /etc/rancher/node/password) claiming the same name
    const twin = start("w1-twin", ["agent", "-d", node("w1-twin").data, "--node-name", "w1"], { ...fast, K3S_URL: url, K3S_TOKEN: token });
    await until("twin refused", () => (twin.log().includes("Node password rejected, duplicate hostname") ? true : undefined));
    await stop(twin);
    await stop(worker);
    const gone = await until("w1 NotReady", () => nodesOf()?.find((n) => n.metadata.name === "w1" && n.status.conditions[0].status !== "True"));
    assert.equal(gone.status.conditions[0].status, "Unknown");
    assert.equal(gone.status.conditions[0].message, "Kubelet stopped posting node status.");
    assert.match(k3s("fast", ["kubectl", "get", "nodes", "w1"]).stdout, /w1\s+NotReady\s/);
    assert.equal(nodesOf()!.find((n) => n.metadata.name === "fastsrv")!.status.conditions[0].status, "True", "the server keeps beating");
  });

  // upgrade.yml's lab test reads the order of its steps from standin-events (issue 12).
  test("an agent of another release reports its own version; the server logs cordon, drain, version change, uncordon in order", { timeout: 30_000 }, async () => {
    const token = readFileSync(join(node("server").data, "server/token"), "utf8").trim();
    const url = `https://127.0.0.1:${port}`;
    const arch = process.arch === "arm64" ? "arm64" : "amd64";
    const older = join(root, "k3s-v1.30.8.py");
    const newer = join(root, "k3s-v1.31.9.py");
    writeFileSync(older, standinProgram("v1.30.8+k3s1", arch));
    writeFileSync(newer, standinProgram("v1.31.9+k3s2", arch));
    const run = (program: string) => {
      const child = spawn("python3", [program, "agent", "-d", node("upg").data, "--node-name", "upg"], { env: env("upg", { K3S_URL: url, K3S_TOKEN: token }), stdio: ["ignore", "ignore", "pipe"] });
      children.push(child);
      return child;
    };
    const versionOf = () => kubectlNodes()?.find((n) => n.metadata.name === "upg")?.status.nodeInfo.kubeletVersion as string | undefined;
    const first = run(older);
    await until("upg registered at v1.30.8", () => (versionOf() === "v1.30.8+k3s1" ? true : undefined));
    assert.equal(kubectlNodes()!.find((n) => n.metadata.name === "srv")!.status.nodeInfo.kubeletVersion, "v1.31.4+k3s1", "the server keeps its own version");
    assert.equal(k3s("server", ["kubectl", "drain", "upg", "--ignore-daemonsets"]).rc, 0);
    await stop(first);
    run(newer);
    await until("upg back at v1.31.9", () => (versionOf() === "v1.31.9+k3s2" ? true : undefined));
    assert.equal(k3s("server", ["kubectl", "uncordon", "upg"]).rc, 0);
    assert.equal(k3s("server", ["kubectl", "uncordon", "upg"]).rc, 0, "a second uncordon changes nothing and logs nothing");
    const events = readFileSync(join(node("server").data, "standin-events"), "utf8").split("\n").filter((l) => / upg /.test(l)).map((l) => l.split(" ").slice(2).join(" "));
    assert.deepEqual(events, ["version v1.30.8+k3s1", "cordoned", "drained", "version v1.30.8+k3s1 -> v1.31.9+k3s2", "uncordoned"]);
  });

  test("drain: a pod whose eviction is refused (test knob) keeps the drain retrying until --timeout, with kubectl's messages", { timeout: 30_000 }, () => {
    assert.equal(k3s("server", ["kubectl", "annotate", "node", "--", "upg", "standin.k3s.io/drain-blocker=shop/web-0"]).stdout, "node/upg annotated\n");
    const started = Date.now();
    const r = k3s("server", ["kubectl", "drain", "--ignore-daemonsets", "--timeout=2s", "--", "upg"]);
    assert.ok(Date.now() - started >= 1900, "the drain waited for its timeout");
    assert.equal(r.rc, 1);
    assert.match(r.stderr, /^error when evicting pods\/"web-0" -n "shop" \(will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\.$/m);
    assert.match(r.stderr, /^error: error when evicting pods\/"web-0" -n "shop": global timeout reached: 2s\n$/m);
    assert.equal(kubectlNodes()!.find((n) => n.metadata.name === "upg")!.spec.unschedulable, true, "drain cordons first");
    assert.equal(k3s("server", ["kubectl", "annotate", "node", "upg", "standin.k3s.io/drain-blocker-"]).rc, 0);
    assert.equal(k3s("server", ["kubectl", "drain", "--timeout=2s", "upg"]).rc, 0);
    k3s("server", ["kubectl", "uncordon", "upg"]);
  });
});
