/** ansible-playbook's flags, parsed; bad flags and combinations are UsageErrors (exit 5). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCliArgs, UsageError } from "../../../scripts/lib/cli/args.ts";

test("playbook, repeated lists, short clusters, =values, verbosity count", () => {
  const o = parseCliArgs(["site.yml", "-i", "a.yml", "--inventory=b.yml", "-t", "ntp,k3s", "--tags", "x", "--skip-tags", "slow", "-bCD", "-vvv", "-e", "a=1", "-e@vars.yml", "-f", "10", "-l", "pi-1", "--limit", "pi-2"]);
  assert.deepEqual(o.playbooks, ["site.yml"]);
  assert.deepEqual(o.inventory, ["a.yml", "b.yml"]);
  assert.deepEqual(o.tags, ["ntp,k3s", "x"]);
  assert.deepEqual(o.skipTags, ["slow"]);
  assert.equal(o.become, true);
  assert.equal(o.check, true);
  assert.equal(o.diff, true);
  assert.equal(o.verbosity, 3);
  assert.deepEqual(o.extraVars, ["a=1", "@vars.yml"]);
  assert.equal(o.forks, 10);
  assert.equal(o.limit, "pi-1:pi-2");
});

test("defaults", () => {
  const o = parseCliArgs(["site.yml"]);
  assert.equal(o.forks, 50);
  assert.equal(o.verbosity, 0);
  assert.equal(o.check, false);
  assert.deepEqual(o.inventory, []);
});

test("long options with values and the rest", () => {
  const o = parseCliArgs(["--private-key", "k", "-u", "pi", "-c", "local", "--json", "r.json", "--start-at-task", "Install k3s", "--accept-new-host-keys", "-K", "p.yml"]);
  assert.equal(o.privateKey, "k");
  assert.equal(o.user, "pi");
  assert.equal(o.connection, "local");
  assert.equal(o.json, "r.json");
  assert.equal(o.startAtTask, "Install k3s");
  assert.equal(o.acceptNewHostKeys, true);
  assert.equal(o.askBecomePass, true);
});

const bad: Array<[string[], RegExp]> = [
  [[], /no playbook given/],
  [["p.yml", "--tagz", "x"], /unknown option --tagz; did you mean --tags\?/],
  [["p.yml", "-Z"], /unknown option -Z/],
  [["p.yml", "-f", "0"], /--forks must be a positive whole number/],
  [["p.yml", "-f", "many"], /--forks must be a positive whole number/],
  [["p.yml", "-i"], /-i needs a value/],
  [["p.yml", "--check=yes"], /--check takes no value/],
  [["p.yml", "-c", "winrm"], /--connection must be ssh or local/],
  [["p.yml", "--step", "--list-tasks"], /--step cannot be combined/],
  [["p.yml", "--limit", ""], /--limit is empty/],
  [["p.yml", "--tags", ","], /--tags needs at least one tag name/],
];
for (const [argv, message] of bad) {
  test(`rejects ${JSON.stringify(argv)}`, () => {
    assert.throws(
      () => parseCliArgs(argv),
      (e: unknown) => e instanceof UsageError && e.exitCode === 5 && message.test(e.message),
    );
  });
}

test("--help and --version need no playbook", () => {
  assert.equal(parseCliArgs(["--help"]).help, true);
  assert.equal(parseCliArgs(["--version"]).version, true);
});
