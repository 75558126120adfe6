import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { homedir } from "node:os";
import { join } from "node:path";
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
