/**
 * `apt-down`: the node's package source is unreachable: an nftables table in the node's
 * network namespace refuses (TCP reset) its connections to the lab's apt proxy, so apt fails
 * at once with "connection refused" instead of waiting. Heal deletes that table.
 */
import { UserError, ExitCode } from "../../errors.ts";
import { run } from "../exec.ts";
import { which } from "../preflight.ts";
import { APT_PROXY_PORT } from "../apt-proxy.ts";
import type { FaultHandler } from "./types.ts";

const TABLE = "lab_fault";

function nft(netns: string, args: string[], input?: string) {
  if (!which("nft")) throw new UserError("apt-down needs nft on this machine", { hint: "apt-get install nftables", exitCode: ExitCode.error });
  return run(["nsenter", `--net=/run/netns/${netns}`, "--", "nft", ...args], { check: false, input });
}

export const aptDown: FaultHandler<"apt-down"> = {
  async inject({ node, state }) {
    const rules = [
      `table inet ${TABLE} {`,
      `  chain output {`,
      `    type filter hook output priority 0; policy accept;`,
      `    ip daddr ${state.bridgeAddress} tcp dport ${APT_PROXY_PORT} reject with tcp reset`,
      `  }`,
      `}`,
      "",
    ].join("\n");
    const r = await nft(node.netns, ["-f", "-"], rules);
    if (r.code !== 0) throw new Error(`${node.name}: nft refused the rule: ${r.stderr.trim()}`);
    return { record: { kind: "apt-down", table: TABLE }, said: `${node.name} cannot reach its apt proxy (${state.bridgeAddress}:${APT_PROXY_PORT}): connections refused` };
  },
  async heal({ node }, record) {
    const r = await nft(node.netns, ["delete", "table", "inet", record.table]);
    if (r.code !== 0 && !/No such file/.test(r.stderr)) throw new Error(`${node.name}: nft could not delete table ${record.table}: ${r.stderr.trim()}`);
    return `${node.name} reaches its apt proxy again`;
  },
};
