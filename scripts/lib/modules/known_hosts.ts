/**
 * ansible.builtin.known_hosts: one host's key in a known_hosts file (default
 * ~/.ssh/known_hosts of the remote user). One probe reads the file and what `ssh-keygen -F`
 * finds for the host; the edit is Ansible's (support/known-hosts-edit.ts) and the file is
 * written atomically (a new one 0644, as Ansible leaves it).
 */
import type { ModuleDefinition, Probe } from "./types.ts";
import { readProbe } from "./probe.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { fileProbeScript, parseFileProbe, writeFileAtomic, type FileState } from "./remote-file.ts";
import { contentDiff } from "./support/file-diff.ts";
import { RULES, requireValue, schemaPattern } from "./support/values.ts";
import { requireSuccess, schemaHeader, probeValues } from "./support/system.ts";
import { editKnownHosts, hashHostKey, keyNamesHost, parseKeygenFind, parseKnownHostsLine, searchHostKey } from "./support/known-hosts-edit.ts";

interface KnownHostsArgs {
  name: string;
  key?: string;
  path: string;
  hash_host: boolean;
  state: "present" | "absent";
}

/** What KNOWN_HOSTS_PROBE reads. */
export interface KnownHostsFile {
  /** The file, ~ expanded on the target. */
  path: string;
  file: FileState;
  /** What `ssh-keygen -F host -f path` printed (empty when the file is missing). */
  keygenFound: string;
}

/** A known_hosts name: a host name or address, or [host]:port. */
const HOST = {
  what: "a host name, IP address or [host]:port",
  allowed: 'letters, digits, "-", "_", "." and ":", or [that]:port; not starting with "-"',
  pattern: "^(\\[[A-Za-z0-9_.:-]+\\]:[0-9]{1,5}|[A-Za-z0-9_.:][A-Za-z0-9_.:-]*)$",
};

export const KNOWN_HOSTS_PROBE: Probe<{ path: string; host: string }, KnownHostsFile> = {
  name: "known-hosts",
  command: ({ path, host }) => [
    // The remote user's home, as Ansible expands a path option's ~ where the module runs.
    path === "~" || path.startsWith("~/") ? `f="$HOME"${sh`${path.slice(1)}`}` : sh`f=${path}`,
    sh`h=${host}`,
    `echo "path=$f"`,
    `command -v ssh-keygen >/dev/null || { echo 'ssh-keygen not found' >&2; exit 127; }`,
    fileProbeScript("/x", { content: true }).replace(/^p=.*$/m, 'p="$f"'),
    // The dot keeps the output's final newline through $( ).
    `if [ -f "$f" ]; then o=$(ssh-keygen -F "$h" -f "$f"; r=$?; echo .; exit $r); echo "rc=$?"; printf 'found='; printf %s "\${o%.}" | base64 -w0; echo; fi`,
  ].join("\n"),
  parse(r, { path }) {
    requireSuccess(r, `Cannot read ${path}`);
    const v = probeValues(r.stdout);
    const rc = Number(v.get("rc") ?? 0);
    const keygenFound = Buffer.from(v.get("found") ?? "", "base64").toString("utf8");
    // 1 with nothing printed is "host not found".
    if (rc !== 0 && !(rc === 1 && keygenFound === "" && r.stderr.trim() === "")) {
      throw new ModuleFailure(`ssh-keygen failed (rc=${rc}, stderr='${r.stderr.trim()}')`, { rc });
    }
    return { path: v.get("path") ?? path, file: parseFileProbe(r.stdout), keygenFound };
  },
};

export const knownHosts: ModuleDefinition<KnownHostsArgs, { path: string; content: string; newFile: boolean }> = {
  name: "known_hosts",
  aliases: [],
  schema: {
    ...schemaHeader("known_hosts", "Adds or removes a host's key in a known_hosts file."),
    properties: {
      name: { type: "string", aliases: ["host"], ...schemaPattern(HOST), description: "The host (lowercased), as in the key: name, address or [name]:port." },
      key: { type: "string", description: "The known_hosts line: [@marker] host keytype base64 [comment]." },
      path: { type: "string", ...schemaPattern(RULES.singleLine), default: "~/.ssh/known_hosts", description: "The known_hosts file." },
      hash_host: { type: "boolean", default: false, description: "Write the host's name hashed (ssh-keygen -H)." },
      state: { type: "string", enum: ["present", "absent"], default: "present" },
    },
    required: ["name"],
  },
  async plan(args, ctx) {
    const host = args.name.toLowerCase();
    if (args.path.startsWith("~") && args.path !== "~" && !args.path.startsWith("~/")) throw new ModuleFailure(`known_hosts: path ${JSON.stringify(args.path)} names another user's home; give that path in full`);
    if (args.state === "present" && !args.key) throw new ModuleFailure("No key specified when adding a host");
    let key: string | undefined;
    if (args.key) {
      // One line only: a second line would be a second entry nobody asked for.
      const line = requireValue("known_hosts", "key", args.key.replace(/\n$/, ""), RULES.singleLine);
      const parsed = parseKnownHostsLine(line);
      if (!parsed) throw new ModuleFailure(`known_hosts: key ${JSON.stringify(line)} is not a known_hosts line (allowed: [@marker] host keytype base64 [comment])`);
      if (/\S+(\s+)?,(\s+)?/.test(host)) throw new ModuleFailure("Comma separated list of names is not supported. Please pass a single name to lookup in the known_hosts file.");
      if (!keyNamesHost(parsed.host, host)) throw new ModuleFailure("Host parameter does not match hashed host field in supplied key");
      key = (args.hash_host ? hashHostKey(host, line) : line) + "\n";
    }
    const found = await readProbe(ctx, KNOWN_HOSTS_PROBE, { path: args.path, host });
    const { path, file } = found;
    if (file.exists && typeof file.content !== "string") throw new ModuleFailure(`${path} is not a text file`);
    const before = file.exists ? (file.content as string) : "";
    const entries = parseKeygenFind(found.keygenFound);
    const search = searchHostKey(entries, key);
    const present = args.state === "present";
    const result = { name: args.name, path, state: args.state, hash_host: args.hash_host, key: args.key ?? null };

    let after: string;
    if (!present && key === undefined) {
      // Without a key every line of the host goes (Ansible runs ssh-keygen -R).
      after = editKnownHosts(before, entries.map((e) => e.line));
    } else if (!present && search.foundLine === undefined) {
      after = before;
    } else if (search.replaceOrAdd || search.found !== present) {
      const drop = search.foundLine !== undefined && (search.replaceOrAdd || !present) ? [search.foundLine] : [];
      after = editKnownHosts(before, drop, present ? key : undefined);
    } else {
      after = before;
    }
    if (after === before) return { changed: false, reason: `${present ? "key of" : "no key of"} ${host} ${present ? "present" : "left"} in ${path}`, result };
    return {
      changed: true,
      msg: `${present ? (search.replaceOrAdd && search.foundLine !== undefined ? "key replaced for" : "key added for") : "key removed for"} ${host} in ${path}`,
      diff: [contentDiff(before, after, path, file.exists ? {} : { beforeHeader: "/dev/null" })],
      state: { path, content: after, newFile: !file.exists },
      result,
    };
  },
  async apply(plan, _args, ctx) {
    const s = plan.state!;
    await writeFileAtomic(ctx, s.path, s.content, s.newFile ? { mode: "0644" } : {});
    return { msg: plan.msg };
  },
};
