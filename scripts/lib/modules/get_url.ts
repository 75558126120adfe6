/**
 * ansible.builtin.get_url: download a URL ON THE TARGET (curl, else wget) to dest. The plan
 * is one round trip: which downloader exists, the dest's state and checksum, and the
 * checksum file when `checksum` names a URL. No download when dest already has the expected
 * checksum (or exists and force is false). The download goes to a temp file beside dest,
 * its checksum is verified there, then owner/group/mode are set and it is renamed over dest.
 */
import { posix } from "node:path";
import type { ModuleContext, ModuleDefinition, Plan, Probe } from "./types.ts";
import { readProbe } from "./probe.ts";
import { ModuleFailure } from "./types.ts";
import { quote, sh } from "../shell/quote.ts";
import { Secret, maskSecrets } from "../shell/secret.ts";
import type { FileState } from "./remote-file.ts";
import { CHECKSUM_ALGORITHMS, fileProbeScript, parseFileProbe, planAttributes, applyAttributes, writeFileAtomic } from "./remote-file.ts";
import { FILE_ATTRIBUTE_PROPERTIES } from "./support/text-edit.ts";
import { joinMessages } from "./support/file-diff.ts";
import { RULES, requireValue } from "./support/values.ts";

export interface GetUrlArgs {
  url: string | Secret;
  dest: string;
  checksum?: string;
  force?: boolean;
  timeout?: number;
  headers?: Record<string, string | Secret>;
  validate_certs?: boolean;
  mode?: string | number;
  owner?: string | number;
  group?: string | number;
  backup?: boolean;
  tmp_dest?: string;
}

const schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "get_url",
  description: "Downloads a file from HTTP, HTTPS or FTP on the target.",
  type: "object",
  additionalProperties: false,
  properties: {
    url: { type: "string", description: "http(s)/ftp URL to download." },
    dest: { type: "string", description: "File (or existing directory: the URL's file name is used) on the target." },
    checksum: { type: "string", description: '"<algorithm>:<hex>" or "<algorithm>:<URL of a checksum file>", e.g. sha256:http://.../SHA256SUMS.' },
    force: { type: "boolean", default: false, description: "Download every time and replace dest when the content differs." },
    timeout: { type: "integer", default: 10, description: "Seconds for the request." },
    headers: { type: "object", additionalProperties: { type: "string" }, description: "Extra request headers." },
    validate_certs: { type: "boolean", default: true },
    backup: { type: "boolean", default: false },
    tmp_dest: { type: "string", description: "Accepted for compatibility; the temp file is always beside dest." },
    use_proxy: { type: "boolean", description: "Accepted; the target's proxy environment applies." },
    ...FILE_ATTRIBUTE_PROPERTIES,
  },
  required: ["url", "dest"],
};

type Downloader = "curl" | "wget";

/** The command downloading url to "$t" (or to stdout when toStdout). */
function downloadCommand(tool: Downloader, args: GetUrlArgs, url: string | Secret, toStdout = false): string {
  const timeout = args.timeout ?? 10;
  const headers = Object.entries(args.headers ?? {});
  if (tool === "curl") {
    const h = headers.map(([k, v]) => `-H ${quote(`${k}: ${v instanceof Secret ? v.reveal() : v}`)}`).join(" ");
    const k = args.validate_certs === false ? " -k" : "";
    return `curl -fsSL${k} --max-time ${timeout} ${h}${h ? " " : ""}${toStdout ? "" : '-o "$t" '}${quote(url)}`;
  }
  const h = headers.map(([k, v]) => `--header=${quote(`${k}: ${v instanceof Secret ? v.reveal() : v}`)}`).join(" ");
  const k = args.validate_certs === false ? " --no-check-certificate" : "";
  return `wget -q${k} -T ${timeout} ${h}${h ? " " : ""}-O ${toStdout ? "-" : '"$t"'} ${quote(url)}`;
}

function urlText(url: string | Secret): string {
  return url instanceof Secret ? url.reveal() : url;
}

