import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { homedir } from "node:os";
import { join } from "node:path";
import { connectionSettingsFromVars, createTransport, resolveSshOptions } from "../../../scripts/lib/transport/connect.ts";
import { SshConfig } from "../../../scripts/lib/transport/ssh-config.ts";
import { LocalTransport } from "../../../scripts/lib/transport/local.ts";
import { SshTransport } from "../../../scripts/lib/transport/ssh.ts";
import { UserError } from "../../../scripts/lib/errors.ts";

const config = SshConfig.parse(`
Host master
  HostName 192.168.1.10
  User pi
  Port 2200
Host node*
  User pi
  ProxyJump master
  IdentityFile ~/.ssh/cluster
`);

function settings(vars: Record<string, unknown>) {
  return { ...connectionSettingsFromVars("n", vars), agentSocket: "" };
}

describe("resolveSshOptions", () => {
  test("ssh config fills what the inventory leaves out", () => {
    const o = resolveSshOptions("master", settings({ ansible_host: "master" }), config);
    assert.equal(o.address, "192.168.1.10");
    assert.equal(o.port, 2200);
    assert.equal(o.user, "pi");
    assert.equal(o.jump, undefined);
  });

  test("inventory variables win over ssh args, which win over ssh config", () => {
    const o = resolveSshOptions("master", settings({ ansible_host: "master", ansible_port: 22, ansible_user: "root", ansible_ssh_common_args: "-p 2300 -l admin" }), config);
    assert.equal(o.port, 22);
    assert.equal(o.user, "root");
    const a = resolveSshOptions("master", settings({ ansible_host: "master", ansible_ssh_common_args: "-p 2300 -l admin" }), config);
    assert.equal(a.port, 2300);
    assert.equal(a.user, "admin");
  });

  test("ProxyJump from config; the jump host resolved through config too", () => {
    const o = resolveSshOptions("node1", settings({ ansible_host: "node1", ansible_ssh_private_key_file: "/k/pi" }), config);
    assert.equal(o.address, "node1");
    assert.deepEqual(o.requiredKeyFiles, ["/k/pi"]);
    assert.equal(o.keyFiles![0], join(homedir(), ".ssh/cluster"));
    assert.ok(o.jump);
    assert.equal(o.jump!.address, "192.168.1.10");
    assert.equal(o.jump!.port, 2200);
    assert.equal(o.jump!.user, "pi");
    assert.equal(o.jump!.password, undefined, "the target's password is not sent to the jump host");
    assert.ok(o.jump!.keyFiles!.includes("/k/pi"), "the jump host may use the target's key");
  });

  test("-J a,b: the target through b, b through a", () => {
    const o = resolveSshOptions("x", settings({ ansible_host: "10.0.0.5", ansible_ssh_extra_args: "-J root@hop1:2201,hop2" }), SshConfig.parse(""));
    assert.equal(o.jump!.address, "hop2");
    assert.equal(o.jump!.jump!.address, "hop1");
    assert.equal(o.jump!.jump!.port, 2201);
    assert.equal(o.jump!.jump!.user, "root");
  });
});

describe("options that would send the connection elsewhere are refused, never ignored", () => {
  const refused = (f: () => unknown, source: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof UserError && source.test(e.message) && /is not supported: the runner does not run local commands to reach a host, and will not connect directly instead/.test(e.message) && /ProxyJump/.test(e.hint ?? ""));
  const empty = SshConfig.parse("");

  test("-o ProxyCommand in ansible_ssh_common_args, ansible_ssh_extra_args or ansible_ssh_args", () => {
    for (const variable of ["ansible_ssh_common_args", "ansible_ssh_extra_args", "ansible_ssh_args"]) {
      refused(() => resolveSshOptions("n", settings({ ansible_host: "10.0.0.5", [variable]: `-o "ProxyCommand=ssh -W %h:%p bastion"` }), empty), /^host n: -o ProxyCommand in the ssh arguments \("ssh -W %h:%p bastion"\)/);
    }
    refused(() => resolveSshOptions("n", settings({ ansible_host: "10.0.0.5", ansible_ssh_common_args: "-oProxyCommand='nc %h %p'" }), empty), /ProxyCommand in the ssh arguments \("nc %h %p"\)/);
    refused(() => resolveSshOptions("n", settings({ ansible_host: "10.0.0.5", ansible_ssh_common_args: "-W 10.0.0.9:22" }), empty), /-W in the ssh arguments/);
    refused(() => connectionSettingsFromVars("n", { ansible_paramiko_proxy_command: "ssh -W %h:%p bastion" }), /ansible_paramiko_proxy_command/);
  });

  test("ProxyCommand in ssh config, for the target or a jump host", () => {
    const cfg = SshConfig.parse("Host node*\n  ProxyCommand ssh -W %h:%p bastion\nHost hop\n  ProxyCommand nc %h %p\n");
    refused(() => resolveSshOptions("n", settings({ ansible_host: "node1" }), cfg), /^host n: ProxyCommand in ssh config for node1 \("ssh -W %h:%p bastion"\)/);
    refused(() => resolveSshOptions("x", settings({ ansible_host: "10.0.0.5", ansible_ssh_common_args: "-J hop" }), cfg), /^host hop: ProxyCommand in ssh config for hop/);
  });

  test("ProxyCommand none, or a ProxyJump in the arguments (which comes first, as in ssh), is fine", () => {
    const cfg = SshConfig.parse("Host node*\n  ProxyCommand ssh -W %h:%p bastion\n");
    assert.equal(resolveSshOptions("n", settings({ ansible_host: "node1", ansible_ssh_common_args: "-o ProxyCommand=none" }), cfg).address, "node1");
    assert.equal(resolveSshOptions("n", settings({ ansible_host: "node1", ansible_ssh_common_args: "-J master" }), cfg).jump?.address, "master");
    assert.equal(resolveSshOptions("n", settings({ ansible_host: "node1" }), SshConfig.parse("Host *\n  ProxyCommand none\n")).jump, undefined);
  });

  test("-o HostName and -o Port in the arguments are followed, not ignored", () => {
    const o = resolveSshOptions("n", settings({ ansible_host: "alias", ansible_ssh_args: "-C -o ControlMaster=auto -o HostName=10.0.0.7 -o Port=2201" }), empty);
    assert.equal(o.address, "10.0.0.7");
    assert.equal(o.port, 2201);
  });
});

describe("createTransport", () => {
  test("local and ssh", () => {
    assert.ok(createTransport("h", { ...settings({}), connection: "local" }) instanceof LocalTransport);
    assert.ok(createTransport("h", { ...settings({}), useSshConfig: false }) instanceof SshTransport);
  });
});
