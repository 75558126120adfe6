/**
 * The floor: what any SSH-based tool must at least pay. Per host, in parallel: one fresh SSH
 * connection (handshake + auth, plain OpenSSH `ssh` opening a ControlMaster), then `checks`
 * round trips of `true` over that same connection (`ssh -S` through the master, in a shell
 * loop), then the master is closed. Measured as wall time of the whole thing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { runCommand } from "./tools.ts";

/** Where the nodes are and how to log in. */
export interface FloorTarget {
  address: string;
  keyFile: string;
  knownHostsFile: string;
}

/** Wall time (ms) of a fresh connection per host plus `checks` round trips each. */
export async function measureFloor(targets: FloorTarget[], checks: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "bench-floor-"));
  try {
    const script = (t: FloorTarget, i: number) => {
      const sock = join(dir, `s${i}`);
      const opts = `-o BatchMode=yes -o IdentitiesOnly=yes -o UserKnownHostsFile=${t.knownHostsFile} -o StrictHostKeyChecking=yes -i ${t.keyFile} -S ${sock}`;
      return [
        `ssh ${opts} -o ControlMaster=yes -o ControlPersist=30 root@${t.address} true`,
        `i=0; while [ $i -lt ${checks} ]; do ssh ${opts} root@${t.address} true || exit 1; i=$((i+1)); done`,
        `ssh ${opts} -O exit root@${t.address} 2>/dev/null`,
      ].join(" && ");
    };
    const t0 = performance.now();
    await Promise.all(targets.map((t, i) => runCommand("sh", ["-c", script(t, i)], { cwd: dir })));
    return performance.now() - t0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
