import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { homedir } from "node:os";
import { join } from "node:path";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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

  test("Match blocks are skipped; unknown hosts get the * block", () => {
    const foo = config.resolve("foo");
    assert.equal(foo.user, "fallback");
    assert.equal(foo.hostname, undefined);
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
