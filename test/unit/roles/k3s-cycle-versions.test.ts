/**
 * upgrade.yml's version refusals, from the role's own expression (roles/k3s-server/tasks/
 * cycle-check.yml, "Refuse a downgrade, ..."): release order major.minor.patch, an rc before
 * its release, k3sN revisions; one minor version at a time; the message names the node and
 * the way out. The lab (test/lab/upgrade.suite.ts) runs the same task on nodes.
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { Templar } from "../../../scripts/lib/template/templar.ts";

const file = resolve(dirname(fileURLToPath(import.meta.url)), "../../../roles/k3s-server/tasks/cycle-check.yml");
const task = (parse(readFileSync(file, "utf8")) as Array<Record<string, any>>).find((t) => t.name === "Refuse a downgrade, a skipped minor version and another major version");

/** The refusal for a node that runs `installed` (binary) and `running` (node object), "" when the upgrade may go on. */
function refusal(target: string, installed: string, running = installed): string {
  assert.ok(task, `the task is missing from ${file}`);
  const vars = { k3s_version: target, __k3s_cycle_installed: installed, __k3s_cycle_running: running, inventory_hostname: "pi-2" };
  return String(new Templar(vars).render(task.vars.__k3s_cycle_refusal)).trim();
}

describe("upgrade.yml's version check", () => {
  test("newer releases pass: patch, minor + 1, k3s revision, an rc's release; the same version passes", () => {
    for (const [from, to] of [
      ["v1.30.8+k3s1", "v1.30.9+k3s1"],
      ["v1.30.8+k3s1", "v1.31.4+k3s1"],
      ["v1.31.4+k3s1", "v1.31.4+k3s2"],
      ["v1.31.4-rc1+k3s1", "v1.31.4+k3s1"],
      ["v1.31.4-rc1+k3s1", "v1.31.4-rc2+k3s1"],
      ["v1.31.4+k3s1", "v1.31.4+k3s1"],
      ["v1.30.9+k3s1", "v1.31.0+k3s1"],
    ]) {
      assert.equal(refusal(to, from), "", `${from} -> ${to}`);
    }
  });

  test("a downgrade is refused with the node and the way out, also to an older rc or k3s revision", () => {
    assert.equal(
      refusal("v1.30.8+k3s1", "v1.31.4+k3s1"),
      "k3s_version v1.30.8+k3s1 is older than v1.31.4+k3s1, which pi-2 runs: k3s does not support downgrades (the datastore may already be migrated). " +
        "Set k3s_version to v1.31.4+k3s1 or newer; to go back, restore the datastore from a backup taken before the upgrade.",
    );
    assert.match(refusal("v1.31.4-rc1+k3s1", "v1.31.4+k3s1"), /is older than v1\.31\.4\+k3s1/);
    assert.match(refusal("v1.31.4+k3s1", "v1.31.4+k3s2"), /is older than v1\.31\.4\+k3s2/);
    assert.match(refusal("v1.31.10+k3s1", "v1.31.9+k3s1"), /^$/, "patch 10 is newer than 9 (numbers, not text)");
    // A binary replaced by hand but not yet running: the running version counts too.
    assert.match(refusal("v1.31.4+k3s1", "v1.31.4+k3s1", "v1.31.5+k3s1"), /is older than v1\.31\.5\+k3s1, which pi-2 runs/);
  });

  test("a skipped minor version and another major version are refused", () => {
    assert.equal(
      refusal("v1.31.4+k3s1", "v1.29.15+k3s1"),
      "k3s_version v1.31.4+k3s1 skips a minor version: pi-2 runs v1.29.15+k3s1. Kubernetes upgrades go one minor version at a time: " +
        "upgrade to the newest v1.30 release first, then to v1.31.4+k3s1.",
    );
    assert.match(refusal("v2.0.0+k3s1", "v1.31.4+k3s1"), /is another major version than v1\.31\.4\+k3s1/);
    assert.match(refusal("v1.31.4+k3s1", "1.31-custom"), /pi-2 runs k3s "1\.31-custom", which is not a k3s release name/);
  });
});

describe("upgrade.yml's settings check", () => {
  const settings = (parse(readFileSync(file, "utf8")) as Array<Record<string, any>>).find((t) => t.name === "Check the settings of the rolling {{ k3s_cycle_action }}");
  const defaults = parse(readFileSync(resolve(dirname(file), "../defaults/main.yml"), "utf8")) as Record<string, unknown>;
  /** The assert's verdict and message for these settings over the role's defaults. */
  function check(vars: Record<string, unknown>): { ok: boolean; msg: string } {
    assert.ok(settings, "the settings task is missing");
    const templar = new Templar({ ...defaults, k3s_cycle_action: "upgrade", ...vars });
    const args = settings["ansible.builtin.assert"];
    const ok = (args.that as string[]).every((c) => (templar.render(`{{ ${c} }}`) as unknown) === true);
    return { ok, msg: String(templar.render(args.fail_msg)).trim() };
  }

  test("the defaults pass; only kubectl drain's own options may reach its command line", () => {
    assert.equal(check({ k3s_version: "v1.31.4+k3s1" }).ok, true);
    assert.equal(check({ k3s_version: "v1.31.4+k3s1", k3s_drain_args: ["--force", "--grace-period=30", "--pod-selector=app!=db"] }).ok, true);
    const bad = check({ k3s_version: "v1.31.4+k3s1", k3s_drain_args: ["--ignore-daemonsets", "--kubeconfig=/tmp/x", "; reboot"] });
    assert.equal(bad.ok, false);
    assert.match(bad.msg, /^k3s_drain_args has "--kubeconfig=\/tmp\/x", "; reboot": use only kubectl drain's --ignore-daemonsets/);
    const version = check({ k3s_version: "1.31" });
    assert.equal(version.ok, false);
    assert.match(version.msg, /^k3s_version "1\.31" is not a k3s release name/);
    assert.equal(check({ k3s_version: "v1.31.4+k3s1", k3s_drain_timeout: "5m" }).ok, false);
  });
});
