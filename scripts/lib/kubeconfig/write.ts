/**
 * Writing the merged kubeconfig safely: the old file is copied to a backup first, the new one
 * written to a temporary file beside it (0600: it holds a client key) and renamed over it, so
 * a crash leaves either the old file or the new one, never half of one.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { homedir } from "node:os";
import { delimiter } from "node:path";

/** kubectl's choice: the first file of $KUBECONFIG, else ~/.kube/config. */
export function defaultKubeconfigPath(env: Record<string, string | undefined>): string {
  const first = (env.KUBECONFIG ?? "").split(delimiter).find((p) => p !== "");
  return first ?? join(env.HOME || homedir(), ".kube", "config");
}

export function readIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}

/** Writes `text` to `path` atomically (0600), after a backup of the old file; returns the backup's path. */
export function writeKubeconfig(path: string, text: string, now = new Date()): string | undefined {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let backup: string | undefined;
  if (existsSync(path)) {
    backup = `${path}.${now.toISOString().replace(/[:.]/g, "-")}.bak`;
    copyFileSync(path, backup);
    chmodSync(backup, 0o600);
  }
  const tmp = join(dirname(path), `.${process.pid}.kubeconfig.tmp`);
  try {
    writeFileSync(tmp, text, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return backup;
}
