/**
 * ansible.builtin.fetch: copy a file from the target to the controller, to
 * dest/<inventory_hostname>/<src path> (or exactly dest with flat). The plan compares the
 * remote sha1 with the local copy's (one round trip, nothing transferred when equal); apply
 * transfers the content (base64), checks its sha1 against the probe and writes it on the
 * controller atomically (temp file in the same directory, then rename).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { posix } from "node:path";
import type { ModuleContext, ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { maskSecrets } from "../shell/secret.ts";
import { probeFile } from "./remote-file.ts";

interface FetchArgs {
  src: string;
  dest: string;
  flat?: boolean;
  fail_on_missing?: boolean;
  validate_checksum?: boolean;
}

interface FetchState {
  local: string;
  remoteChecksum: string;
}

const schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "fetch",
  description: "Fetches a file from the target to the controller.",
  type: "object",
  additionalProperties: false,
  properties: {
    src: { type: "string", description: "The file on the target (not a directory)." },
    dest: { type: "string", description: "Directory (or, with flat, file) on the controller." },
    flat: { type: "boolean", default: false, description: "Write to dest itself (dest/ ending with / gets the basename) instead of dest/<host>/<src>." },
    fail_on_missing: { type: "boolean", default: true },
    validate_checksum: { type: "boolean", default: true },
    validate_md5: { type: "boolean", description: "Accepted for compatibility; ignored." },
  },
  required: ["src", "dest"],
};

/**
 * Where the file lands on the controller, as Ansible lays it out. Neither the inventory host
 * name nor a relative src may climb out: without flat the file must land inside
 * dest/<host>/ (Ansible only checks dest; one host's file must not overwrite another's), with
 * flat the basename of src must be a file name.
 */
export function fetchDestination(args: FetchArgs, host: string): string {
  if (args.flat) {
    if (!args.dest.endsWith("/")) return resolve(args.dest);
    const name = posix.basename(args.src);
    if (name === "" || name === "." || name === "..") traversal(resolve(args.dest), resolve(args.dest, name));
    return resolve(join(args.dest, name));
  }
  const root = resolve(args.dest);
  const hostDir = resolve(root, host);
  if (!isBelow(hostDir, root)) traversal(root, hostDir);
  const local = resolve(hostDir, posix.normalize(args.src).replace(/^\/+/, ""));
  if (!isBelow(local, hostDir)) traversal(hostDir, local);
  return local;
}

function isBelow(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel !== "" && rel.split(sep)[0] !== ".." && !isAbsolute(rel);
}

function traversal(expected: string, got: string): never {
  throw new ModuleFailure(`Detected directory traversal, expected to be contained in '${expected}' but got '${got}'`);
}

function sha1(bytes: Uint8Array): string {
  return createHash("sha1").update(bytes).digest("hex");
}

async function planFetch(args: FetchArgs, ctx: ModuleContext) {
  const local = fetchDestination(args, ctx.host);
  const st = await probeFile(ctx, args.src, { checksum: true, follow: true });
  if (!st.exists || st.type === "directory" || st.sha1 === undefined) {
    const why = !st.exists ? "the remote file does not exist" : st.type === "directory" ? "remote file is a directory, fetch cannot work on directories" : "unable to read the remote file";
    if (args.fail_on_missing !== false) throw new ModuleFailure(`${why}: ${args.src}`, { file: args.src });
    return { changed: false, reason: `${why}, not transferring, ignored`, result: { file: args.src, msg: `${why}, not transferring, ignored` } };
  }
  const result = { dest: local, file: args.src, remote_checksum: st.sha1, checksum: st.sha1 };
  if (existsSync(local) && sha1(readFileSync(local)) === st.sha1) {
    return { changed: false, reason: `${local} already matches`, result };
  }
  return { changed: true, msg: `fetched to ${local}`, result, state: { local, remoteChecksum: st.sha1 } };
}

export const fetch: ModuleDefinition<FetchArgs, FetchState> = {
  name: "fetch",
  aliases: [],
  schema,
  plan: planFetch,
  async apply(plan, args, ctx) {
    const { local, remoteChecksum } = plan.state!;
    const r = await ctx.run(sh`base64 -w0 < ${args.src}`);
    if (r.rc !== 0) throw new ModuleFailure(`Cannot read ${args.src}: ${maskSecrets(r.stderr.trim())}`, { rc: r.rc });
    const bytes = Buffer.from(r.stdout.trim(), "base64");
    const got = sha1(bytes);
    if (args.validate_checksum !== false && got !== remoteChecksum) {
      throw new ModuleFailure(`checksum mismatch: ${args.src} changed during the transfer (${remoteChecksum} before, ${got} received)`);
    }
    mkdirSync(dirname(local), { recursive: true });
    const tmp = `${local}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, bytes);
      renameSync(tmp, local);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw new ModuleFailure(`Cannot write ${local}: ${(e as Error).message}`);
    }
    return { msg: plan.msg, result: { dest: local, checksum: got, size: bytes.length } };
  },
};
