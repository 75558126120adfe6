/**
 * The cron module for real, against a real target (the loopback sshd of test/support/sshd.ts
 * when available, else this machine's sh), in the style of modules-files.test.ts: every task
 * runs in check mode (changed, nothing touched), applied (changed), applied again (ok, one
 * round trip). The tasks edit a cron.d-style file under a temp dir and the login user's own
 * crontab, which is saved first and put back afterwards. Where ansible-playbook is installed,
 * the same tasks run through Ansible on a fresh state: the bytes must be the same, and our
 * module must then find nothing to change on what Ansible wrote.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
/** The login user's crontab before the test (undefined: none), restored after. */
let savedCrontab: string | undefined;
let haveCrontab = false;

async function remote(command: string, stdin?: string): Promise<{ rc: number; stdout: string; stderr: string }> {
  return transport.exec(command, stdin === undefined ? undefined : { stdin });
}

async function run(rawArgs: Record<string, unknown>, check = false) {
  const module = getModule("cron")!;
  const args = validateModuleArgs(module, rawArgs, { file: "e2e:cron" }, { templated: false });
  const c = new TransportContext(transport, { check, diff: true, baseDir: controller, vars: {} });
  const plan: Plan = await module.plan(args, c);
  if (plan.changed && !check) await module.apply!(plan, args, c);
  return { plan, commands: c.commandCount };
}

/** The cron file's bytes and the user's crontab, as the target has them. */
async function cronState(cronFile: string): Promise<string> {
  const r = await remote(`cat -- ${quote(cronFile)} 2>/dev/null; echo '@@'; crontab -l 2>/dev/null; true`);
  return r.stdout;
}

async function converges(args: Record<string, unknown>, cronFile: string) {
  const before = await cronState(cronFile);
  const checked = await run(args, true);
  assert.equal(checked.plan.changed, true, `${args.name}: check mode should report a change (${checked.plan.reason})`);
  assert.equal(await cronState(cronFile), before, `${args.name}: check mode must not touch anything`);
  assert.equal((await run(args)).plan.changed, true, `${args.name}: first apply should change`);
  const again = await run(args);
  assert.equal(again.plan.changed, false, `${args.name}: second apply should be ok, got "${again.plan.msg}"`);
  assert.equal(again.commands, 1, `${args.name}: a no-op is one round trip`);
}

async function resetCrontabs(cronFile: string) {
  await remote(`rm -f -- ${quote(cronFile)}; crontab -r 2>/dev/null; true`);
}

before(async () => {
  const target = await openTarget();
  transport = target.transport;
  closeTarget = target.close;
  console.log(`# cron e2e target: ${target.kind}`);
  haveCrontab = (await remote("command -v crontab")).rc === 0;
  dir = (await remote("mktemp -d /tmp/cron-e2e.XXXXXX")).stdout.trim();
  assert.match(dir, /^\/tmp\/cron-e2e\./);
  controller = mkdtempSync(join(tmpdir(), "cron-ctl-"));
  if (haveCrontab) {
    const r = await remote("crontab -l");
    savedCrontab = r.rc === 0 ? r.stdout : undefined;
  }
});

after(async () => {
  if (haveCrontab) {
    const r = savedCrontab === undefined ? await remote("crontab -r 2>/dev/null; true") : await remote("crontab -", savedCrontab);
    assert.equal(r.rc, 0, `the crontab was put back: ${r.stderr}`);
  }
  if (dir.startsWith("/tmp/cron-e2e.")) await remote(`rm -rf -- ${quote(dir)}`);
  if (controller) rmSync(controller, { recursive: true, force: true });
  await closeTarget?.();
});

/** Jobs and variables in a cron file and in the user's crontab, added and removed; the crontab's jobs do nothing (":") should cron run them meanwhile. */
function tasks(cronFile: string): Array<Record<string, unknown>> {
  const inFile = { cron_file: cronFile, user: "root" };
  return [
    { name: "etcd snapshot", ...inFile, minute: "15", hour: "*/6", job: "/usr/local/bin/k3s etcd-snapshot save" },
    { name: "k3s check", ...inFile, special_time: "reboot", job: "/usr/local/bin/k3s-check", disabled: true },
    { name: "PATH", env: true, ...inFile, job: "/usr/local/bin:/usr/bin:/bin" },
    { name: "SHELL", env: true, ...inFile, job: "/bin/bash", insertafter: "PATH" },
    { name: "backup", minute: "0", hour: "2", weekday: "1-5", job: ": pi-cluster-runner e2e backup" },
    { name: "gone", minute: "1", job: ": pi-cluster-runner e2e" },
    { name: "gone", state: "absent" },
    { name: "MAILTO", env: true, job: "" },
  ];
}

