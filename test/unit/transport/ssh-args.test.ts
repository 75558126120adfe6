import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { parseSshArgs, shellWords } from "../../../scripts/lib/transport/ssh-args.ts";
import { connectionSettingsFromVars } from "../../../scripts/lib/transport/connect.ts";

describe("ssh args", () => {
  test("shell words with quotes", () => {
    assert.deepEqual(shellWords(`-o 'ProxyCommand=ssh -W %h:%p jump' -o "A=b c" x\\ y`), ["-o", "ProxyCommand=ssh -W %h:%p jump", "-o", "A=b c", "x y"]);
  });

  test("-o forms, -i, -p, -l, -J, -F; first wins; unknown flags skipped with their values", () => {
    const a = parseSshArgs(`-C -q -o StrictHostKeyChecking=no -oUserKnownHostsFile=/dev/null -o "ConnectTimeout 5" -o StrictHostKeyChecking=yes -i ~/.ssh/k1 -ik2 -p 2200 -l pi -J pi@master -F /tmp/cfg -c aes128-ctr -o ServerAliveInterval=30`);
    assert.equal(a.options.get("stricthostkeychecking"), "no");
    assert.equal(a.options.get("connecttimeout"), "5");
    assert.equal(a.options.get("serveraliveinterval"), "30");
    assert.deepEqual(a.knownHostsFiles, ["/dev/null"]);
    assert.deepEqual(a.identityFiles, ["~/.ssh/k1", "k2"]);
    assert.equal(a.port, 2200);
    assert.equal(a.user, "pi");
    assert.equal(a.jump, "pi@master");
    assert.equal(a.configFile, "/tmp/cfg");
  });

  test("-o Port / User / ProxyJump work like the flags", () => {
    const a = parseSshArgs("-o Port=2222 -o User=admin -o ProxyJump=bastion");
    assert.equal(a.port, 2222);
    assert.equal(a.user, "admin");
    assert.equal(a.jump, "bastion");
  });

  test("bad port is an error", () => {
    assert.throws(() => parseSshArgs("-p notaport"), /invalid port/);
  });
});

describe("connectionSettingsFromVars", () => {
  test("reads Ansible's connection variables", () => {
    const s = connectionSettingsFromVars("pi1", {
      ansible_host: "10.0.0.5",
      ansible_port: "2222",
      ansible_user: "pi",
      ansible_ssh_private_key_file: "~/.ssh/pi_key",
      ansible_ssh_pass: "pw",
      ansible_ssh_common_args: "-o StrictHostKeyChecking=no",
      ansible_ssh_extra_args: "-J master",
      ansible_ssh_host_key_checking: false,
      ansible_timeout: 3,
    });
    assert.equal(s.connection, "ssh");
    assert.equal(s.address, "10.0.0.5");
    assert.equal(s.port, 2222);
    assert.equal(s.user, "pi");
    assert.match(s.privateKeyFile!, /^\/.*\/\.ssh\/pi_key$/);
    assert.equal(s.password, "pw");
    assert.equal(s.sshArgs, "-o StrictHostKeyChecking=no -J master");
    assert.equal(s.strictHostKeyChecking, false);
    assert.equal(s.connectTimeoutMs, 3000);
    assert.equal(s.acceptNewHostKeys, false);
    assert.match(s.knownHostsFiles[0], /\.ssh\/known_hosts$/);
  });

  test("defaults and CLI overrides", () => {
    const s = connectionSettingsFromVars("pi2", {}, { user: "root", privateKeyFile: "/k/cli", acceptNewHostKeys: true, connection: "local" });
    assert.equal(s.address, "pi2");
    assert.equal(s.port, undefined);
    assert.equal(s.user, "root");
    assert.equal(s.privateKeyFile, "/k/cli");
    assert.equal(s.connection, "local");
    assert.equal(s.acceptNewHostKeys, true);
    assert.equal(s.strictHostKeyChecking, true);
    assert.equal(s.connectTimeoutMs, 10_000);
  });

  test("-c gives way to the inventory's ansible_connection (variables beat the command line)", () => {
    assert.equal(connectionSettingsFromVars("pi2", { ansible_connection: "ssh" }, { connection: "local" }).connection, "ssh");
    assert.equal(connectionSettingsFromVars("pi2", { ansible_connection: "local" }, { connection: "ssh" }).connection, "local");
  });

  test("-u and --private-key give way to ansible_user / ansible_ssh_private_key_file (as Ansible: variables beat the command line)", () => {
    const s = connectionSettingsFromVars("pi2", { ansible_user: "pi", ansible_ssh_private_key_file: "/k/inv" }, { user: "root", privateKeyFile: "/k/cli" });
    assert.equal(s.user, "pi");
    assert.equal(s.privateKeyFile, "/k/inv");
  });

  test("bad values are user errors naming the host", () => {
    assert.throws(() => connectionSettingsFromVars("pi3", { ansible_port: "x" }), /pi3: ansible_port "x" is not a port number/);
    assert.throws(() => connectionSettingsFromVars("pi3", { ansible_connection: "winrm" }), /pi3: ansible_connection "winrm" is not supported/);
  });
});
