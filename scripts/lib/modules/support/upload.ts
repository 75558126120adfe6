/**
 * Content sent to a target on stdin arrives whole or is refused. A transfer cut short (Ctrl-C,
 * SIGTERM, a dropped connection) just looks like the end of the input to `cat`, which then
 * exits 0: a script that trusts it would rename a truncated file over the original. So the
 * controller sends a header line `<size> <sha1>` before the bytes, and the target checks the
 * file it received against both before anything uses it.
 *
 * The header travels on stdin rather than on the command line so that the checksum of a
 * secret never shows in `ps` on the target.
 */
import { createHash } from "node:crypto";

/** Exit code of receiveScript when the content arrived short, long or altered. */
export const UPLOAD_INCOMPLETE = 95;

/** The bytes to send on stdin for receiveScript: the header line, then the content. */
export function framedUpload(bytes: Uint8Array): Buffer {
  const header = `${bytes.length} ${createHash("sha1").update(bytes).digest("hex")}\n`;
  return Buffer.concat([Buffer.from(header, "ascii"), bytes]);
}

/**
 * A shell fragment that reads a framedUpload from stdin into `file` (a shell word, e.g.
 * `"$t"`, already created by the caller) and exits UPLOAD_INCOMPLETE unless its size and
 * sha1 are the ones announced. The caller removes the file on exit (trap).
 */
export function receiveScript(file: string): string {
  const fail = (why: string) => `{ echo "${why}" >&2; exit ${UPLOAD_INCOMPLETE}; }`;
  return [
    `IFS=' ' read -r n h || ${fail("no content arrived")}`,
    `cat > ${file} || exit 1`,
    `s=$(stat -c %s -- ${file}) || exit 1`,
    `[ "$s" = "$n" ] || ${fail("the content arrived incomplete: $s of $n bytes")}`,
    `[ "$(sha1sum < ${file} | cut -c1-40)" = "$h" ] || ${fail("the content arrived altered: its checksum differs")}`,
  ].join("\n");
}

/**
 * Shell lines to follow `t=$(mktemp ...)`: whatever ends the script from then on (an error, a
 * signal, the connection dropping: sshd's HUP, a closed pipe), "$t" is removed.
 */
export const REMOVE_TEMP_ON_EXIT = `trap 'rm -f "$t"' EXIT\ntrap 'exit 129' HUP INT TERM PIPE`;

/** A temp file "$t" made by `mktemp` (the command given), removed on exit, holding a checked framedUpload. */
export function receiveToTemp(mktemp = "mktemp"): string {
  return [`t=$(${mktemp}) || exit 1`, REMOVE_TEMP_ON_EXIT, receiveScript('"$t"')].join("\n");
}

/** The content of a framedUpload whose header matches it (what the target keeps), else undefined. */
export function unframeUpload(framed: Uint8Array): Uint8Array | undefined {
  const buffer = Buffer.from(framed);
  const end = buffer.indexOf(10);
  const m = end < 0 ? null : /^(\d+) ([0-9a-f]{40})$/.exec(buffer.subarray(0, end).toString("ascii"));
  if (!m) return undefined;
  const content = buffer.subarray(end + 1);
  const intact = content.length === Number(m[1]) && createHash("sha1").update(content).digest("hex") === m[2];
  return intact ? content : undefined;
}
