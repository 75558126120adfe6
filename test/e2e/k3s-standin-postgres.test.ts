/**
 * The k3s stand-in's PostgreSQL client against a throwaway PostgreSQL cluster on loopback
 * (initdb in a temp dir, scram-sha-256, a free port), when this machine has PostgreSQL's server
 * binaries (Debian's postgresql package) and runs as root; skipped otherwise. The lab suite
 * (test/lab/k3s-standin.suite.ts) proves the same against roles/postgresql on a node; this one
 * adds what is awkward there: a missing database created by the stand-in, and a PostgreSQL
 * restart under a running server.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { which } from "../../scripts/lib/lab/preflight.ts";

const K3S = resolve(dirname(fileURLToPath(import.meta.url)), "../../scripts/lib/lab/k3s-standin/k3s.py");
const pgBin = (() => {
  try {
    const versions = readdirSync("/usr/lib/postgresql").sort();
    const bin = join("/usr/lib/postgresql", versions[versions.length - 1] ?? "", "bin");
    return existsSync(join(bin, "initdb")) ? bin : undefined;
  } catch {
    return undefined;
  }
})();
const postgresUid = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim();
const skip =
  !which("python3") || !which("openssl") ? "no python3/openssl" :
  !pgBin ? "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb)" :
  process.getuid?.() !== 0 || !postgresUid ? "needs root and a postgres user" : false;

function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

describe("k3s stand-in on a throwaway PostgreSQL", { skip, concurrency: false }, () => {
  let root: string;
  let pgPort: number;
  let apiPort: number;
  let server: (ChildProcess & { log: () => string }) | undefined;
  const PASSWORD = "loopback-pw-1";

  const pgCtl = (action: string) =>
    spawnSync("runuser", ["-u", "postgres", "--", join(pgBin!, "pg_ctl"), "-D", join(root, "pg/data"), "-w", "-m", "fast", "-l", join(root, "pg/log"),
      "-o", `-c listen_addresses=127.0.0.1 -c port=${pgPort} -c unix_socket_directories=${join(root, "pg")}`, action], { encoding: "utf8" });

  const env = () => ({ ...process.env, K3S_STANDIN_ETC_RANCHER: join(root, "etc") });
  const config = (text: string) => {
    mkdirSync(join(root, "etc/k3s"), { recursive: true });
    writeFileSync(join(root, "etc/k3s/config.yaml"), `https-listen-port: ${apiPort}\nbind-address: 127.0.0.1\nnode-name: pgsrv\nnode-ip: 127.0.0.1\n${text}`, { mode: 0o600 });
  };
  const endpoint = (password: string, db = "k3s") => `postgres://postgres:${password}@127.0.0.1:${pgPort}/${db}`;
  const kubectl = (...args: string[]) => spawnSync("python3", [K3S, "kubectl", ...args], { env: env(), encoding: "utf8" });

  async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  function startServer(): ChildProcess & { log: () => string } {
    const child = spawn("python3", [K3S, "server", "-d", join(root, "data")], { env: env(), stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    child.stderr!.on("data", (d) => (log += d));
    return Object.assign(child, { log: () => log });
  }

  const stopServer = () =>
    new Promise<void>((ok) => {
      if (!server || server.exitCode !== null || server.signalCode !== null) return ok();
      server.once("exit", () => ok());
      server.kill("SIGTERM");
    });

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "k3s-standin-pg-"));
    pgPort = await freePort();
    apiPort = await freePort();
    mkdirSync(join(root, "pg"));
    writeFileSync(join(root, "pg/pw"), `${PASSWORD}\n`);
    for (const p of [root, join(root, "pg"), join(root, "pg/pw")]) chownSync(p, Number(postgresUid), 0);
    const init = spawnSync("runuser", ["-u", "postgres", "--", join(pgBin!, "initdb"), "-D", join(root, "pg/data"), "-U", "postgres", "--auth=scram-sha-256", `--pwfile=${join(root, "pg/pw")}`], { encoding: "utf8" });
    assert.equal(init.status, 0, init.stderr);
    const started = pgCtl("start");
    assert.equal(started.status, 0, started.stderr + started.stdout);
  });

  after(async () => {
    await stopServer();
    if (root) {
      pgCtl("stop");
      rmSync(root, { recursive: true, force: true });
    }
  });

  test("a wrong password fails as k3s does, without the password", () => {
    config(`token: pgtoken\ndatastore-endpoint: ${endpoint("wrong-pw")}\n`);
    const r = spawnSync("python3", [K3S, "server", "-d", join(root, "data")], { env: env(), encoding: "utf8", timeout: 20_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /level=fatal msg="starting kubernetes: preparing server: creating storage endpoint: building kine: pq: password authentication failed for user \\"postgres\\""/);
    assert.ok(!r.stderr.includes("wrong-pw"));
  });

  test("a missing database is created, the state kept in kine, and a PostgreSQL restart survived", { timeout: 60_000 }, async () => {
    config(`token: pgtoken\ndatastore-endpoint: ${endpoint(PASSWORD)}\n`);
    server = startServer();
    await until("server up", () => (server!.log().includes("server is up") ? true : undefined));
    assert.match(server.log(), /Database \\"k3s\\" created/);
    assert.ok(!server.log().includes(PASSWORD), "the password is in the log");
    const restarted = pgCtl("restart");
    assert.equal(restarted.status, 0, restarted.stderr);
    const labeled = await until("a write after the restart", () => {
      const r = kubectl("label", "node", "pgsrv", "after=restart");
      return r.status === 0 ? r.stdout : undefined;
    });
    assert.equal(labeled, "node/pgsrv labeled\n");
    await until("the reconnect logged", () => (/datastore connection lost .*reconnecting/.test(server!.log()) ? true : undefined));
    await stopServer();
  });

  test("another token on the same database is refused; the right one finds the nodes again", { timeout: 60_000 }, async () => {
    config(`token: other-token\ndatastore-endpoint: ${endpoint(PASSWORD)}\n`);
    const r = spawnSync("python3", [K3S, "server", "-d", join(root, "data-other")], { env: env(), encoding: "utf8", timeout: 20_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /bootstrap data already found and encrypted with different token/);
    rmSync(join(root, "data"), { recursive: true, force: true });
    config(`token: pgtoken\ndatastore-endpoint: ${endpoint(PASSWORD)}\n`);
    server = startServer();
    await until("server up again", () => (server!.log().includes("server is up") ? true : undefined));
    const node = JSON.parse(kubectl("get", "nodes", "pgsrv", "-o", "json").stdout);
    assert.equal(node.metadata.labels.after, "restart", "the label written before came back from PostgreSQL");
  });
});
