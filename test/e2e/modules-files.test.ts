/**
 * The file and command modules for real, against a real POSIX target (the loopback sshd of
 * test/support/sshd.ts when available, else this machine's sh), inside one temp dir under
 * /tmp. Every scenario: check mode first (changed, and the tree untouched), then apply
 * (changed), then apply again (ok: idempotent).
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { getModule } from "../../scripts/lib/modules/registry.ts";
import { validateModuleArgs } from "../../scripts/lib/playbook/validate-args.ts";
import type { Plan } from "../../scripts/lib/modules/types.ts";
import { Secret } from "../../scripts/lib/shell/secret.ts";
import { quote } from "../../scripts/lib/shell/quote.ts";
import { writeFileCommand } from "../../scripts/lib/modules/remote-file.ts";
import type { Transport } from "../../scripts/lib/transport/types.ts";
import { TransportContext } from "../support/transport-context.ts";
import { openTarget } from "../support/module-target.ts";

let transport: Transport;
let closeTarget: () => Promise<void>;
let targetKind = "";
/** Remote temp dir (on the target; the same machine here, under /tmp). */
let dir = "";
/** Controller-side dir: files/, templates/, fetched files. */
let controller = "";
let http: Server;
let httpPort = 0;

function ctx(check = false, vars: Record<string, unknown> = {}): TransportContext {
  return new TransportContext(transport, { check, diff: true, baseDir: controller, vars });
}

async function run(name: string, rawArgs: Record<string, unknown>, check = false, vars: Record<string, unknown> = {}) {
  const module = getModule(name)!;
  assert.ok(module, `module ${name}`);
  const args = validateModuleArgs(module, rawArgs, { file: `e2e:${name}` }, { templated: false });
  const c = ctx(check, vars);
  const plan: Plan = await module.plan(args, c);
  let result = { ...(plan.result ?? {}) };
  if (plan.changed && !check && !plan.skipped && module.apply) {
    const applied = await module.apply(plan, args, c);
    result = { ...result, ...(applied?.result ?? {}) };
  }
  return { plan, result, commands: c.commandCount };
}

/** A listing of the temp dir with modes, owners, link targets and content hashes. */
async function snapshot(): Promise<string> {
  const r = await transport.exec(`cd '${dir}' && find . -printf '%p %y %m %u %g %s %l\\n' | sort && find . -type f -exec sha1sum {} + | sort`);
  assert.equal(r.rc, 0, r.stderr);
  return r.stdout;
}

/** Check mode (changed, nothing written), apply (changed), apply again (ok). */
async function converges(name: string, args: Record<string, unknown>, vars: Record<string, unknown> = {}) {
  const beforeCheck = await snapshot();
  const checked = await run(name, args, true, vars);
  assert.equal(checked.plan.changed, true, `${name}: check mode should report a change (${checked.plan.reason})`);
  assert.equal(await snapshot(), beforeCheck, `${name}: check mode must not touch anything`);
  const first = await run(name, args, false, vars);
  assert.equal(first.plan.changed, true, `${name}: first apply should change`);
  const second = await run(name, args, false, vars);
  assert.equal(second.plan.changed, false, `${name}: second apply should be ok, got "${second.plan.msg}"`);
  assert.ok(second.plan.reason, `${name}: a no-op needs a reason`);
  // A no-op is one round trip (unarchive of a remote archive needs two: detect, compare).
  const expected = name === "unarchive" && args.remote_src ? 2 : 1;
  assert.equal(second.commands, expected, `${name}: a no-op should take ${expected} round trip(s)`);
  return { first, second };
}