/** The file name of a URL (its last path segment, no query). */
export function urlFilename(url: string): string {
  const path = url.replace(/[?#].*$/, "").replace(/^[a-z]+:\/\/[^/]*/i, "");
  return decodeURIComponent(posix.basename(path) || "index.html");
}

/** Finds the checksum for `filename` in a SHA256SUMS-style file (or a lone hash). */
export function checksumFromFile(text: string, filename: string): string | undefined {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  for (const line of lines) {
    const [hash, ...rest] = line.split(/\s+/);
    const name = rest.join(" ").replace(/^\*/, "").replace(/^\.\//, "");
    if (name === filename) return hash.toLowerCase();
  }
  if (lines.length === 1 && /^[0-9a-f]+$/i.test(lines[0])) return lines[0].toLowerCase();
  return undefined;
}

interface GetUrlState {
  path: string;
  tool: Downloader;
  algorithm?: string;
  expected?: string;
  download: boolean;
  existed: boolean;
}

function parseChecksum(checksum: string | undefined): { algorithm?: string; value?: string; url?: string } {
  if (!checksum) return {};
  const i = checksum.indexOf(":");
  if (i < 0) throw new ModuleFailure(`checksum must be "<algorithm>:<checksum or URL>", got ${JSON.stringify(checksum)}`);
  const algorithm = checksum.slice(0, i).toLowerCase();
  const value = checksum.slice(i + 1).trim();
  if (!CHECKSUM_ALGORITHMS.includes(algorithm)) throw new ModuleFailure(`unsupported checksum algorithm ${algorithm} (use one of ${CHECKSUM_ALGORITHMS.join(", ")})`);
  if (/^(https?|ftp|file):\/\//i.test(value)) return { algorithm, url: value };
  return { algorithm, value: requireValue("get_url", "checksum", value.toLowerCase(), RULES.hexDigest) };
}

/** What DOWNLOAD_PROBE reads. */
export interface DownloadTarget {
  /** The download tool the host has (curl first). */
  downloader?: Downloader;
  dest: FileState;
  /** dest/<the URL's filename>, used when dest is a directory. */
  child: FileState;
  /** With a checksum algorithm: the digest of dest, of child (regular files only). */
  destSum?: string;
  childSum?: string;
  /** With a checksum URL: the checksum file's text. */
  checksumFile?: string;
  /** force without a checksum: the sha1 of a fresh download. */
  downloadedSha1?: string;
}

/**
 * The destination (dest, and dest/<filename> for a directory), the download tool, and what
 * deciding needs: digests, the checksum file, or (force) a fresh download's sha1.
 */
export const DOWNLOAD_PROBE: Probe<{ args: GetUrlArgs; url: string; filename: string; sum: ReturnType<typeof parseChecksum> }, DownloadTarget> = {
  name: "download-target",
  command({ args, url, filename, sum }) {
    const candidates = { d: args.dest, n: posix.join(args.dest, filename) };
    const lines = [
      `if command -v curl >/dev/null 2>&1; then echo dl.curl; elif command -v wget >/dev/null 2>&1; then echo dl.wget; else echo dl.none; fi`,
    ];
    for (const [tag, path] of Object.entries(candidates)) {
      lines.push(fileProbeScript(path, { checksum: args.force === true && !sum.algorithm }, tag));
      if (sum.algorithm) lines.push(sh`if [ -f ${path} ]; then printf '${tag}.sum '; ${sum.algorithm}sum < ${path} | cut -d' ' -f1; fi`);
    }
    // Which tool is known only remotely: try curl, then wget, in the same command.
    const fetchToStdout = (u: string) =>
      `{ if command -v curl >/dev/null 2>&1; then ${downloadCommand("curl", args, u, true)}; else ${downloadCommand("wget", args, u, true)}; fi; }`;
    if (sum.url) lines.push(`printf 'csum.b64 '; ${fetchToStdout(sum.url)} 2>/dev/null | base64 -w0; echo`);
    if (args.force && !sum.algorithm) {
      // force without checksum: download to a temp file to learn whether the content differs.
      lines.push(`t=$(mktemp) && { ${fetchToStdout(url)} > "$t" 2>/dev/null && printf 'force.sha1 ' && sha1sum < "$t" | cut -c1-40; rm -f "$t"; }`);
    }
    return lines.join("\n");
  },
  parse(r, { args }) {
    if (r.rc !== 0) throw new ModuleFailure(`Cannot inspect ${args.dest}: ${maskSecrets(r.stderr.trim())}`, { rc: r.rc });
    const out = r.stdout;
    const line = (re: RegExp) => re.exec(out)?.[1];
    const checksumFile = line(/^csum\.b64 (.*)$/m);
    return {
      downloader: line(/^dl\.(curl|wget)$/m) as Downloader | undefined,
      dest: parseFileProbe(out, "d"),
      child: parseFileProbe(out, "n"),
      destSum: line(/^d\.sum (\S+)$/m),
      childSum: line(/^n\.sum (\S+)$/m),
      checksumFile: checksumFile === undefined ? undefined : Buffer.from(checksumFile.trim(), "base64").toString("utf8"),
      downloadedSha1: line(/^force\.sha1 (\S+)$/m),
    };
  },
};

async function planGetUrl(args: GetUrlArgs, ctx: ModuleContext): Promise<Plan<GetUrlState>> {
  const url = urlText(args.url);
  // The URL is curl's/wget's last argument: a scheme first means it can never be an option.
  if (!/^(https?|ftp|file):\/\/\S+$/i.test(url)) {
    throw new ModuleFailure(`get_url: url ${args.url instanceof Secret ? "(secret)" : JSON.stringify(url)} is not a URL (allowed: http://, https://, ftp:// or file:// followed by no whitespace)`);
  }
  // Each header is one HTTP header line: a newline would add another (header injection).
  for (const [name, value] of Object.entries(args.headers ?? {})) {
    requireValue("get_url", "headers", name, RULES.httpHeaderName);
    requireValue("get_url", `headers.${name}`, value instanceof Secret ? value.reveal() : String(value), RULES.singleLine, { secret: value instanceof Secret });
  }
  const filename = urlFilename(url);
  const sum = parseChecksum(args.checksum);
  const found = await readProbe(ctx, DOWNLOAD_PROBE, { args, url, filename, sum }, { timeoutMs: ((args.timeout ?? 10) * 2 + 30) * 1000 });
  const tool = found.downloader;
  if (!tool) throw new ModuleFailure(`Neither curl nor wget is installed on ${ctx.host}; get_url needs one of them`);

  const useDir = found.dest.type === "directory";
  const path = useDir ? posix.join(args.dest, filename) : args.dest;
  const state: FileState = useDir ? found.child : found.dest;
  const currentSum = useDir ? found.childSum : found.destSum;

  let expected = sum.value;
  if (sum.url) {
    const text = found.checksumFile ?? "";
    if (!text) throw new ModuleFailure(`Cannot download the checksum file ${maskSecrets(sum.url)}`);
    expected = checksumFromFile(text, filename);
    if (!expected) throw new ModuleFailure(`Unable to find a checksum for file '${filename}' in '${maskSecrets(sum.url)}'`);
  }
  const base = { dest: path, url: maskSecrets(url) };
  const attrs = planAttributes(state, args);
  let download: boolean;
  let why: string;
  if (!state.exists) {
    download = true;
    why = "file downloaded";
  } else if (expected) {
    download = currentSum !== expected;
    why = "checksum differed: file downloaded";
  } else if (args.force) {
    const fresh = found.downloadedSha1;
    if (!fresh) throw new ModuleFailure(`Request failed: cannot download ${maskSecrets(url)}`);
    download = fresh !== state.sha1;
    why = "content differed: file downloaded";
  } else {
    download = false;
    why = "";
  }
  if (!download && attrs.changes.length === 0) {
    const reason = expected ? `${path} exists with the expected checksum` : `${path} exists and force is false`;
    return { changed: false, reason, result: { ...base, checksum_dest: currentSum ?? state.sha1, msg: "file already exists" } };
  }
  const msg = joinMessages(download ? why : undefined, attrs.changes);
  return {
    changed: true,
    msg,
    result: { ...base, msg },
    state: { path, tool, algorithm: sum.algorithm, expected, download, existed: state.exists },
  };
}

const CHECKSUM_MISMATCH = 93;
const DOWNLOAD_FAILED = 94;

export const get_url: ModuleDefinition<GetUrlArgs, GetUrlState> = {
  name: "get_url",
  aliases: [],
  secretArgs: ["url", "headers"],
  schema,
  plan: planGetUrl,
  async apply(plan, args, ctx) {
    const st = plan.state!;
    const wish = { mode: args.mode, owner: args.owner, group: args.group };
    if (!st.download) {
      await applyAttributes(ctx, st.path, wish);
      return { msg: plan.msg };
    }
    const fill = [
      `${downloadCommand(st.tool, args, args.url)} || { echo "Request failed: cannot download the URL" >&2; exit ${DOWNLOAD_FAILED}; }`,
      st.expected
        ? `got=$(${st.algorithm}sum < "$t" | cut -d' ' -f1); [ "$got" = ${quote(st.expected)} ] || { printf 'The checksum did not match %s; it was %s.\\n' ${quote(st.expected)} "$got" >&2; exit ${CHECKSUM_MISMATCH}; }`
        : "",
    ].filter(Boolean).join("\n");
    try {
      const { backupFile } = await writeFileAtomic(ctx, st.path, "", { ...wish, backup: args.backup === true && st.existed, fillCommand: fill });
      return { msg: plan.msg, result: { dest: st.path, checksum_dest: st.expected, ...(backupFile ? { backup_file: backupFile } : {}) } };
    } catch (e) {
      const rc = (e as ModuleFailure).result?.rc;
      const stderr = String((e as ModuleFailure).result?.stderr ?? "");
      if (rc === CHECKSUM_MISMATCH) throw new ModuleFailure(`The checksum for ${st.path} did not match: ${stderr}`, { rc, dest: st.path });
      if (rc === DOWNLOAD_FAILED) throw new ModuleFailure(`Request failed: ${maskSecrets(urlText(args.url))}`, { rc, dest: st.path, stderr });
      throw e;
    }
  },
};
