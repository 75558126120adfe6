/**
 * `rekey`: the node gets new SSH host keys, as after a reflash: its old keys are deleted,
 * new ones generated, sshd restarted (open sessions stay, as with systemctl restart ssh).
 * The lab's known_hosts still holds the old keys, so clients must refuse the node. Heal is
 * what the user does after checking the fingerprint: the lab's known_hosts (and the node's
 * own file) get the new keys in place of the old; the keys themselves stay new.
 */
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../exec.ts";
import { hostKeys } from "../node.ts";
import { fingerprint } from "../../transport/known-hosts.ts";
import { nodeExecOk, requireInit } from "./in-node.ts";
import { waitUntilBack } from "./wait-back.ts";
import type { FaultHandler } from "./types.ts";
import type { NodeState } from "../state.ts";

/** `SHA256:...` of each public host key (`type base64` strings). */
export function keyFingerprints(keys: string[]): string[] {
  return keys.map((k) => fingerprint(Buffer.from(k.split(" ")[1] ?? "", "base64")));
}

/** Replaces the lines naming the node (by name or address) in a known_hosts file with its current keys. */
export function replaceKnownHosts(file: string, node: NodeState): void {
  const names = new Set([node.name, node.address]);
  const kept = existsSync(file)
    ? readFileSync(file, "utf8").split("\n").filter((line) => line.trim() !== "" && !line.split(/\s+/)[0].split(",").some((n) => names.has(n)))
    : [];
  const fresh = hostKeys(node.rootfs).map((key) => `${node.name},${node.address} ${key}`);
  writeFileSync(`${file}.tmp`, [...kept, ...fresh].join("\n") + "\n");
  renameSync(`${file}.tmp`, file);
}

export const rekey: FaultHandler<"rekey"> = {
  async inject({ node }) {
    const init = requireInit(node);
    const sshDir = join(node.rootfs, "etc/ssh");
    for (const f of readdirSync(sshDir)) if (f.startsWith("ssh_host_")) rmSync(join(sshDir, f), { force: true });
    await run(["ssh-keygen", "-q", "-A", "-f", node.rootfs]);
    await nodeExecOk(node, init, ["systemctl", "restart", "ssh.service"]);
    const fingerprints = keyFingerprints(hostKeys(node.rootfs));
    return { record: { kind: "rekey", fingerprints }, said: `${node.name} has new host keys (${fingerprints.join(", ")}); sshd restarted` };
  },
  async heal(ctx, record) {
    const { node, state } = ctx;
    replaceKnownHosts(state.knownHostsFile, node);
    replaceKnownHosts(join(node.dir, "known_hosts"), node);
    await waitUntilBack(ctx);
    return `the lab's known_hosts (${state.knownHostsFile}) now holds ${node.name}'s new keys (${record.fingerprints.join(", ")})`;
  },
};
