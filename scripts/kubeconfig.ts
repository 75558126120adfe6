/**
 * Puts the k3s cluster into your kubeconfig as one named context, leaving every other context,
 * cluster and user as it was (a backup of the old file is kept; the new one is written
 * atomically, 0600).
 *
 *   ./kubeconfig [-i inventory] [runner flags]     fetch from the first server over SSH (runs
 *                                                  playbooks/kubeconfig.yml), then merge
 *   ./kubeconfig --from FILE|- --server https://ADDR:6443 [--context NAME] [--kubeconfig PATH]
 *                                                  merge a kubeconfig you already have
 *
 * `deno run -A scripts/kubeconfig.ts ...` works the same. The target is --kubeconfig, else the
 * first file of $KUBECONFIG, else ~/.kube/config.
 */
import { readFileSync } from "node:fs";
import { ExitCode, UserError } from "./lib/errors.ts";
import { clusterEntries, mergeKubeconfig } from "./lib/kubeconfig/merge.ts";
import { defaultKubeconfigPath, readIfExists, writeKubeconfig } from "./lib/kubeconfig/write.ts";
import { UsageError, parseFlags, type Flag } from "./lib/cli/flags.ts";

const HELP = `Usage:
  kubeconfig [-i INVENTORY] [runner flags...]
      Reads /etc/rancher/k3s/k3s.yaml from the first host of "servers" (the runner's
      playbooks/kubeconfig.yml with your inventory; k3s_api_address, k3s_kubeconfig_context and
      k3s_kubeconfig_path from it apply) and merges it.
  kubeconfig --from FILE|- --server https://ADDRESS:6443 [--context NAME] [--kubeconfig PATH]
      Merges a k3s kubeconfig you have (- = standard input).

Options of the second form:
  --from FILE|-      the server's kubeconfig (k3s.yaml)
  --server URL       the API address to write instead of https://127.0.0.1:6443
  --context NAME     the name of the context, cluster and user (default: pi-cluster)
  --kubeconfig PATH  the file to merge into (default: first of $KUBECONFIG, else ~/.kube/config)

Other contexts, clusters and users are never touched; current-context is set only when the
file has none (switch with: kubectl config use-context NAME).`;

interface MergeOptions {
  from: string;
  server: string;
  context: string;
  kubeconfig?: string;
}

const MERGE_FLAGS: Flag<Partial<MergeOptions>>[] = [
  { long: "from", value: true, apply: (o, v) => (o.from = v) },
  { long: "server", value: true, apply: (o, v) => (o.server = v) },
  { long: "context", value: true, apply: (o, v) => (o.context = v) },
  { long: "kubeconfig", value: true, apply: (o, v) => (o.kubeconfig = v) },
];

function parseMergeArgs(argv: string[]): MergeOptions {
  const o: Partial<MergeOptions> = { context: "pi-cluster" };
  const hint = "kubeconfig --help lists the options.";
  const operands = parseFlags(argv, MERGE_FLAGS, o, { unknownLong: (name) => new UsageError(`Unknown option "--${name}" (with --from)`, hint) });
  if (operands.length > 0) throw new UsageError(`Unknown option "${operands[0]}" (with --from)`, hint);
  if (!o.server) throw new UsageError("--server is required with --from", "e.g. --server https://192.168.0.20:6443");
  return o as MergeOptions;
}

/** Reads all of standard input (Node and Deno alike). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Merges and writes; returns the line to print. */
export async function mergeFrom(o: MergeOptions, env: Record<string, string | undefined> = process.env): Promise<string> {
  const source = o.from === "-" ? await readStdin() : readFileSync(o.from, "utf8");
  const entries = clusterEntries(source, o.context, o.server, o.from === "-" ? "the server's kubeconfig (stdin)" : o.from);
  const path = o.kubeconfig || defaultKubeconfigPath(env);
  const result = mergeKubeconfig(readIfExists(path), entries, path);
  if (result.action === "unchanged") return `unchanged: ${path} already has the context ${o.context} (${o.server})`;
  const backup = writeKubeconfig(path, result.text);
  return `${result.action} the context ${o.context} (${o.server}) in ${path}${backup ? `; the old file is ${backup}` : ""}`;
}

export async function main(argv: string[]): Promise<number> {
  try {
    if (argv.includes("-h") || argv.includes("--help")) {
      process.stdout.write(`${HELP}\n`);
      return ExitCode.ok;
    }
    if (argv.includes("--from")) {
      process.stdout.write(`${await mergeFrom(parseMergeArgs(argv))}\n`);
      return ExitCode.ok;
    }
    // Fetch through the runner: the inventory's connection settings, become, host keys.
    const { main: play } = await import("./play.ts");
    const { REPO_ROOT } = await import("./lib/repo-root.ts");
    return await play([`${REPO_ROOT}/playbooks/kubeconfig.yml`, ...argv]);
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(`ERROR: ${e.format()}\n`);
      return e.exitCode;
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT" || err.code === "EACCES") {
      process.stderr.write(`ERROR: ${err.message}\n`);
      return ExitCode.error;
    }
    throw e;
  }
}

// Deno runs this file directly (import.meta.main); Node comes through the ./kubeconfig entry.
if ((import.meta as { main?: boolean }).main) process.exitCode = await main(process.argv.slice(2));
