/**
 * The loader on a small site (fixtures/site): roles next to playbooks/ in ../roles, role
 * dependencies and dedupe, static imports vs dynamic includes, handlers, flattened tags
 * (play, role name, role entry, block, import), one-line k=v arguments, with_* loops, FQCNs.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import "./fake-modules.ts";
import { loadIncludedRole, loadIncludedTasks, loadPlaybook, loadTaskFile } from "../../../scripts/lib/playbook/load.ts";
import { loadRole } from "../../../scripts/lib/playbook/task-list.ts";
import type { Block, Item, Task } from "../../../scripts/lib/playbook/types.ts";
import type { UserError } from "../../../scripts/lib/errors.ts";

const site = fileURLToPath(new URL("./fixtures/site/", import.meta.url));
const playbook = loadPlaybook(join(site, "playbooks/site.yml"), {});
const play = playbook.plays[0];

function tasks(items: Item[]): Task[] {
  return items.flatMap((i) => (i.kind === "task" ? [i] : tasks([...i.block, ...i.rescue, ...i.always])));
}
function named(name: string): Task {
  const t = tasks(play.items).find((x) => x.name === name);
  assert.ok(t, `task "${name}" not found`);
  return t;
}

describe("plays", () => {
  test("play keywords and vars_files with a templated name", () => {
    assert.equal(play.name, "Configure the cluster");
    assert.equal(play.hosts, "pis");
    assert.equal(play.become, true);
    assert.equal(play.gatherFacts, false);
    assert.deepEqual(play.vars, { env: "lab" });
    assert.deepEqual(play.varsFiles, { lab_var: 42 });
    assert.deepEqual(play.tags, ["base"]);
    assert.equal(play.baseDir, join(site, "playbooks"));
  });

  test("extra vars win over play vars in templated vars_files names", () => {
    assert.throws(
      () => loadPlaybook(join(site, "playbooks/site.yml"), { extraVars: { env: "prod" } }),
      (e: Error) => /site\.yml:10:7: vars_files "vars\/prod\.yml" not found/.test((e as UserError).format()),
    );
  });

  test("gather_facts defaults to true; play name defaults to the hosts pattern", () => {
    const pb = loadPlaybook(join(site, "playbooks/minimal.yml"));
    assert.equal(pb.plays[0].gatherFacts, true);
    assert.equal(pb.plays[0].name, "all");
  });

  test("sections in order with implicit flush_handlers between them", () => {
    const top = play.items.map((i) => (i.kind === "task" ? `${i.module}${i.implicit ? "*" : ""}` : `block:${i.origin}:${i.role?.name ?? ""}`));
    assert.deepEqual(top, [
      "debug",
      "meta*",
      "block:role:common",
      "block:role:ntp",
      "block:role:common",
      "command",
      "block:block:",
      "include_tasks",
      "debug",
      "meta*",
      "command",
    ]);
  });

  test("import_playbook inlines the other playbook's plays", () => {
    const pb = loadPlaybook(join(site, "playbooks/all.yml"));
    assert.deepEqual(pb.plays.map((p) => p.name), ["Configure the cluster", "all"]);
    assert.ok(pb.plays[1].tags.includes("imported"));
  });
});

describe("roles", () => {
  test("dependency first, deduplicated per play unless parameters differ", () => {
    const roleBlocks = play.items.filter((i): i is Block => i.kind === "block" && i.origin === "role");
    assert.deepEqual(roleBlocks.map((b) => [b.role?.name, b.vars ?? {}]), [
      ["common", {}],
      ["ntp", {}],
      ["common", { common_motd: "hi" }],
    ]);
    assert.deepEqual(play.roles.map((r) => r.name), ["common", "ntp"]);
  });

  test("role context: path, defaults, vars", () => {
    const ntp = play.roles.find((r) => r.name === "ntp")!;
    assert.equal(ntp.path, join(site, "roles/ntp"));
    assert.deepEqual(ntp.defaults, { ntp_servers: ["a", "b"] });
    const common = play.roles.find((r) => r.name === "common")!;
    assert.deepEqual(common.vars, { common_x: 1 });
  });

  test("a role task carries play and entry tags; its roles' names are roleTags, not tags (Ansible lists none)", () => {
    const t = named("Ensure NTP server is set");
    assert.deepEqual(t.tags, ["base"]);
    assert.deepEqual(t.roleTags, ["ntp"]);
    assert.equal(t.role?.name, "ntp");
    const viaMotd = tasks(play.items).filter((x) => x.name === "Common task");
    assert.deepEqual(viaMotd.map((x) => x.tags), [["base"], ["base", "motd"]]);
    assert.deepEqual(viaMotd.map((x) => x.roleTags), [["ntp", "common"], ["common"]]);
  });

  test("an include_role task carries the included role's name as a role tag (so --tags <role> reaches it)", () => {
    const dir = mkdtempSync(join(site, "tmp-"));
    try {
      writeFileSync(join(dir, "inc.yml"), "- hosts: all\n  tasks:\n    - ansible.builtin.include_role: {name: ntp}\n      tags: [x]\n    - include_role: {name: '{{ r }}'}\n");
      const [fixed, templated] = loadPlaybook(join(dir, "inc.yml")).plays[0].items as Task[];
      assert.deepEqual(fixed.tags, ["x"]);
      assert.deepEqual(fixed.roleTags, ["ntp"]);
      assert.deepEqual(templated.tags ?? [], []);
      assert.deepEqual(templated.roleTags ?? [], []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("import_role inside a role: a block of the imported role, tasks_from honoured", () => {
    const t = named("Common extra");
    assert.equal(t.module, "raw");
    assert.equal(t.role?.name, "common");
    assert.deepEqual(t.tags, ["base"]);
    assert.deepEqual(t.roleTags, ["ntp", "common"]);
  });

  test("role handlers join the play's handlers (before the play's own)", () => {
    assert.deepEqual(play.handlers.map((h) => h.name), ["Restart ntp", "Restart thing"]);
    assert.equal(play.handlers[0].role?.name, "ntp");
    assert.deepEqual(play.handlers[1].listen, ["thing changed"]);
    assert.deepEqual(named("Ensure NTP server is set").notify, ["Restart ntp"]);
  });

  test("loadRole returns the role's items and handlers", () => {
    const r = loadRole("ntp", { baseDir: join(site, "playbooks") });
    assert.equal(r.role.name, "ntp");
    assert.equal(r.items[0].kind, "task");
    assert.deepEqual(r.items[0].tags, []);
    assert.deepEqual(r.items[0].roleTags, ["ntp"]);
    assert.deepEqual(r.handlers.map((h) => h.name), ["Restart ntp"]);
  });

  test("loadIncludedRole (run time): dependencies then the role, handlers on the block", () => {
    const from = named("Ensure NTP server is set");
    const items = loadIncludedRole("ntp", from);
    const blocks = items as Block[];
    assert.deepEqual(blocks.map((b) => [b.origin, b.role?.name]), [["role", "common"], ["include_role", "ntp"]]);
    assert.deepEqual(blocks[1].handlers?.map((h) => h.name), ["Restart ntp"]);
  });
});

describe("tasks", () => {
  test("free-form command with k=v options taken out", () => {
    const t = named("List files");
    assert.equal(t.module, "command");
    assert.equal(t.args._raw_params, "ls -l");
    assert.equal(t.args.chdir, "/tmp");
    assert.equal(t.register, "listing");
    assert.deepEqual(t.changedWhen, [false]);
  });

  test("with_items is flattened one level into loop", () => {
    assert.deepEqual(named("List files").loop, ["a", "b", "c"]);
    assert.equal(named("List files").loopFrom, undefined);
  });

  test("with_dict becomes a list of key/value items", () => {
    assert.deepEqual(named("Dict loop").loop, [{ key: "a", value: 1 }, { key: "b", value: 2 }]);
  });

  test("debug k=v with a quoted value", () => {
    assert.deepEqual(named("Say hello").args, { msg: "hello world", verbosity: 1 });
  });

  test("FQCNs resolve to the short module name", () => {
    assert.equal(named("Inner shell").module, "shell");
    assert.equal(named("Extra task").module, "command");
  });

  test("local_action delegates to localhost", () => {
    const t = named("Done");
    assert.equal(t.module, "command");
    assert.equal(t.delegateTo, "localhost");
  });

  test("blocks: keywords on the block, tags flattened into every child, rescue/always kept", () => {
    const block = play.items.find((i): i is Block => i.kind === "block" && i.origin === "block")!;
    assert.deepEqual(block.tags, ["base", "blocky"]);
    assert.equal(block.block.length, 1);
    assert.equal((block.rescue[0] as Task).name, "Recover");
    assert.deepEqual((block.block[0] as Task).when, ["listing is defined"]);
    const imported = block.always[0] as Block;
    assert.equal(imported.origin, "import_tasks");
    assert.deepEqual((imported.block[0] as Task).tags, ["base", "blocky", "extra"]);
  });

  test("include_tasks stays a task for the executor; import_tasks is expanded", () => {
    const inc = tasks(play.items).find((t) => t.module === "include_tasks")!;
    assert.deepEqual(inc.args, { file: "tasks/extra.yml" });
    assert.equal(tasks(play.items).some((t) => t.module === "import_tasks"), false);
  });

  test("positions: where is the task mapping", () => {
    const t = named("List files");
    assert.equal(t.where.file, join(site, "playbooks/site.yml"));
    assert.equal(t.where.line, 21);
    assert.equal(t.where.col, 7);
  });

  test("loadIncludedTasks resolves relative to the including file and inherits tags", () => {
    const inc = tasks(play.items).find((t) => t.module === "include_tasks")!;
    const items = loadIncludedTasks("tasks/extra.yml", inc);
    assert.equal(items.length, 1);
    assert.equal((items[0] as Task).name, "Extra task");
    assert.deepEqual(items[0].tags, ["base"]);
  });

  test("include_tasks apply: keywords wrap the included tasks, apply tags are inherited", () => {
    const inc = tasks(play.items).find((t) => t.module === "include_tasks")!;
    const items = loadIncludedTasks("tasks/extra.yml", { ...inc, args: { file: "tasks/extra.yml", apply: { become: true, tags: ["deploy"] } } });
    assert.equal(items.length, 1);
    const block = items[0] as Block;
    assert.equal(block.kind, "block");
    assert.equal(block.become, true);
    assert.deepEqual(block.block[0].tags, ["base", "deploy"]);
  });

  test("loadTaskFile wraps items in a block when keywords other than tags are inherited", () => {
    const file = join(site, "playbooks/tasks/extra.yml");
    const plain = loadTaskFile(file, { baseDir: site, inherited: { tags: ["x"] } });
    assert.equal(plain[0].kind, "task");
    assert.deepEqual(plain[0].tags, ["x"]);
    const wrapped = loadTaskFile(file, { baseDir: site, inherited: { tags: [], when: ["a"] } });
    assert.equal(wrapped[0].kind, "block");
    assert.deepEqual((wrapped[0] as Block).when, ["a"]);
  });
});

describe("one-line arguments and loops", () => {
  const pb = loadPlaybook(join(site, "playbooks/forms.yml"));
  const all = tasks(pb.plays[0].items);
  const t = (name: string) => all.find((x) => x.name === name)!;

  test("apt k=v with coercion (yes -> true, numbers)", () => {
    assert.deepEqual(t("apt k=v").args, { name: "vim", state: "latest", update_cache: true, cache_valid_time: 3600 });
  });
  test("quoted values keep spaces and inner quotes", () => {
    assert.deepEqual(t("quoted").args, { msg: 'say "hi" to me', verbosity: 0 });
  });
  test("shell keeps a multi-line script verbatim", () => {
    assert.equal(t("script").args._raw_params, "echo one\necho two | tr a-z A-Z");
  });
  test("args: keyword merges under inline arguments", () => {
    assert.deepEqual({ raw: t("with args").args._raw_params, creates: t("with args").args.creates }, { raw: "touch /x", creates: "/x" });
  });
  test("templated values are not type-checked at load time", () => {
    assert.equal(t("templated").args.update_cache, "{{ refresh }}");
  });
  test("with_items given a template keeps loopFrom for the executor", () => {
    assert.equal(t("templated loop").loop, "{{ packages }}");
    assert.equal(t("templated loop").loopFrom, "with_items");
  });
  test("with_dict given a template uses dict2items", () => {
    assert.equal(t("templated dict").loop, "{{ (users) | dict2items }}");
  });
  test("ansible.posix.sysctl alias and loop_control", () => {
    assert.equal(t("sysctl").module, "sysctl");
    assert.deepEqual(t("sysctl").loopControl, { loopVar: "setting", label: "{{ setting.name }}" });
  });
  test("set_fact k=v, meta free form, include_role keeps its name", () => {
    assert.deepEqual(t("facts").args, { a: "1", b: "two words", cacheable: false });
    assert.deepEqual(t("flush").args, { _raw_params: "flush_handlers" });
    assert.equal(t("dyn role").module, "include_role");
    assert.equal(t("dyn role").args.name, "ntp");
  });
  test("keywords: when list, retries/until, notify string, no_log", () => {
    const k = t("keywords");
    assert.deepEqual(k.when, ["a", "b"]);
    assert.deepEqual(k.until, ["r.rc == 0"]);
    assert.equal(k.retries, 5);
    assert.equal(k.delay, 2);
    assert.deepEqual(k.notify, ["h1"]);
    assert.equal(k.noLog, true);
    assert.equal(k.ignoreErrors, true);
    assert.deepEqual(k.tags, ["t1", "t2"]);
  });
});

describe("setup and gather_facts as tasks", () => {
  test("load as controller actions (gather again); unknown options are refused", () => {
    const dir = mkdtempSync(join(tmpdir(), "pi-setup-"));
    try {
      const file = join(dir, "play.yml");
      writeFileSync(file, "- hosts: all\n  tasks:\n    - name: Again\n      ansible.builtin.setup: {}\n    - name: Subset\n      gather_facts:\n        gather_subset: [mounts]\n");
      const loaded = tasks(loadPlaybook(file, {}).plays[0].items);
      assert.deepEqual(loaded.map((t) => [t.name, t.module]), [["Again", "setup"], ["Subset", "gather_facts"]]);
      writeFileSync(file, "- hosts: all\n  tasks:\n    - ansible.builtin.setup:\n        gather_everything: yes\n");
      assert.throws(() => loadPlaybook(file, {}), /gather_everything/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
