/**
 * The apt_repository module for real on this machine's sh (LocalShellTransport: apt reads
 * APT_CONFIG from the environment, which a loopback sshd would not pass on), with apt's
 * sources.list and sources.list.d moved into a temp dir by an APT_CONFIG file, so the
 * machine's own sources are never touched and no apt-get update runs (update_cache: false).
 * In the style of modules-files.test.ts: check mode (changed, nothing touched), apply
 * (changed), apply again (ok, one round trip). Where ansible-playbook is installed the same
 * tasks run through Ansible on the same starting files: the bytes must be the same, and our
 * module must then find nothing to change.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { getModule } from "../../scripts/lib/modules/registry.ts";
import { validateModuleArgs } from "../../scripts/lib/playbook/validate-args.ts";
import type { Plan } from "../../scripts/lib/modules/types.ts";
import { TransportContext } from "../support/transport-context.ts";
import { LocalShellTransport } from "../support/local-transport.ts";

const transport = new LocalShellTransport();
let dir = "";
const savedAptConfig = process.env.APT_CONFIG;

/** Points apt (ours through the environment, Ansible's through `environment:`) at `root`'s sources. */
function aptConfig(root: string): string {
  mkdirSync(join(root, "sources.list.d"), { recursive: true });
  const file = join(root, "apt.conf");
  writeFileSync(file, `Dir::Etc::sourcelist "${root}/sources.list";\nDir::Etc::sourceparts "${root}/sources.list.d";\n`);
  return file;
}

/** Every sources file under `root` with its mode and bytes. */
function sourcesState(root: string): string {
  const files = [join(root, "sources.list"), ...readdirSync(join(root, "sources.list.d")).sort().map((f) => join(root, "sources.list.d", f))];
  return files.filter((f) => existsSync(f)).map((f) => `== ${f.slice(root.length)} ${(statSync(f).mode & 0o777).toString(8)}\n${readFileSync(f, "utf8")}`).join("");
}

async function run(rawArgs: Record<string, unknown>, check = false) {
  const module = getModule("apt_repository")!;
  const args = validateModuleArgs(module, rawArgs, { file: "e2e:apt_repository" }, { templated: false });
  const c = new TransportContext(transport, { check, diff: true, baseDir: dir, vars: {} });
  const plan: Plan = await module.plan(args, c);
  if (plan.changed && !check) await module.apply!(plan, args, c);
  return { plan, commands: c.commandCount };
}

async function converges(args: Record<string, unknown>, root: string) {
  const beforeCheck = sourcesState(root);
  const checked = await run(args, true);
  assert.equal(checked.plan.changed, true, `${args.repo}: check mode should report a change (${checked.plan.reason})`);
  assert.equal(sourcesState(root), beforeCheck, `${args.repo}: check mode must not touch anything`);
  assert.equal((await run(args)).plan.changed, true, `${args.repo}: first apply should change`);
  const again = await run(args);
  assert.equal(again.plan.changed, false, `${args.repo}: second apply should be ok, got "${again.plan.msg}"`);
  assert.equal(again.commands, 1, `${args.repo}: a no-op is one round trip`);
}

const K8S = "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.31/deb/ /";
const RPI = "deb http://archive.raspberrypi.com/debian/ bookworm main";
const DOCKER = "deb [arch=arm64] https://download.docker.com/linux/debian bookworm stable";

/** The starting files: Debian's list with a disabled line, the Pi's repo commented out. */
function seed(root: string) {
  writeFileSync(join(root, "sources.list"), "deb http://deb.debian.org/debian bookworm main contrib non-free-firmware\n#deb-src  http://deb.debian.org/debian bookworm main\n");
  writeFileSync(join(root, "sources.list.d", "raspi.list"), `#${RPI}\n`);
}

const tasks: Array<Record<string, unknown>> = [
  { repo: K8S, update_cache: false },
  { repo: RPI, update_cache: false },
  { repo: DOCKER, filename: "docker", mode: "0600", update_cache: false },
  { repo: K8S, state: "absent", update_cache: false },
];

before(() => {
  dir = mkdtempSync(join(tmpdir(), "apt-repository-e2e-"));
});

after(() => {
  if (savedAptConfig === undefined) delete process.env.APT_CONFIG;
  else process.env.APT_CONFIG = savedAptConfig;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("apt_repository: repos added, enabled, named and removed converge", { skip: spawnSync("sh", ["-c", "command -v apt-config"]).status !== 0 && "no apt here" }, async () => {
  const root = join(dir, "ours");
  process.env.APT_CONFIG = aptConfig(root);
  seed(root);
  for (const args of tasks) await converges(args, root);
  assert.equal(
    sourcesState(root),
    [
      "== /sources.list 644",
      "deb http://deb.debian.org/debian bookworm main contrib non-free-firmware",
      "# deb-src http://deb.debian.org/debian bookworm main",
      "== /sources.list.d/docker.list 600",
      DOCKER,
      "== /sources.list.d/raspi.list 644",
      RPI,
      "",
    ].join("\n"),
  );
});

test("apt_repository: the same tasks through ansible-playbook write the same bytes, which we then leave alone", { skip: spawnSync("sh", ["-c", "command -v ansible-playbook && command -v apt-config"]).status !== 0 && "needs ansible-playbook and apt" }, async () => {
  const ours = join(dir, "compare-ours");
  process.env.APT_CONFIG = aptConfig(ours);
  seed(ours);
  for (const args of tasks) await run(args);
  const theirs = join(dir, "compare-theirs");
  const theirConfig = aptConfig(theirs);
  seed(theirs);
  const playbook = join(dir, "apt_repository.yml");
  writeFileSync(playbook, JSON.stringify([{ hosts: "localhost", gather_facts: false, environment: { APT_CONFIG: theirConfig }, tasks: tasks.map((t) => ({ "ansible.builtin.apt_repository": t })) }]));
  const ansible = spawnSync("ansible-playbook", ["-i", "localhost,", "-c", "local", playbook], { encoding: "utf8", timeout: 300_000, env: { ...process.env, ANSIBLE_NOCOLOR: "1", APT_CONFIG: theirConfig } });
  assert.equal(ansible.status, 0, ansible.stdout + ansible.stderr);
  assert.equal(sourcesState(theirs), sourcesState(ours), "Ansible left the same sources files");
  process.env.APT_CONFIG = theirConfig;
  for (const args of tasks.slice(1)) {
    const again = await run(args);
    assert.equal(again.plan.changed, false, `${args.repo}: what Ansible wrote needs no change, got "${again.plan.msg}"`);
  }
});