test("cron: jobs and variables in a cron file and a user's crontab converge", { skip: !haveCrontabSync() && "no crontab on this machine (Debian package cron)" }, async () => {
  const cronFile = `${dir}/k3s-snapshot`;
  await resetCrontabs(cronFile);
  for (const args of tasks(cronFile)) await converges(args, cronFile);
  assert.equal(
    await cronState(cronFile),
    [
      'PATH="/usr/local/bin:/usr/bin:/bin"',
      'SHELL="/bin/bash"',
      "#Ansible: etcd snapshot",
      "15 */6 * * * root /usr/local/bin/k3s etcd-snapshot save",
      "#Ansible: k3s check",
      "#@reboot root /usr/local/bin/k3s-check",
      "@@",
      'MAILTO=""',
      "#Ansible: backup",
      "0 2 * * 1-5 : pi-cluster-runner e2e backup",
      "",
    ].join("\n"),
  );
  assert.equal((await remote(`stat -c %a -- ${quote(cronFile)}`)).stdout, "644\n");
  // The file's last job and variables gone: the file goes, as Ansible removes it.
  for (const name of ["PATH", "SHELL"]) await converges({ name, env: true, state: "absent", cron_file: cronFile }, cronFile);
  await converges({ name: "k3s check", state: "absent", cron_file: cronFile }, cronFile);
  await converges({ name: "etcd snapshot", state: "absent", cron_file: cronFile }, cronFile);
  assert.equal((await remote(`test -e ${quote(cronFile)}`)).rc, 1, "the emptied cron file is removed");
});

test("cron: the same tasks through ansible-playbook write the same bytes, which we then leave alone", { skip: (!haveCrontabSync() || !ansibleInstalled()) && "needs crontab and ansible-playbook here" }, async () => {
  const cronFile = `${dir}/compare`;
  await resetCrontabs(cronFile);
  for (const args of tasks(cronFile)) await run(args);
  const ours = await cronState(cronFile);
  await resetCrontabs(cronFile);
  const playbook = join(controller, "cron.yml");
  writeFileSync(playbook, JSON.stringify([{ hosts: "localhost", gather_facts: false, tasks: tasks(cronFile).map((t) => ({ "ansible.builtin.cron": t })) }]));
  const ansible = spawnSync("ansible-playbook", ["-i", "localhost,", "-c", "local", playbook], { encoding: "utf8", timeout: 300_000, env: { ...process.env, ANSIBLE_NOCOLOR: "1" } });
  assert.equal(ansible.status, 0, ansible.stdout + ansible.stderr);
  assert.equal(await cronState(cronFile), ours, "Ansible wrote the same cron file and crontab");
  // Every task but the added-then-removed one says what Ansible left.
  for (const args of tasks(cronFile).filter((t) => t.name !== "gone")) {
    const again = await run(args);
    assert.equal(again.plan.changed, false, `${args.name}: what Ansible wrote needs no change, got "${again.plan.msg}"`);
  }
});

function haveCrontabSync(): boolean {
  return spawnSync("sh", ["-c", "command -v crontab"]).status === 0;
}

function ansibleInstalled(): boolean {
  return spawnSync("sh", ["-c", "command -v ansible-playbook"]).status === 0;
}

test("cron: a cron_file path and a job full of shell syntax stay data", { skip: !haveCrontabSync() && "no crontab on this machine" }, async () => {
  const marker = `${dir}/evaluated`;
  const cronFile = `${dir}/it's $(touch ${marker}) \`touch ${marker}\``;
  // The "/" inside the substitutions makes directories of part of the path: make them first.
  assert.equal((await remote(`mkdir -p -- ${quote(cronFile.slice(0, cronFile.lastIndexOf("/")))}`)).rc, 0);
  const job = `echo '$(touch ${marker})' "; touch ${marker}" # it's fine`;
  await converges({ name: "hostile", cron_file: cronFile, user: "root", job }, cronFile);
  assert.equal((await remote(`cat -- ${quote(cronFile)}`)).stdout, `#Ansible: hostile\n* * * * * root ${job}\n`);
  assert.equal((await remote(`test -e ${quote(marker)}`)).rc, 1, "nothing in the path or the job was evaluated");
});
