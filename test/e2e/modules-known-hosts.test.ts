/**
 * The known_hosts module for real, against a real target (the loopback sshd of
 * test/support/sshd.ts when available, else this machine's sh), in the style of
 * modules-files.test.ts: every task in check mode (changed, nothing touched), applied
 * (changed), applied again (ok, one round trip), on a known_hosts file in a temp dir. Where
 * ansible-playbook is installed the same tasks run through Ansible on a fresh file: the bytes
 * must be the same (hashed names aside: their salt is random), and our module must then find
 * nothing to change in what Ansible wrote.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { getModule } from "../../scripts/lib/modules/registry.ts";
import { validateModuleArgs } from "../../scripts/lib/playbook/validate-args.ts";
import type { Plan } from "../../scripts/lib/modules/types.ts";
import type { Transport } from "../../scripts/lib/transport/types.ts";
import { TransportContext } from "../support/transport-context.ts";
import { openTarget } from "../support/module-target.ts";
import { quote } from "../../scripts/lib/shell/quote.ts";

let transport: Transport;
let closeTarget: () => Promise<void>;
let dir = "";
let controller = "";
/** Freshly made host keys, by name. */
const keys: Record<string, string> = {};

async function remote(command: string): Promise<{ rc: number; stdout: string; stderr: string }> {
  return transport.exec(command);
}

async function run(rawArgs: Record<string, unknown>, check = false) {
  const module = getModule("known_hosts")!;
  const args = validateModuleArgs(module, rawArgs, { file: "e2e:known_hosts" }, { templated: false });
  const c = new TransportContext(transport, { check, diff: true, baseDir: controller, vars: {} });
  const plan: Plan = await module.plan(args, c);
  if (plan.changed && !check) await module.apply!(plan, args, c);
  return { plan, commands: c.commandCount };
}

async function fileText(path: string): Promise<string> {
  return (await remote(`cat -- ${quote(path)} 2>/dev/null; stat -c '@@ %a' -- ${quote(path)} 2>/dev/null; true`)).stdout;
}

async function converges(args: Record<string, unknown>) {
  const path = String(args.path);
  const before = await fileText(path);
  const checked = await run(args, true);
  assert.equal(checked.plan.changed, true, `${args.name}: check mode should report a change (${checked.plan.reason})`);
  assert.equal(await fileText(path), before, `${args.name}: check mode must not touch anything`);
  assert.equal((await run(args)).plan.changed, true, `${args.name}: first apply should change`);
  const again = await run(args);
  assert.equal(again.plan.changed, false, `${args.name}: second apply should be ok, got "${again.plan.msg}"`);
  assert.equal(again.commands, 1, `${args.name}: a no-op is one round trip`);
}

before(async () => {
  const target = await openTarget();
  transport = target.transport;
  closeTarget = target.close;
  console.log(`# known_hosts e2e target: ${target.kind}`);
  dir = (await remote("mktemp -d /tmp/known-hosts-e2e.XXXXXX")).stdout.trim();
  assert.match(dir, /^\/tmp\/known-hosts-e2e\./);
  controller = mkdtempSync(join(tmpdir(), "known-hosts-ctl-"));
  for (const [name, type] of [["ed1", "ed25519"], ["ed2", "ed25519"], ["ecdsa", "ecdsa"]]) {
    const file = join(controller, name);
    assert.equal(spawnSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", `root@${name}`, "-f", file]).status, 0);
    keys[name] = readFileSync(`${file}.pub`, "utf8").trim();
  }
});

after(async () => {
  if (dir.startsWith("/tmp/known-hosts-e2e.")) await remote(`rm -rf -- ${quote(dir)}`);
  if (controller) rmSync(controller, { recursive: true, force: true });
  await closeTarget?.();
});

/** Adds, a second key type, a changed key, a [host]:port, a hashed name, and removals. */
function tasks(path: string): Array<Record<string, unknown>> {
  return [
    { path, name: "node1.lan", key: `node1.lan,10.0.0.11 ${keys.ed1}` },
    { path, name: "node1.lan", key: `node1.lan ${keys.ecdsa}` },
    { path, name: "node2.lan", key: `node2.lan ${keys.ed1}` },
    { path, name: "node2.lan", key: `node2.lan ${keys.ed2}` },
    { path, name: "[node3.lan]:2222", key: `[node3.lan]:2222 ${keys.ed2}` },
    { path, name: "node4.lan", key: `node4.lan ${keys.ed1}`, hash_host: true },
    { path, name: "node1.lan", state: "absent", key: `node1.lan ${keys.ecdsa}` },
    { path, name: "node2.lan", state: "absent" },
  ];
}

const unhashed = (text: string) => text.replace(/\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+/g, "|1|HASHED");

test("known_hosts: keys added, replaced, hashed and removed converge", async () => {
  const path = `${dir}/known_hosts`;
  for (const args of tasks(path)) await converges(args);
  const text = await fileText(path);
  assert.equal(
    unhashed(text),
    [`node1.lan,10.0.0.11 ${keys.ed1}`, `[node3.lan]:2222 ${keys.ed2}`, `|1|HASHED ${keys.ed1}`, "@@ 644", ""].join("\n"),
  );
  // ssh itself finds the hashed name.
  assert.match((await remote(`ssh-keygen -F node4.lan -f ${quote(path)}`)).stdout, /found: line 3/);
});

test("known_hosts: the same tasks through ansible-playbook write the same bytes, which we then leave alone", { skip: spawnSync("sh", ["-c", "command -v ansible-playbook"]).status !== 0 && "ansible-playbook is not installed" }, async () => {
  const ours = `${dir}/ours`;
  const theirs = `${dir}/theirs`;
  for (const args of tasks(ours)) await run(args);
  const playbook = join(controller, "known_hosts.yml");
  writeFileSync(playbook, JSON.stringify([{ hosts: "localhost", gather_facts: false, tasks: tasks(theirs).map((t) => ({ "ansible.builtin.known_hosts": t })) }]));
  const ansible = spawnSync("ansible-playbook", ["-i", "localhost,", "-c", "local", playbook], { encoding: "utf8", timeout: 300_000, env: { ...process.env, ANSIBLE_NOCOLOR: "1" } });
  assert.equal(ansible.status, 0, ansible.stdout + ansible.stderr);
  assert.equal(unhashed(await fileText(theirs)), unhashed(await fileText(ours)), "Ansible wrote the same known_hosts");
  // The tasks that say what is left (not the replaced key, nor node2 removed after) need no change.
  for (const args of tasks(theirs).filter((_, i) => [0, 4, 5, 6, 7].includes(i))) {
    const again = await run(args);
    assert.equal(again.plan.changed, false, `${args.name}: what Ansible wrote needs no change, got "${again.plan.msg}"`);
  }
});

test("known_hosts: a path full of shell syntax stays data", async () => {
  const marker = `${dir}/evaluated`;
  const path = `${dir}/it's $(touch ${marker}) \`touch ${marker}\``;
  // The "/" inside the substitutions makes directories of part of the path: make them first.
  assert.equal((await remote(`mkdir -p -- ${quote(path.slice(0, path.lastIndexOf("/")))}`)).rc, 0);
  await converges({ path, name: "node1.lan", key: `node1.lan ${keys.ed1}` });
  assert.equal((await remote(`cat -- ${quote(path)}`)).stdout, `node1.lan ${keys.ed1}\n`);
  assert.equal((await remote(`test -e ${quote(marker)}`)).rc, 1, "nothing in the path was evaluated");
});
