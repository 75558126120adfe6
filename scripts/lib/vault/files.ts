/**
 * Writing vault output as ansible-vault does: a file replaced atomically (a temp file in the
 * same folder, then rename) keeping the old file's mode, a new file 0600; `-` is stdout.
 * And `edit`'s private scratch space: the only place plaintext touches the disk.
 */
import { chmodSync, closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { basename, dirname, extname, join } from "node:path";
import { ExitCode, UserError } from "../errors.ts";

/** Writes `data` to `file` atomically (mode kept, or 0600 for a new file). */
export function writeAtomically(file: string, data: Uint8Array | string): void {
  let mode = 0o600;
  try {
    mode = statSync(file).mode & 0o7777;
  } catch {
    // a new file
  }
  const tmp = join(dirname(file), `.${basename(file)}.vault-${process.pid}.tmp`);
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, typeof data === "string" ? Buffer.from(data, "utf8") : data);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

/** Overwrites a scratch file with zeros before it is removed (best effort, as ansible-vault's shred). */
function shred(file: string): void {
  try {
    const size = statSync(file).size;
    const fd = openSync(file, "r+");
    try {
      writeSync(fd, Buffer.alloc(size));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // gone already
  }
}

/** Splits $EDITOR as a shell would split plain words and quotes (no expansion, no shell run). */
export function editorCommand(editor: string): string[] {
  const words: string[] = [];
  for (const m of editor.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) words.push(m[1]?.replace(/\\(.)/g, "$1") ?? m[2] ?? m[3]);
  return words.length ? words : ["vi"];
}

/**
 * Lets the user edit `plaintext` in $EDITOR (default vi) and returns the result. The text is
 * written to a 0600 file in a fresh 0700 folder, which is zeroed and removed afterwards,
 * whatever happens.
 */
export function editInEditor(plaintext: Uint8Array, nameHint: string, env: Record<string, string | undefined>): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "vault-edit-"));
  chmodSync(dir, 0o700);
  const file = join(dir, `plaintext${extname(nameHint)}`);
  // Ctrl-C goes to the editor; we must live on to remove the plaintext.
  const keepAlive = () => {};
  process.on("SIGINT", keepAlive);
  try {
    const fd = openSync(file, "wx", 0o600);
    writeSync(fd, plaintext);
    closeSync(fd);
    const [cmd, ...args] = editorCommand(env.EDITOR ?? "vi");
    const r = spawnSync(cmd, [...args, file], { stdio: "inherit", env: env as NodeJS.ProcessEnv });
    if (r.error || r.status !== 0) {
      throw new UserError(`The editor ${JSON.stringify(cmd)} ${r.error ? `could not run: ${r.error.message}` : `exited with ${r.status ?? r.signal}`}; nothing was saved`, {
        exitCode: ExitCode.error,
        hint: "Set EDITOR to an editor that exits 0 when you save.",
      });
    }
    return readFileSync(file);
  } finally {
    process.off("SIGINT", keepAlive);
    shred(file);
    rmSync(dir, { recursive: true, force: true });
  }
}
