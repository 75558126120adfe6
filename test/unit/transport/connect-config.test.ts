import { test } from "node:test";
import assert from "node:assert/strict";
import { connectionSettingsFromVars } from "../../../scripts/lib/transport/connect.ts";

test("ansible.cfg's host_key_checking and timeout apply below the host's variables", () => {
  const fromCfg = connectionSettingsFromVars("h", {}, { hostKeyChecking: false, timeout: 3 });
  assert.equal(fromCfg.strictHostKeyChecking, false);
  assert.equal(fromCfg.connectTimeoutMs, 3000);
  const vars = connectionSettingsFromVars("h", { ansible_host_key_checking: true, ansible_timeout: 7 }, { hostKeyChecking: false, timeout: 3 });
  assert.equal(vars.strictHostKeyChecking, true);
  assert.equal(vars.connectTimeoutMs, 7000);
  // The ssh connection's own variable, as ansible-core 2.11+.
  assert.equal(connectionSettingsFromVars("h", { ansible_ssh_timeout: 4 }, { timeout: 3 }).connectTimeoutMs, 4000);
  const none = connectionSettingsFromVars("h", {});
  assert.deepEqual([none.strictHostKeyChecking, none.connectTimeoutMs], [true, 10000]);
});

test("ansible.cfg's ssh_args, ssh_common_args and ssh_extra_args apply below the host's ansible_ssh_* variables", () => {
  const cfg = { sshArgs: "-o ServerAliveInterval=5", sshCommonArgs: "-o ServerAliveCountMax=2", sshExtraArgs: "-o ConnectTimeout=4" };
  assert.equal(connectionSettingsFromVars("h", {}, cfg).sshArgs, "-o ServerAliveInterval=5 -o ServerAliveCountMax=2 -o ConnectTimeout=4");
  // As Ansible: each variable replaces its own setting only.
  assert.equal(connectionSettingsFromVars("h", { ansible_ssh_common_args: "-o ServerAliveCountMax=9" }, cfg).sshArgs, "-o ServerAliveInterval=5 -o ServerAliveCountMax=9 -o ConnectTimeout=4");
  assert.equal(connectionSettingsFromVars("h", {}).sshArgs, undefined);
});
