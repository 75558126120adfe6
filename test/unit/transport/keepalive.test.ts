/**
 * How long the runner waits for a host that stopped answering: OpenSSH's ServerAliveInterval
 * and ServerAliveCountMax, from the ssh arguments (ansible_ssh_common_args...), then ssh config,
 * then the defaults (15 s x 3).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connectionSettingsFromVars, resolveSshOptions, DEFAULT_SERVER_ALIVE_COUNT_MAX, DEFAULT_SERVER_ALIVE_INTERVAL_S } from "../../../scripts/lib/transport/connect.ts";
import { SshConfig } from "../../../scripts/lib/transport/ssh-config.ts";
import { UserError } from "../../../scripts/lib/errors.ts";

const config = SshConfig.parse(`
Host pi-*
  ServerAliveInterval 5
  ServerAliveCountMax 4
Host *
  ServerAliveCountMax nonsense
`);

function resolve(vars: Record<string, unknown>) {
  const o = resolveSshOptions("n", { ...connectionSettingsFromVars("n", vars), agentSocket: "" }, config);
  return [o.keepaliveIntervalMs, o.keepaliveCountMax];
}

test("defaults: 15 s x 3", () => {
  assert.deepEqual([DEFAULT_SERVER_ALIVE_INTERVAL_S, DEFAULT_SERVER_ALIVE_COUNT_MAX], [15, 3]);
  assert.deepEqual(resolve({ ansible_host: "other" }), [15_000, 3]);
});

test("ssh config's ServerAliveInterval/CountMax for the host", () => {
  assert.deepEqual(resolve({ ansible_host: "pi-1" }), [5000, 4]);
});

test("the ssh arguments win over ssh config, -o Key=Value and -o 'Key Value' alike; 0 turns keepalives off as in OpenSSH", () => {
  assert.deepEqual(resolve({ ansible_host: "pi-1", ansible_ssh_common_args: "-o ServerAliveInterval=2 -o 'ServerAliveCountMax 1'" }), [2000, 1]);
  assert.deepEqual(resolve({ ansible_host: "pi-1", ansible_ssh_extra_args: "-oServerAliveInterval=0" }), [0, 4]);
});

test("a value that is not a whole number is named, with the host", () => {
  assert.throws(
    () => resolve({ ansible_host: "pi-1", ansible_ssh_common_args: "-o ServerAliveInterval=5s" }),
    (e: Error) => e instanceof UserError && /host n: ServerAliveInterval "5s" in the ssh arguments is not a whole number/.test(e.message),
  );
});