async function remote(command: string): Promise<string> {
  const r = await transport.exec(command);
  assert.equal(r.rc, 0, `${command}: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  const target = await openTarget();
  transport = target.transport;
  closeTarget = target.close;
  targetKind = target.kind;
  dir = (await transport.exec("mktemp -d /tmp/modules-e2e.XXXXXX")).stdout.trim();
  assert.match(dir, /^\/tmp\/modules-e2e\./);
  controller = mkdtempSync(join(tmpdir(), "modules-ctl-"));
  mkdirSync(join(controller, "files", "tree", "sub"), { recursive: true });
  mkdirSync(join(controller, "templates"), { recursive: true });
  writeFileSync(join(controller, "files", "app.conf"), "key=value\n");
  writeFileSync(join(controller, "files", "tree", "a.txt"), "a\n");
  writeFileSync(join(controller, "files", "tree", "sub", "b.txt"), "b\n");
  writeFileSync(join(controller, "templates", "hosts.j2"), "{% for h in cluster %}{{ h.ip }} {{ h.name }}\n{% endfor %}");
  // An archive made on the controller for unarchive.
  mkdirSync(join(controller, "archive-src", "pkg", "bin"), { recursive: true });
  writeFileSync(join(controller, "archive-src", "pkg", "bin", "tool"), "#!/bin/sh\necho tool\n");
  writeFileSync(join(controller, "archive-src", "pkg", "README"), "readme\n");
  spawnSync("tar", ["-czf", join(controller, "files", "pkg.tar.gz"), "-C", join(controller, "archive-src"), "pkg"]);
  spawnSync("zip", ["-qr", join(controller, "files", "pkg.zip"), "pkg"], { cwd: join(controller, "archive-src") });
  // A loopback HTTP server for get_url.
  const payload = Buffer.from("downloaded payload\n");
  const sum = createHash("sha256").update(payload).digest("hex");
  http = createServer((req, res) => {
    if (req.url === "/payload.bin") res.end(payload);
    else if (req.url === "/SHA256SUMS") res.end(`${"0".repeat(64)}  other.bin\n${sum}  payload.bin\n`);
    else {
      res.statusCode = 404;
      res.end("not found");
    }
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  httpPort = (http.address() as { port: number }).port;
});

after(async () => {
  if (dir.startsWith("/tmp/modules-e2e.")) await transport.exec(`rm -rf '${dir}'`);
  if (controller) rmSync(controller, { recursive: true, force: true });
  http?.close();
  await closeTarget?.();
});

describe("file modules over a real target", () => {
  test("target", () => {
    assert.ok(targetKind, "a target was opened");
    console.log(`# modules-files e2e target: ${targetKind}`);
  });

  test("copy content, then mode only", async () => {
    const dest = `${dir}/copy.txt`;
    await converges("copy", { content: "hello\n", dest, mode: "0640" });
    assert.equal(await remote(`cat ${dest}; stat -c %a ${dest}`), "hello\n640\n");
    const r = await converges("copy", { content: "hello\n", dest, mode: "u=rw,go=" });
    assert.equal(r.first.plan.msg, "mode changed 0640 -> 0600");
    assert.equal(r.first.commands, 2, "probe + chmod, no transfer");
  });

  test("copy src from files/, into a directory dest, and a tree", async () => {
    await remote(`mkdir -p ${dir}/etc`);
    await converges("copy", { src: "app.conf", dest: `${dir}/etc/` });
    assert.equal(await remote(`cat ${dir}/etc/app.conf`), "key=value\n");
    await converges("copy", { src: "tree", dest: `${dir}/etc` });
    assert.equal(await remote(`cat ${dir}/etc/tree/sub/b.txt`), "b\n");
  });

  test("copy with follow writes through a symlink", async () => {
    await remote(`printf 'old\\n' > ${dir}/target.conf && ln -s target.conf ${dir}/via-link.conf`);
    await converges("copy", { content: "new\n", dest: `${dir}/via-link.conf`, follow: true });
    assert.equal(await remote(`readlink ${dir}/via-link.conf; cat ${dir}/target.conf`), "target.conf\nnew\n");
  });

  test("owner and group changes count (uid/gid 65534), secrets are created 0600", async () => {
    const dest = `${dir}/owned.txt`;
    await run("copy", { content: "x\n", dest });
    const r = await converges("file", { path: dest, owner: 65534, group: 65534 });
    assert.match(String(r.first.plan.msg), /^owner changed \S+ -> 65534, group changed \S+ -> 65534$/);
    assert.equal(await remote(`stat -c %u:%g ${dest}`), "65534:65534\n");
    const secretDest = `${dir}/token`;
    const token = new Secret("K10-e2e-secret-token");
    const s = await converges("copy", { content: token, dest: secretDest });
    assert.equal(await remote(`stat -c %a ${secretDest}`), "600\n");
    assert.ok(!JSON.stringify(s.first.plan.diff).includes("K10-e2e-secret-token"), "secret not in the diff");
  });

  test("copy validate failure leaves the file and no temp behind", async () => {
    const dest = `${dir}/validated.txt`;
    await run("copy", { content: "good\n", dest });
    await assert.rejects(run("copy", { content: "bad\n", dest, validate: "grep -q good %s" }), /failed to validate/);
    assert.equal(await remote(`cat ${dest}; ls -A ${dir} | grep -c '^\\.validated' || true`), "good\n0\n");
  });

  test("a temp that a power cut left (the write script killed -9 mid-transfer) goes with the next write; nothing else does", async () => {
    const dest = `${dir}/power-cut/app.conf`;
    await remote(`mkdir -p ${dir}/power-cut`);
    await run("copy", { content: "ORIGINAL\n", dest });
    await remote(`cd ${dir}/power-cut && printf 'user\n' > .app.conf.swp && printf 'other\n' > .other.conf.pi-cluster-runner.Ab12Cd`);
    // On the target: the write script reads a fifo; once its temp fills, kill -9 (no trap runs,
    // as when the power goes), then close the fifo so that its cat ends too.
    const killed = await remote(
      [
        `cd ${dir}/power-cut && mkfifo in`,
        `sh -c ${quote(writeFileCommand(dest))} < in 2>/dev/null & w=$!`,
        "exec 3>in; printf '1048576 %040d\\npartial' 0 >&3",
        "i=0; until ls -A | grep -q '^\\.app\\.conf\\.pi-cluster-runner\\.' || [ $i -gt 200 ]; do sleep 0.05; i=$((i+1)); done",
        'kill -9 "$w"; exec 3>&-; wait "$w"; rm in; ls -A; cat app.conf',
      ].join("\n"),
    );
    assert.match(killed, /^\.app\.conf\.pi-cluster-runner\.[A-Za-z0-9]{6}$/m, `the killed write left its temp, named as ours:\n${killed}`);
    assert.match(killed, /ORIGINAL\n$/, "the original is intact");
    await run("copy", { content: "NEW\n", dest });
    assert.equal(await remote(`cd ${dir}/power-cut && ls -A && cat app.conf .app.conf.swp`), ".app.conf.swp\n.other.conf.pi-cluster-runner.Ab12Cd\napp.conf\nNEW\nuser\n");
  });

  test("template", async () => {
    const vars = { cluster: [{ ip: "10.0.0.1", name: "master" }, { ip: "10.0.0.2", name: "node1" }] };
    await converges("template", { src: "hosts.j2", dest: `${dir}/hosts`, mode: "0644" }, vars);
    assert.equal(await remote(`cat ${dir}/hosts`), "10.0.0.1 master\n10.0.0.2 node1\n");
  });

  test("lineinfile create, regexp replace, insertafter, absent", async () => {
    const path = `${dir}/sshd_config`;
    await converges("lineinfile", { path, line: "Port 22", create: true });
    await converges("lineinfile", { path, regexp: "^#?PermitRootLogin", line: "PermitRootLogin no" });
    await converges("lineinfile", { path, insertafter: "^Port", line: "AddressFamily inet" });
    assert.equal(await remote(`cat ${path}`), "Port 22\nAddressFamily inet\nPermitRootLogin no\n");
    await converges("lineinfile", { path, regexp: "^AddressFamily", state: "absent" });
    assert.equal(await remote(`cat ${path}`), "Port 22\nPermitRootLogin no\n");
  });

  test("lineinfile through a symlink edits the real file", async () => {
    await remote(`printf 'a\\n' > ${dir}/real.conf && ln -s real.conf ${dir}/link.conf`);
    await converges("lineinfile", { path: `${dir}/link.conf`, line: "b" });
    assert.equal(await remote(`cat ${dir}/real.conf; readlink ${dir}/link.conf`), "a\nb\nreal.conf\n");
  });

  test("blockinfile and replace", async () => {
    const path = `${dir}/dnsmasq.conf`;
    await remote(`printf 'port=0\\n' > ${path}`);
    await converges("blockinfile", { path, block: "dhcp-range=10.0.0.50,10.0.0.99\nenable-tftp" });
    await converges("replace", { path, regexp: "^dhcp-range=(\\S+?),", replace: "dhcp-range=10.1.0.50," });
    assert.equal(await remote(`cat ${path}`), "port=0\n# BEGIN ANSIBLE MANAGED BLOCK\ndhcp-range=10.1.0.50,10.0.0.99\nenable-tftp\n# END ANSIBLE MANAGED BLOCK\n");
    await converges("blockinfile", { path, state: "absent" });
    assert.equal(await remote(`cat ${path}`), "port=0\n");
  });

  test("file: directory, touch, link, hard, recurse, absent", async () => {
    await converges("file", { path: `${dir}/d/e`, state: "directory", mode: "0750" });
    await converges("file", { path: `${dir}/d/e/stamp`, state: "touch", mode: "0600", access_time: "preserve", modification_time: "preserve" });
    await converges("file", { path: `${dir}/d/link`, src: "e/stamp", state: "link" });
    assert.equal(await remote(`readlink ${dir}/d/link`), "e/stamp\n");
    await converges("file", { path: `${dir}/d/hard`, src: `${dir}/d/e/stamp`, state: "hard" });
    await converges("file", { path: `${dir}/d`, state: "directory", mode: "0700", recurse: true });
    assert.equal(await remote(`stat -c %a ${dir}/d/e/stamp`), "700\n");
    await converges("file", { path: `${dir}/d`, state: "absent" });
    assert.equal(await remote(`[ -e ${dir}/d ] && echo yes || echo no`), "no\n");
    await assert.rejects(run("file", { path: `${dir}/missing`, state: "file" }), /is absent, cannot continue/);
  });

  test("stat and slurp read without changing", async () => {
    await remote(`printf 'pi-1\\n' > ${dir}/hostname`);
    const s = await run("stat", { path: `${dir}/hostname` });
    assert.equal(s.plan.changed, false);
    const st = s.result.stat as Record<string, unknown>;
    assert.equal(st.exists, true);
    assert.equal(st.isreg, true);
    assert.equal(st.size, 5);
    assert.equal(st.checksum, createHash("sha1").update("pi-1\n").digest("hex"));
    assert.equal(s.commands, 1);
    const missing = await run("stat", { path: `${dir}/nope` });
    assert.deepEqual(missing.result.stat, { exists: false });
    const sl = await run("slurp", { src: `${dir}/hostname` });
    assert.equal(Buffer.from(String(sl.result.content), "base64").toString(), "pi-1\n");
  });

  test("find lists a folder in one round trip, whatever its file names hold", async () => {
    await remote(`mkdir -p '${dir}/found/sub' && printf 'x' > '${dir}/found/a.yml' && touch '${dir}/found/.hidden' '${dir}/found/sub/b.yml' "${dir}/found/new\nline.yml"`);
    const before = await snapshot();
    const any = await run("find", { paths: [`${dir}/found`, `${dir}/nope`], file_type: "any", hidden: true });
    assert.equal(any.plan.changed, false);
    assert.equal(any.commands, 1);
    const paths = (any.result.files as Array<{ path: string }>).map((f) => f.path).sort();
    assert.deepEqual(paths, [`${dir}/found/.hidden`, `${dir}/found/a.yml`, `${dir}/found/new\nline.yml`, `${dir}/found/sub`]);
    assert.deepEqual(any.result.skipped_paths, { [`${dir}/nope`]: `'${dir}/nope' is not a directory` });
    const yml = await run("find", { paths: `${dir}/found`, patterns: "*.yml", recurse: true });
    const files = yml.result.files as Array<{ path: string; size: number; isreg: boolean }>;
    assert.deepEqual(files.map((f) => f.path).sort(), [`${dir}/found/a.yml`, `${dir}/found/new\nline.yml`, `${dir}/found/sub/b.yml`]);
    assert.equal(files.find((f) => f.path.endsWith("/a.yml"))?.size, 1);
    assert.equal(await snapshot(), before, "find must not touch anything");
  });

  test("fetch to the controller", async () => {
    await remote(`printf 'kubeconfig\\n' > ${dir}/k3s.yaml`);
    const dest = join(controller, "fetched");
    const first = await run("fetch", { src: `${dir}/k3s.yaml`, dest });
    assert.equal(first.plan.changed, true);
    const local = join(dest, transport.host, dir.slice(1), "k3s.yaml");
    assert.equal(readFileSync(local, "utf8"), "kubeconfig\n");
    const second = await run("fetch", { src: `${dir}/k3s.yaml`, dest });
    assert.equal(second.plan.changed, false);
    const flat = await run("fetch", { src: `${dir}/k3s.yaml`, dest: `${controller}/flat/`, flat: true });
    assert.equal(flat.plan.changed, true);
    assert.ok(existsSync(join(controller, "flat", "k3s.yaml")));
  });

  test("command and shell honour creates; raw always runs", async () => {
    const marker = `${dir}/ran`;
    const r = await converges("command", { argv: ["touch", marker], creates: marker });
    assert.equal(r.second.plan.reason, `skipped, since ${marker} exists`);
    const out = await run("shell", { cmd: "echo $((1+2)) | tr 3 x", chdir: dir });
    assert.equal(out.result.stdout, "x");
    const lit = await run("command", { _raw_params: "echo $HOME '*'" });
    assert.equal(lit.result.stdout, "$HOME *");
    await assert.rejects(run("command", { _raw_params: "false" }), /non-zero return code/);
    const raw1 = await run("raw", { _raw_params: "true" });
    const raw2 = await run("raw", { _raw_params: "true" });
    assert.equal(raw1.plan.changed && raw2.plan.changed, true);
  });

  test("get_url with a checksum URL, then no re-download", async () => {
    if (!getModule("get_url")) return;
    const dest = `${dir}/payload.bin`;
    const url = `http://127.0.0.1:${httpPort}/payload.bin`;
    const r = await converges("get_url", { url, dest, checksum: `sha256:http://127.0.0.1:${httpPort}/SHA256SUMS`, mode: "0644" });
    assert.equal(r.second.commands, 1, "no-op is one round trip");
    assert.equal(await remote(`cat ${dest}`), "downloaded payload\n");
    await assert.rejects(run("get_url", { url, dest: `${dir}/bad.bin`, checksum: `sha256:${"1".repeat(64)}` }), /checksum/i);
    assert.equal(await remote(`ls -A ${dir} | grep -c bad.bin || true`), "0\n");
  });

  test("unarchive from the controller, with and without creates", async () => {
    if (!getModule("unarchive")) return;
    await remote(`mkdir -p ${dir}/opt`);
    await converges("unarchive", { src: "pkg.tar.gz", dest: `${dir}/opt` });
    assert.equal(await remote(`cat ${dir}/opt/pkg/README`), "readme\n");
    await remote(`mkdir -p ${dir}/opt2`);
    await converges("unarchive", { src: "pkg.tar.gz", dest: `${dir}/opt2`, creates: `${dir}/opt2/pkg/bin/tool` });
  });

  test("unarchive a zip, and a remote archive with --strip-components", async () => {
    if (!getModule("unarchive")) return;
    await remote(`mkdir -p ${dir}/zip ${dir}/strip`);
    await converges("unarchive", { src: "pkg.zip", dest: `${dir}/zip` });
    assert.equal(await remote(`cat ${dir}/zip/pkg/bin/tool`), "#!/bin/sh\necho tool\n");
    await run("copy", { src: "pkg.tar.gz", dest: `${dir}/pkg.tar.gz` });
    await converges("unarchive", { src: `${dir}/pkg.tar.gz`, dest: `${dir}/strip`, remote_src: true, extra_opts: ["--strip-components=1"] });
    assert.equal(await remote(`cat ${dir}/strip/README`), "readme\n");
  });

  test("get_url force: re-downloads only when the content differs", async () => {
    if (!getModule("get_url")) return;
    const dest = `${dir}/forced.bin`;
    const url = `http://127.0.0.1:${httpPort}/payload.bin`;
    await converges("get_url", { url, dest, force: true });
  });

  test("a no-op lineinfile plan is one round trip (median of 100 timed)", async () => {
    const path = `${dir}/latency.conf`;
    await run("lineinfile", { path, line: "x=1", create: true });
    const module = getModule("lineinfile")!;
    const args = validateModuleArgs(module, { path, line: "x=1" }, { file: "e2e" }, { templated: false });
    const times: number[] = [];
    for (let i = 0; i < 100; i++) {
      const c = ctx();
      const t0 = performance.now();
      const plan = await module.plan(args, c);
      times.push(performance.now() - t0);
      assert.equal(plan.changed, false);
      assert.equal(c.commandCount, 1);
    }
    times.sort((a, b) => a - b);
    // Baseline: a bare `true` over the same connection, interleaved the same way.
    const bare: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t0 = performance.now();
      await transport.exec("true");
      bare.push(performance.now() - t0);
    }
    bare.sort((a, b) => a - b);
    console.log(`# no-op lineinfile plan over ${targetKind}: median ${times[50].toFixed(2)} ms, p90 ${times[90].toFixed(2)} ms, min ${times[0].toFixed(2)} ms; bare \`true\` round trip: median ${bare[50].toFixed(2)} ms`);
  });
});
