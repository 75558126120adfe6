/**
 * vars_prompt: the loader reads a play's entries (schema-checked, with their place), and
 * askVarsPrompts asks them on a terminal (here a scripted one) with Ansible's rules: -e skips
 * the question, an empty answer takes the default, private answers are masked, confirm asks
 * twice; without a terminal the default or nothing. And reset.yml refuses without an answer.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadPlaybook } from "../../../scripts/lib/playbook/load.ts";
import { askVarsPrompts, type PromptTerminal } from "../../../scripts/lib/cli/vars-prompt.ts";
import type { UserError } from "../../../scripts/lib/errors.ts";

const root = fileURLToPath(new URL("../../../", import.meta.url));

function playbookFile(text: string): { file: string; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), "vars-prompt-"));
  const file = join(dir, "play.yml");
  writeFileSync(file, text);
  return { file, done: () => rmSync(dir, { recursive: true, force: true }) };
}

const PLAYBOOK = `- hosts: all
  gather_facts: false
  vars_prompt:
    - name: answer
      prompt: Type yes to go on
      private: false
    - name: password
      prompt: Password
      confirm: true
    - name: zone
      prompt: Zone
      private: false
      default: rack1
  tasks:
    - debug: var=answer
`;

function terminal(answers: string[], isTTY = true) {
  const asked: string[] = [];
  const secrets: string[] = [];
  const t: PromptTerminal = {
    isTTY,
    readLine: async (q) => (asked.push(`line ${q}`), answers.shift() ?? ""),
    readSecretLine: async (q) => (asked.push(`secret ${q}`), answers.shift() ?? ""),
    registerSecret: (v) => void secrets.push(v),
  };
  return { t, asked, secrets };
}

describe("vars_prompt", () => {
  test("the loader keeps each entry with Ansible's defaults (private true, confirm false)", () => {
    const f = playbookFile(PLAYBOOK);
    try {
      const [play] = loadPlaybook(f.file).plays;
      assert.deepEqual(
        play.varsPrompt!.map(({ where, ...e }) => e),
        [
          { name: "answer", prompt: "Type yes to go on", private: false, confirm: false },
          { name: "password", prompt: "Password", private: true, confirm: true },
          { name: "zone", prompt: "Zone", private: false, default: "rack1", confirm: false },
        ],
      );
      assert.equal(play.varsPrompt![0].where.line, 4);
    } finally {
      f.done();
    }
  });

  test("an unknown entry key is refused with its place", () => {
    const f = playbookFile("- hosts: all\n  vars_prompt:\n    - name: x\n      encrypt: sha512_crypt\n  tasks: []\n");
    try {
      assert.throws(() => loadPlaybook(f.file), (e: Error) => /play\.yml:4:7: unknown keyword "encrypt"/.test((e as UserError).format()));
    } finally {
      f.done();
    }
  });

  test("on a terminal: asked in order, private ones hidden and masked, the default on an empty answer", async () => {
    const f = playbookFile(PLAYBOOK);
    try {
      const pb = loadPlaybook(f.file);
      const { t, asked, secrets } = terminal(["yes", "s3cret", "s3cret", ""]);
      await askVarsPrompts([pb], {}, t);
      assert.deepEqual(asked, ["line Type yes to go on: ", "secret Password: ", "secret confirm Password: ", "line Zone [rack1]: "]);
      assert.deepEqual(secrets, ["s3cret"]);
      assert.deepEqual(pb.plays[0].vars, { answer: "yes", password: "s3cret", zone: "rack1" });
    } finally {
      f.done();
    }
  });

  test("a variable given with -e is not asked; two different confirmations are an error naming the prompt", async () => {
    const f = playbookFile(PLAYBOOK);
    try {
      const pb = loadPlaybook(f.file);
      const { t, asked } = terminal(["one", "two"]);
      await assert.rejects(askVarsPrompts([pb], { answer: "yes" }, t), (e: Error) => /play\.yml:7:7: The two answers to "Password" \(password\) differ/.test((e as UserError).format()));
      assert.deepEqual(asked, ["secret Password: ", "secret confirm Password: "]);
      assert.equal("answer" in pb.plays[0].vars, false);
    } finally {
      f.done();
    }
  });

  test("without a terminal nothing is asked: the default, or the variable stays unset", async () => {
    const f = playbookFile(PLAYBOOK);
    try {
      const pb = loadPlaybook(f.file);
      const { t, asked } = terminal([], false);
      await askVarsPrompts([pb], {}, t);
      assert.deepEqual(asked, []);
      assert.deepEqual(pb.plays[0].vars, { zone: "rack1" });
    } finally {
      f.done();
    }
  });

  // On a real terminal (a pty from util-linux's script): the question is shown and the typed
  // answer decides. "yes" goes on to the hosts (here loopback port 1: unreachable, exit 4).
  const scriptBin = ["/usr/bin/script", "/bin/script"].find((p) => existsSync(p));
  for (const [typed, code] of [["no", 2], ["yes", 4]] as const) {
    test(`reset.yml on a terminal, answered "${typed}"`, { skip: scriptBin ? false : "no script(1) to make a terminal", timeout: 60_000 }, async () => {
      const dir = mkdtempSync(join(tmpdir(), "reset-tty-"));
      try {
        const inventory = join(dir, "hosts.yml");
        writeFileSync(inventory, "all:\n  vars: {ansible_host: 127.0.0.1, ansible_port: 1}\n  children:\n    servers: {hosts: {s1: }}\n");
        const command = `${process.execPath} --import tsx scripts/play.ts playbooks/reset.yml -i ${inventory}`;
        const r = await new Promise<{ code: number | null; out: string }>((done) => {
          const child = spawn(scriptBin!, ["-qec", command, "/dev/null"], { cwd: root, env: { ...process.env, CI: "true", NO_COLOR: "1" } });
          let out = "";
          let answered = false;
          child.stdout.on("data", (d) => {
            out += d;
            if (!answered && out.includes("Type yes to go on: ")) {
              answered = true;
              child.stdin.write(`${typed}\n`);
            }
          });
          child.on("close", (c) => done({ code: c, out }));
        });
        assert.match(r.out, /This removes k3s \(and Longhorn\) from every node of the inventory\. Type yes to go on: /);
        assert.equal(r.code, code, r.out);
        if (typed === "no") assert.match(r.out, /The reset was not confirmed \(the answer was "no"\)/);
        else assert.match(r.out, /PLAY \[Uninstall Longhorn\]/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  // Loopback port 1: any connection attempt would make the hosts unreachable (exit 4).
  const inventories = {
    "site.yml's groups": "all:\n  vars: {ansible_host: 127.0.0.1, ansible_port: 1}\n  children:\n    cluster:\n      children:\n        servers: {hosts: {s1: }}\n        agents: {hosts: {a1: }}\n    datastore: {hosts: {pg: }}\n",
    'no group "cluster"': "all:\n  vars: {ansible_host: 127.0.0.1, ansible_port: 1}\n  children:\n    servers: {hosts: {s1: }}\n    agents: {hosts: {a1: }}\n",
  };
  for (const [shape, text] of Object.entries(inventories)) {
    test(`reset.yml without a terminal and without -e reset_confirm=yes (${shape}): refused before any host is touched`, () => {
      const dir = mkdtempSync(join(tmpdir(), "reset-refuse-"));
      try {
        const inventory = join(dir, "hosts.yml");
        writeFileSync(inventory, text);
        const r = spawnSync(process.execPath, ["--import", "tsx", `${root}scripts/play.ts`, "playbooks/reset.yml", "-i", inventory], { cwd: root, encoding: "utf8", input: "", env: { ...process.env, CI: "true", NO_COLOR: "1" } });
        assert.equal(r.status, 2, r.stdout + r.stderr);
        assert.match(r.stdout, /The reset was not confirmed: nothing was changed\. Answer yes at the prompt, or without a terminal pass -e reset_confirm=yes/);
        assert.doesNotMatch(r.stdout, /PLAY \[Uninstall Longhorn\]/);
        assert.doesNotMatch(r.stdout, /unreachable=1/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
