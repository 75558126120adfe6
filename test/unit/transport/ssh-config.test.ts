import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { homedir } from "node:os";
import { join } from "node:path";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { UserError } from "../../../scripts/lib/errors.ts";
import { SshConfig, hostPatternsMatch, parseJump, wildcardMatch } from "../../../scripts/lib/transport/ssh-config.ts";

const config = SshConfig.parse(`
# global first lines apply to all hosts
ConnectTimeout 7

Host master
  HostName 192.168.1.10
  User pi
  IdentityFile ~/.ssh/cluster_%h_%r

Host node? !node9
  ProxyJump master
  User pi
  Port 2222

Host node*
  User ignored-because-first-wins
  Port 9999
  UserKnownHostsFile ~/.ssh/cluster_known_hosts
  StrictHostKeyChecking accept-new

Match host foo
  User matchuser

Host *
  User=fallback
  IdentityFile "~/.ssh/id_default"
  HashKnownHosts yes
`);

describe("ssh config", () => {
  test("wildcards and negation", () => {
    assert.ok(wildcardMatch("node?", "node1"));
    assert.ok(!wildcardMatch("node?", "node10"));
    assert.ok(wildcardMatch("*.lan", "a.b.lan"));
    assert.ok(hostPatternsMatch(["node*", "!node9"], "node1"));
    assert.ok(!hostPatternsMatch(["node*", "!node9"], "node9"));
    assert.ok(!hostPatternsMatch(["!node9"], "node1"), "a negation alone matches nothing");
  });

  test("first match wins per option; IdentityFile accumulates with tokens", () => {
    const master = config.resolve("master");
    assert.equal(master.hostname, "192.168.1.10");
    assert.equal(master.user, "pi");
    assert.equal(master.connectTimeout, 7);
    assert.deepEqual(master.identityFile, [join(homedir(), ".ssh/cluster_192.168.1.10_pi"), join(homedir(), ".ssh/id_default")]);
    assert.equal(master.proxyJump, undefined);
    assert.equal(master.hashKnownHosts, true);
  });

  test("negated host skips the block", () => {
    const n1 = config.resolve("node1");
    assert.equal(n1.user, "pi");
    assert.equal(n1.port, 2222);
    assert.equal(n1.proxyJump, "master");
    assert.deepEqual(n1.userKnownHostsFile, [join(homedir(), ".ssh/cluster_known_hosts")]);
    assert.equal(n1.strictHostKeyChecking, "accept-new");
    const n9 = config.resolve("node9");
    assert.equal(n9.user, "ignored-because-first-wins");
    assert.equal(n9.port, 9999);
    assert.equal(n9.proxyJump, undefined);
  });

  test("Match host applies as in ssh (first value wins over the * block after it); unknown hosts get the * block", () => {
    const foo = config.resolve("foo");
    assert.equal(foo.user, "matchuser");
    assert.equal(foo.hostname, undefined);
    assert.equal(config.resolve("bar").user, "fallback");
  });

  test("ProxyJump values", () => {
    assert.deepEqual(parseJump("pi@master:2222"), { user: "pi", host: "master", port: 2222 });
    assert.deepEqual(parseJump("master"), { user: undefined, host: "master", port: undefined });
    assert.deepEqual(parseJump("[fe80::1]:22"), { user: undefined, host: "fe80::1", port: 22 });
    assert.deepEqual(parseJump("ssh://root@jump"), { user: "root", host: "jump", port: undefined });
  });
});

describe("Include", () => {
  test("included files are read in place: a HostName or ProxyJump there is not missed", () => {
    const dir = mkdtempSync(join(tmpdir(), "ssh-include-"));
    try {
      mkdirSync(join(dir, "conf.d"));
      writeFileSync(join(dir, "conf.d", "20-nodes.conf"), "Host node1\n  HostName 10.0.0.21\n  ProxyJump bastion\n");
      writeFileSync(join(dir, "conf.d", "10-master.conf"), "Host master\n  HostName 10.0.0.10\n");
      writeFileSync(join(dir, "conf.d", "notes.txt"), "Host node1\n  HostName 10.9.9.9\n");
      writeFileSync(join(dir, "user.conf"), "User pi\n");
      const config = SshConfig.parse([
        `Include ${join(dir, "conf.d", "*.conf")}`,
        "Host a",
        `  Include ${join(dir, "user.conf")}`,
        `  Include ${join(dir, "conf.d", "*.conf")}`,
        "  Port 2222",
        "Host b",
        "  Port 2200",
      ].join("\n"));
      assert.deepEqual(config.resolve("node1"), { hostname: "10.0.0.21", proxyJump: "bastion" });
      assert.equal(config.resolve("master").hostname, "10.0.0.10");
      // Inside a Host block the included lines apply to that block only, and the block goes on.
      assert.deepEqual(config.resolve("a"), { user: "pi", port: 2222 });
      assert.deepEqual(config.resolve("b"), { port: 2200 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("Match", () => {
  const config = SshConfig.parse([
    "Host node1",
    "  HostName 10.0.0.21",
    "Match host 10.0.0.*",
    "  User admin",
    "Match originalhost node1 !host 10.9.*",
    "  Port 2201",
    "Match exec \"test -e /tmp/x\"",
    "  IdentityFile ~/.ssh/other",
    "Match canonical",
    "  Port 1",
  ].join("\n"));

  test("host (after HostName), originalhost and negation are evaluated; exec without destination options is skipped", () => {
    assert.deepEqual(config.resolve("node1"), { hostname: "10.0.0.21", user: "admin", port: 2201 });
    assert.deepEqual(config.resolve("other"), {});
  });

  test("a Match block that cannot be evaluated and sets the destination is refused, not ignored", () => {
    const exec = SshConfig.parse("Match exec \"on-vpn\"\n  ProxyJump bastion\n");
    assert.throws(() => exec.resolve("node1"), (e: unknown) => e instanceof UserError && e.message === 'host node1: ~/.ssh/config has a "Match exec" block that sets proxyjump, which the runner cannot evaluate');
    // Not reached when an earlier criterion is already false.
    assert.deepEqual(SshConfig.parse("Match host other exec \"on-vpn\"\n  HostName 10.1.1.1\n").resolve("node1"), {});
  });
});
