/**
 * scripts/play.ts end to end, as users run it (`node --import tsx scripts/play.ts ...`):
 * exit codes, errors on stderr with file:line:col and no stack, list modes without an
 * executor or inventory.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../../scripts/play.ts";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const fixtures = fileURLToPath(new URL("../playbook/fixtures/", import.meta.url));

function play(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, ["--import", "tsx", `${root}scripts/play.ts`, ...args], { cwd, encoding: "utf8", env: { ...process.env, CI: "true" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("play.ts as a process", () => {
  test("--syntax-check on a bad playbook: exit 4, file:line:col on stderr, no stack", () => {
    const r = play(["test/unit/playbook/fixtures/errors/unknown-module.yml", "--syntax-check"]);
    assert.equal(r.code, 4);
    assert.equal(r.stderr.split("\n")[0], 'test/unit/playbook/fixtures/errors/unknown-module.yml:4:7: Unknown module "coppy"; did you mean "copy"?');
    assert.equal(/\n\s+at /.test(r.stderr), false);
  });

  test("-vvv adds the stack", () => {
    const r = play(["test/unit/playbook/fixtures/errors/unknown-module.yml", "--syntax-check", "-vvv"]);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /\n\s+at /);
  });

  test("a bad flag: exit 5 with did-you-mean", () => {
    const r = play(["x.yml", "--chek"]);
    assert.equal(r.code, 5);
    assert.match(r.stderr, /unknown option --chek; did you mean --check\?/);
  });

  test("--list-tasks with --tags needs neither inventory nor executor", () => {
    const r = play(["playbooks/site.yml", "--list-tasks", "--tags", "motd"], `${fixtures}site`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /play #1 \(pis\): Configure the cluster\tTAGS: \[base\]\n {4}tasks:\n {6}common : Common task\tTAGS: \[base, motd\]\n\n/);
  });

  test("--tags <role> selects the role's tasks (and its dependencies'); --list-tasks shows only Ansible's tags", () => {
    const r = play(["playbooks/site.yml", "--list-tasks", "--tags", "common"], `${fixtures}site`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, / {4}tasks:\n {6}common : Common task\tTAGS: \[base\]\n {6}common : Common extra\tTAGS: \[base\]\n {6}common : Common task\tTAGS: \[base, motd\]\n/);
    const skipped = play(["playbooks/site.yml", "--list-tasks", "--skip-tags", "ntp"], `${fixtures}site`);
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.doesNotMatch(skipped.stdout, /ntp : /);
    assert.match(skipped.stdout, /common : Common task\tTAGS: \[base, motd\]/);
  });

  test("--list-hosts uses inventory/hosts.yml of the working directory and --limit", () => {
    const r = play(["playbooks/site.yml", "--list-hosts", "-l", "pi-2"], `${fixtures}site`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pattern: \['pis'\]\n {4}hosts \(1\):\n {6}pi-2\n/);
  });

  test("a reader that goes away (`| head`): no EPIPE stack trace, the run still finishes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "play-epipe-"));
    try {
      writeFileSync(join(dir, "pb.yml"), "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: {msg: '{{ item }}'}\n      loop: '{{ range(0, 3000) | list }}'\n    - copy: {content: done, dest: '" + join(dir, "done") + "'}\n");
      const child = spawn(process.execPath, ["--import", "tsx", `${root}scripts/play.ts`, join(dir, "pb.yml"), "-i", "localhost,", "-c", "local"], { cwd: root, env: { ...process.env, CI: "true" } });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      child.stdout.once("data", () => child.stdout.destroy());
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      assert.equal(code, 0, stderr);
      assert.doesNotMatch(stderr, /EPIPE|\n\s+at /);
      assert.equal(existsSync(join(dir, "done")), true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a missing playbook: exit 5", () => {
    const r = play(["nope.yml", "--syntax-check"]);
    assert.equal(r.code, 5);
    assert.match(r.stderr, /Playbook not found: nope.yml/);
  });
});

describe("play.ts under Deno", () => {
  const deno = `${root}node_modules/.bin/deno`;
  test("--syntax-check on a bad playbook: exit 4 and the same message", { skip: !existsSync(deno) && "deno is not installed" }, () => {
    const r = spawnSync(deno, ["run", "-A", "scripts/play.ts", "test/unit/playbook/fixtures/errors/unknown-option.yml", "--syntax-check"], { cwd: root, encoding: "utf8" });
    assert.equal(r.status, 4, r.stderr);
    assert.equal(r.stderr.split("\n")[0], 'test/unit/playbook/fixtures/errors/unknown-option.yml:6:9: module copy: unknown option "dst"; did you mean "dest"?');
  });
});

describe("main() in process", () => {
  function capture() {
    let text = "";
    return { stream: { write: (t: string) => (text += t), isTTY: false }, text: () => text };
  }

  test("--help prints usage, exit 0", async () => {
    const out = capture();
    assert.equal(await main(["--help"], { stdout: out.stream }), 0);
    assert.match(out.text(), /--list-tasks/);
  });

  test("--syntax-check on a good playbook: exit 0", async () => {
    const out = capture();
    const code = await main(["playbooks/site.yml", "--syntax-check"], { stdout: out.stream, cwd: `${fixtures}site` });
    assert.equal(code, 0);
    assert.equal(out.text(), "\nplaybook: playbooks/site.yml\n");
  });

  test("--list-tags", async () => {
    const out = capture();
    assert.equal(await main(["playbooks/site.yml", "--list-tags"], { stdout: out.stream, cwd: `${fixtures}site` }), 0);
    assert.match(out.text(), /TASK TAGS: \[base, blocky, extra, motd\]/);
  });

  test("no inventory for a real run: exit 5 with a clear message", async () => {
    const err = capture();
    const code = await main(["../site/playbooks/site.yml"], { stdout: capture().stream, stderr: err.stream, cwd: `${fixtures}errors` });
    assert.equal(code, 5);
    assert.match(err.text(), /no inventory: inventory\/hosts.yml does not exist here and no -i was given/);
  });

  test("a --limit that matches no host: exit 1, nothing runs (as ansible-playbook)", async () => {
    const err = capture();
    const code = await main(["playbooks/site.yml", "-l", "pi-9"], { stdout: capture().stream, stderr: err.stream, cwd: `${fixtures}site` });
    assert.equal(code, 1);
    assert.match(err.text(), /--limit leaves us with no hosts to target: --limit "pi-9" matches no host/);
  });

  test("--list-hosts renders a templated hosts: with -e, as the run does", async () => {
    const dir = mkdtempSync(join(tmpdir(), "play-test-"));
    try {
      writeFileSync(join(dir, "pb.yml"), "- hosts: \"{{ target }}\"\n  tasks: [{debug: {msg: x}}]\n");
      const out = capture();
      const code = await main(["pb.yml", "-i", "a,b,c", "--list-hosts", "-e", "target=b:c", "-l", "a,b"], { stdout: out.stream, cwd: dir });
      assert.equal(code, 0);
      assert.match(out.text(), /hosts \(1\):\n {6}b\n/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("--step without a terminal: exit 5 before anything runs", async () => {
    const err = capture();
    const code = await main(["playbooks/site.yml", "--step"], { stdout: capture().stream, stderr: err.stream, cwd: `${fixtures}site` });
    assert.equal(code, 5);
    assert.match(err.text(), /--step asks before each task and needs a terminal on stdin/);
  });
});
