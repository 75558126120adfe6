/**
 * Where vault passwords come from, as Ansible's CLI builds them: `--vault-id [LABEL@]SOURCE`
 * (SOURCE = `prompt`, a file, or an executable that prints the password), then each
 * `--vault-password-file` (id "default"), then `--ask-vault-pass` (a prompt, id "default").
 * A file's content is stripped of surrounding whitespace; a script's stdout of line breaks; a
 * script named `*-client[.ext]` is called with `--vault-id LABEL`. Scripts run without a
 * shell, their stderr on our terminal (so they can prompt).
 */
import { readFileSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { basename, extname, resolve } from "node:path";
import { ExitCode, UserError } from "../errors.ts";
import type { VaultSecret } from "./keyring.ts";

export const DEFAULT_VAULT_ID = "default";

export interface VaultSourceOptions {
  /** --vault-id values in order (ansible.cfg's vault_identity_list first). */
  vaultIds?: string[];
  /** --vault-password-file values (ansible.cfg's vault_password_file last). */
  passwordFiles?: string[];
  /** --ask-vault-pass */
  askVaultPass?: boolean;
  /** For ansible-vault's encrypt/create/rekey: prompts ask twice ("New vault password"). */
  newPassword?: boolean;
  /** Prompt when nothing else is given (ansible-vault does, ansible-playbook does not). */
  autoPrompt?: boolean;
  cwd?: string;
  /** Reads a password without echo (default: the terminal, cli/prompt.ts). */
  prompt?: (text: string) => Promise<string>;
}

/** `label@source` -> [label, source]; a bare `source` has no label. */
export function splitVaultId(slug: string): { label?: string; source: string } {
  const at = slug.indexOf("@");
  return at < 0 ? { source: slug } : { label: slug.slice(0, at), source: slug.slice(at + 1) };
}

function optionError(message: string, hint: string): UserError {
  return new UserError(message, { exitCode: ExitCode.badOptions, hint });
}

async function defaultPrompt(text: string): Promise<string> {
  const { readSecretLine } = await import("../cli/prompt.ts");
  return readSecretLine(text);
}

/** Reads every vault password the options name; a bad source is a UserError naming it. */
export async function loadVaultSecrets(options: VaultSourceOptions): Promise<VaultSecret[]> {
  const slugs = [...(options.vaultIds ?? [])];
  for (const file of options.passwordFiles ?? []) slugs.push(`${DEFAULT_VAULT_ID}@${file}`);
  if (options.askVaultPass || (slugs.length === 0 && options.autoPrompt)) slugs.push(`${DEFAULT_VAULT_ID}@prompt_ask_vault_pass`);
  const prompt = options.prompt ?? defaultPrompt;
  const out: VaultSecret[] = [];
  for (const slug of slugs) {
    const { label, source } = splitVaultId(slug);
    const id = label || DEFAULT_VAULT_ID;
    if (label && !/^[^;@\s]+$/.test(label)) {
      throw optionError(`Invalid vault id ${JSON.stringify(label)} in --vault-id ${JSON.stringify(slug)}`, "A vault id is a word without ';', '@' or spaces, e.g. --vault-id prod@prompt.");
    }
    if (source === "prompt" || source === "prompt_ask_vault_pass") {
      const legacy = source === "prompt_ask_vault_pass";
      const ask = options.newPassword
        ? legacy ? ["New Vault password: ", "Confirm New Vault password: "] : [`New vault password (${id}): `, `Confirm new vault password (${id}): `]
        : [legacy ? "Vault password: " : `Vault password (${id}): `];
      const first = (await prompt(ask[0])).trim();
      if (ask[1] !== undefined && (await prompt(ask[1])).trim() !== first) {
        throw optionError("Passwords do not match", "Type the same new vault password twice.");
      }
      if (first === "") throw optionError("Invalid vault password was provided from the prompt (it is empty)", "Type a non-empty password.");
      out.push({ id, password: Buffer.from(first, "utf8"), source: "prompt" });
      continue;
    }
    out.push({ id, password: readPasswordSource(resolve(options.cwd ?? process.cwd(), expandHome(source)), source, id), source });
  }
  return out;
}

function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? (process.env.HOME ?? "") + path.slice(1) : path;
}

/** A password file's content, or an executable's stdout. */
function readPasswordSource(path: string, shown: string, id: string): Uint8Array {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    throw optionError(`The vault password file ${JSON.stringify(shown)} was not found`, "Give an existing file (or script) with --vault-password-file / --vault-id, or 'prompt'.");
  }
  let password: Buffer;
  if ((mode & 0o111) !== 0) {
    const client = basename(path, extname(path)).endsWith("-client");
    const r = spawnSync(path, client ? ["--vault-id", id] : [], { stdio: ["inherit", "pipe", "inherit"], maxBuffer: 1 << 20 });
    if (r.error) throw optionError(`Problem running vault password script ${JSON.stringify(shown)}: ${r.error.message}`, "If this is not a script, remove the executable bit from the file.");
    if (r.status !== 0) {
      throw optionError(`Vault password script ${JSON.stringify(shown)} returned non-zero (${r.status ?? r.signal})`, "Run the script by hand to see why; it must print the password on stdout and exit 0.");
    }
    password = stripLineBreaks(r.stdout);
  } else {
    try {
      password = stripLineBreaks(Buffer.from(readFileSync(path, "utf8").trim(), "utf8"));
    } catch (e) {
      throw optionError(`Could not read vault password file ${JSON.stringify(shown)}: ${(e as Error).message}`, "Check the file's permissions.");
    }
  }
  if (password.length === 0) throw optionError(`Invalid vault password was provided from ${JSON.stringify(shown)} (it is empty)`, "Put the password on the file's first line.");
  return password;
}

function stripLineBreaks(b: Buffer): Buffer {
  let start = 0;
  let end = b.length;
  while (start < end && (b[start] === 10 || b[start] === 13)) start++;
  while (end > start && (b[end - 1] === 10 || b[end - 1] === 13)) end--;
  return b.subarray(start, end);
}
