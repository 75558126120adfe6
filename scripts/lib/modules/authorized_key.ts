/**
 * ansible.posix.authorized_key: SSH keys in ~user/.ssh/authorized_keys (or `path`). One probe
 * (the user's home/uid/gid, the .ssh directory and the file's content); keys compared by their
 * type and base64 material, so a changed comment or options replace the line; the file is
 * written atomically 0600 owned by the user, the directory made 0700 when missing.
 */
import type { ModuleDefinition, Probe } from "./types.ts";
import { readProbe } from "./probe.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { fileProbeScript, parseFileProbe, writeFileAtomic, type FileState } from "./remote-file.ts";
import { contentDiff } from "./support/file-diff.ts";
import { RULES, schemaPattern } from "./support/values.ts";
import { requireSuccess, schemaHeader, probeValues } from "./support/system.ts";

interface AuthorizedKeyArgs {
  user: string;
  key: string;
  state: "present" | "absent";
  exclusive: boolean;
  path?: string;
  manage_dir: boolean;
  key_options?: string;
  comment?: string;
}

interface KeyState {
  path: string;
  dir: string;
  makeDir: boolean;
  content: string;
  uid: string;
  gid: string;
}

const KEY_TYPES = /^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com|ssh-ed448)$/;

/** The "type base64" identity of an authorized_keys line, or undefined for comments/blank. */
export function keyIdentity(line: string): string | undefined {
  const t = line.trim();
  if (!t || t.startsWith("#")) return undefined;
  const words = t.split(/\s+/);
  for (let i = 0; i < words.length - 1; i++) {
    if (KEY_TYPES.test(words[i])) return `${words[i]} ${words[i + 1]}`;
  }
  // Options may contain quoted spaces: find the key type anywhere.
  const m = /(?:^|\s)((?:ssh-|ecdsa-|sk-)\S+)\s+([A-Za-z0-9+/=]+)/.exec(t);
  return m ? `${m[1]} ${m[2]}` : undefined;
}

/** New file text; pure. */
export function editAuthorizedKeys(text: string, keys: string[], state: "present" | "absent", exclusive: boolean): string {
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const wanted = new Map(keys.map((k) => [keyIdentity(k)!, k.trim()]));
  const out: string[] = [];
  const placed = new Set<string>();
  for (const line of lines) {
    const id = keyIdentity(line);
    if (id === undefined) { if (!exclusive) out.push(line); continue; }
    if (wanted.has(id)) {
      if (state === "absent" || placed.has(id)) continue;
      out.push(wanted.get(id)!);
      placed.add(id);
    } else if (!exclusive) {
      out.push(line);
    }
  }
  if (state === "present") for (const [id, k] of wanted) if (!placed.has(id)) out.push(k);
  return out.length ? out.join("\n") + "\n" : "";
}

/** What KEY_FILE_PROBE reads: the user, and the authorized_keys file and its directory. */
export interface KeyFile {
  userExists: boolean;
  uid: string;
  gid: string;
  /** The file: the given path, else ~user/.ssh/authorized_keys. */
  path: string;
  dirExists: boolean;
  file: FileState;
}

/** The user's ids and home, then the authorized_keys file (its path depends on the home). */
export const KEY_FILE_PROBE: Probe<{ user: string; path?: string }, KeyFile> = {
  name: "authorized-keys",
  command: ({ user, path }) => [
    sh`e=$(getent passwd -- ${user}) || { echo user=missing; exit 0; }`,
    `echo "$e" | awk -F: '{ print "home=" $6; print "uid=" $3; print "gid=" $4 }'`,
    `h=$(echo "$e" | cut -d: -f6)`,
    path ? sh`f=${path}` : `f="$h/.ssh/authorized_keys"`,
    `d=$(dirname -- "$f"); echo "path=$f"; if [ -d "$d" ]; then echo dir=yes; fi`,
    fileProbeScript("/x", { content: true }).replace(/^p=.*$/m, 'p="$f"'),
  ].join("\n"),
  parse(r, { user }) {
    requireSuccess(r, `Cannot look up user ${user}`);
    const v = probeValues(r.stdout);
    return {
      userExists: v.get("user") !== "missing",
      uid: v.get("uid") ?? "",
      gid: v.get("gid") ?? "",
      path: v.get("path") ?? "",
      dirExists: v.get("dir") === "yes",
      file: parseFileProbe(r.stdout),
    };
  },
};

export const authorizedKey: ModuleDefinition<AuthorizedKeyArgs, KeyState> = {
  name: "authorized_key",
  aliases: ["ansible.posix.authorized_key"],
  schema: {
    ...schemaHeader("authorized_key", "Adds or removes SSH authorized keys of a user."),
    properties: {
      user: { type: "string", ...schemaPattern(RULES.accountName), description: "The account." },
      key: { type: "string", description: "One key, or several lines of keys." },
      state: { type: "string", enum: ["present", "absent"], default: "present" },
      exclusive: { type: "boolean", default: false, description: "Remove every other key." },
      path: { type: "string", description: "Another file than ~user/.ssh/authorized_keys." },
      manage_dir: { type: "boolean", default: true, description: "Create the .ssh directory (0700) when missing." },
      key_options: { type: "string", ...schemaPattern(RULES.singleLine), description: "Options prepended to each key (from=\"...\",no-pty)." },
      comment: { type: "string", ...schemaPattern(RULES.singleLine), description: "Replace each key's comment." },
    },
    required: ["user", "key"],
  },
  async plan(args, ctx) {
    const keys = args.key.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#")).map((l) => {
      const id = keyIdentity(l);
      if (!id) throw new ModuleFailure(`invalid key specified: ${l.slice(0, 40)}...`);
      const comment = args.comment ?? l.slice(l.indexOf(id) + id.length).trim();
      return [args.key_options ?? l.slice(0, l.indexOf(id)).trim(), id, comment].filter(Boolean).join(" ");
    });
    const found = await readProbe(ctx, KEY_FILE_PROBE, { user: args.user, path: args.path });
    if (!found.userExists) throw new ModuleFailure(`Failed to lookup user ${args.user}: no such user`);
    const { path, file } = found;
    const dir = path.replace(/\/[^/]*$/, "") || "/";
    const before = typeof file.content === "string" ? file.content : "";
    const after = editAuthorizedKeys(before, keys, args.state, args.exclusive);
    const makeDir = !found.dirExists;
    const result = { user: args.user, path, keyfile: path, exclusive: args.exclusive };
    if (after === before && (file.exists || after === "")) return { changed: false, reason: `${keys.length === 1 ? "key" : `${keys.length} keys`} ${args.state === "present" ? "present" : "absent"} in ${path}`, result };
    if (makeDir && !args.manage_dir) throw new ModuleFailure(`${dir} does not exist and manage_dir is false`);
    return {
      changed: true,
      msg: `${path} updated`,
      diff: [contentDiff(file.exists ? before : undefined, after, path)],
      state: { path, dir, makeDir, content: after, uid: found.uid, gid: found.gid },
      result,
    };
  },
  async apply(plan, _args, ctx) {
    const s = plan.state!;
    if (s.makeDir) requireSuccess(await ctx.run(sh`install -d -m 0700 -o ${s.uid} -g ${s.gid} -- ${s.dir}`), `Cannot create ${s.dir}`);
    await writeFileAtomic(ctx, s.path, s.content, { mode: "0600", owner: s.uid, group: s.gid });
    return { msg: plan.msg };
  },
};
