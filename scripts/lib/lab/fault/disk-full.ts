/**
 * `disk-full --path DIR`: the file system a task writes to has no space left. Inside the
 * node, a small tmpfs holding a copy of DIR's content is mounted over DIR and filled up, so
 * the files there read as before and every write fails with ENOSPC; the node's real disk is
 * never filled. Heal unmounts it: DIR shows its real content again (never written meanwhile).
 */
import { posix } from "node:path";
import { UserError, ExitCode } from "../../errors.ts";
import { nodeExec, nodeExecOk, nodeInitPid, requireInit } from "./in-node.ts";
import type { FaultHandler } from "./types.ts";

/** The tmpfs's source name, which is how heal recognises its own mount. */
const SOURCE = "lab-disk-full";
const FILLER = ".lab-disk-full";
/** DIR is copied into memory: keep it small. */
const MAX_COPY_KIB = 64 * 1024;

/** A folder we may mount over: absolute, normalised, not / and one line. */
export function checkDiskFullPath(path: string | undefined): string {
  if (!path) throw new UserError("disk-full needs the folder whose file system fills up", { hint: "e.g. --path /opt/app (the folder a task writes to)", exitCode: ExitCode.badOptions });
  const folder = path.replace(/(.)\/$/, "$1");
  if (!folder.startsWith("/") || posix.normalize(folder) !== folder || folder === "/" || /[\n\0]/.test(folder)) {
    throw new UserError(`--path "${path}" is not an absolute folder below /`, { hint: "give a normalised absolute path such as /opt/app", exitCode: ExitCode.badOptions });
  }
  return folder;
}

/** The source of the mount at `path` inside the node ("" when none is mounted exactly there). */
async function mountSource(init: number, path: string): Promise<string> {
  return (await nodeExec(init, ["findmnt", "-n", "-o", "SOURCE", "--mountpoint", path])).stdout.trim().split("\n").pop() ?? "";
}

export const diskFull: FaultHandler<"disk-full"> = {
  async inject({ node }, options) {
    const path = checkDiskFullPath(options.path);
    const init = requireInit(node);
    if ((await nodeExec(init, ["test", "-d", path])).code !== 0) {
      throw new UserError(`${path} is not a folder on ${node.name}`, { hint: "create it first (run the playbook once), or give the folder a task writes to", exitCode: ExitCode.badOptions });
    }
    if ((await mountSource(init, path)) === SOURCE) throw new UserError(`${path} on ${node.name} is already full (a lab fault)`, { exitCode: ExitCode.error });
    const kib = Number((await nodeExecOk(node, init, ["du", "-sk", "-x", "--", path])).split("\t")[0]);
    if (!(kib <= MAX_COPY_KIB)) {
      throw new UserError(`${path} on ${node.name} holds ${Math.round(kib / 1024)} MiB: disk-full copies it into memory`, { hint: "choose a smaller folder, the one the task writes to", exitCode: ExitCode.badOptions });
    }
    // The real content, reachable while the tmpfs covers it: bound at a staging point first.
    const staging = `/run/lab-disk-full-${process.pid}`;
    await nodeExecOk(node, init, ["mkdir", "-p", "--", staging]);
    let mounted = false;
    try {
      await nodeExecOk(node, init, ["mount", "--bind", "--", path, staging]);
      // Not a peer of DIR's mount (the node's mounts are shared): the tmpfs must not show here too.
      await nodeExecOk(node, init, ["mount", "--make-private", "--", staging]);
      await nodeExecOk(node, init, ["mount", "-t", "tmpfs", "-o", `size=${2 * kib + 1024}k,mode=0755`, SOURCE, path]);
      mounted = true;
      await nodeExecOk(node, init, ["cp", "-a", "--", `${staging}/.`, `${path}/`]);
      // dd stops at ENOSPC (exit 1): that is the point.
      const fill = await nodeExec(init, ["dd", "if=/dev/zero", `of=${path}/${FILLER}`, "bs=64k"]);
      if (!/No space left/.test(fill.stderr)) throw new Error(`${node.name}: filling ${path} did not end with "No space left": ${fill.stderr.trim()}`);
    } catch (e) {
      if (mounted) await nodeExec(init, ["umount", "--", path]);
      throw e;
    } finally {
      await nodeExec(init, ["umount", "--", staging]);
      await nodeExec(init, ["rmdir", "--", staging]);
    }
    return { record: { kind: "disk-full", path }, said: `${path} on ${node.name} has no space left (a full tmpfs holding a copy of its content)` };
  },
  async heal({ node }, record) {
    // A node that was stopped since has no mounts left: nothing to undo.
    const init = nodeInitPid(node);
    if (!init) return `${node.name} is not running: ${record.path} is no longer covered`;
    if ((await mountSource(init, record.path)) === SOURCE) {
      if ((await nodeExec(init, ["umount", "--", record.path])).code !== 0) await nodeExecOk(node, init, ["umount", "-l", "--", record.path]);
    }
    if ((await mountSource(init, record.path)) === SOURCE) throw new Error(`${node.name}: ${record.path} is still the full tmpfs`);
    return `${record.path} on ${node.name} is its real folder again`;
  },
};
