/**
 * ansible-vault, as a script: `vault encrypt|decrypt|view|edit|create|rekey|encrypt_string`
 * with its flags. What it writes, Debian's ansible-vault reads, and the other way round
 * (test/e2e/vault.test.ts checks both directions). Plaintext touches the disk only where the
 * user asks for it (`decrypt`, `--output`) and in `edit`'s private 0700 scratch folder,
 * removed afterwards, as ansible-vault does.
 *
 * Runnable as `npx zx vault ...` (the root `vault` file), `node --import tsx scripts/vault.ts`
 * and `deno run -A scripts/vault.ts ...`.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ExitCode, UserError } from "./lib/errors.ts";
import { UsageError } from "./lib/cli/args.ts";
import { loadAnsibleConfig } from "./lib/config/ansible-cfg.ts";
import { parseVaultArgs, VAULT_HELP, type VaultCliOptions } from "./lib/vault/cli-args.ts";
import { encryptVault, isVaulted } from "./lib/vault/format.ts";
import { decryptWith, type VaultSecret } from "./lib/vault/keyring.ts";
import { loadVaultSecrets, splitVaultId } from "./lib/vault/sources.ts";
import { editInEditor, writeAtomically } from "./lib/vault/files.ts";
import { runIfMain } from "./lib/cli/run-if-main.ts";
import { reportError } from "./lib/cli/report-error.ts";

interface Output {
  write(text: string | Uint8Array): unknown;
  isTTY?: boolean;
}

export interface VaultIo {
  stdout?: Output;
  stderr?: Output;
  /** All of stdin (default: process.stdin, read to the end). */
  readStdin?: () => Promise<Buffer>;
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Reads a password without echo (default: the terminal). */
  prompt?: (text: string) => Promise<string>;
}

type Io = Required<Omit<VaultIo, "prompt">> & { prompt?: VaultIo["prompt"]; stdinIsTTY: boolean };

async function readProcessStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Runs the command line; resolves to the exit code (never throws). */
export async function main(argv: string[], vio: VaultIo = {}): Promise<number> {
  const io: Io = {
    stdout: vio.stdout ?? process.stdout,
    stderr: vio.stderr ?? process.stderr,
    readStdin: vio.readStdin ?? readProcessStdin,
    cwd: vio.cwd ?? process.cwd(),
    env: vio.env ?? process.env,
    prompt: vio.prompt,
    stdinIsTTY: vio.readStdin === undefined && process.stdin.isTTY === true,
  };
  let options: VaultCliOptions | undefined;
  try {
    options = parseVaultArgs(argv);
    if (options.help) {
      io.stdout.write(VAULT_HELP);
      return ExitCode.ok;
    }
    if (options.version) {
      io.stdout.write("vault (pi-cluster-runner): Ansible Vault 1.1/1.2, AES256\n");
      return ExitCode.ok;
    }
    await run(options, io);
    return ExitCode.ok;
  } catch (error) {
    return reportError(error, io.stderr, { verbosity: options?.verbosity });
  }
}

function fail(message: string, hint?: string, where?: string): UserError {
  return new UserError(message, { exitCode: ExitCode.error, hint, where: where ? { file: where } : undefined });
}

async function run(o: VaultCliOptions, io: Io): Promise<void> {
  const action = o.action!;
  const config = loadAnsibleConfig({ cwd: io.cwd, env: io.env });
  for (const w of config.warnings) io.stderr.write(`[WARNING]: ${w}\n`);
  const cfg = config.settings;
  const vaultIds = [...(cfg.vaultIdentityList ?? []), ...o.vaultIds];
  const passwordFiles = [...o.vaultPasswordFiles, ...(cfg.vaultPasswordFile ? [cfg.vaultPasswordFile] : [])];
  const askVaultPass = o.askVaultPass || cfg.askVaultPass === true;
  const encrypting = action === "encrypt" || action === "encrypt_string" || action === "create";
  const base = { cwd: io.cwd, prompt: io.prompt, autoPrompt: true };
  const secrets = await loadVaultSecrets({ ...base, vaultIds, passwordFiles, askVaultPass, newPassword: encrypting });
  if (secrets.length === 0) throw new UsageError("A vault password is required to use Ansible's Vault", "Pass --vault-password-file, --vault-id or --ask-vault-pass.");
  const path = (f: string) => resolve(io.cwd, f);

  if (encrypting) {
    const target = chooseEncryptSecret(secrets, o.encryptVaultId ?? cfg.vaultEncryptIdentity, secrets.length > 1 && !(o.encryptVaultId ?? cfg.vaultEncryptIdentity));
    const encrypt = (plaintext: Uint8Array) => encryptVault(plaintext, target.password, target.id);
    if (action === "encrypt_string") return encryptStrings(o, io, encrypt);
    if (action === "create") {
      const file = path(o.args[0]);
      if (existsSync(file)) throw fail(`${o.args[0]} exists, please use 'edit' instead`, undefined, o.args[0]);
      const edited = editInEditor(Buffer.alloc(0), file, io.env);
      if (edited.length > 0) writeAtomically(file, encrypt(edited));
      return;
    }
    if (o.args.length === 0) {
      if (io.stdinIsTTY) io.stderr.write("Reading plaintext input from stdin\n");
      if (o.output === undefined || o.output === "-") io.stdout.write(encrypt(await io.readStdin()));
      else writeAtomically(path(o.output), encrypt(await io.readStdin()));
      return;
    }
    // Every input is read and checked before anything is written: a mistake leaves no file half-done.
    const inputs = o.args.map((f) => {
      const text = readInput(path(f), f);
      if (isVaulted(text.toString("latin1"))) throw fail("input is already encrypted", "Decrypt it first, or use rekey to change its password.", f);
      return { f, text };
    });
    for (const { f, text } of inputs) {
      const out = o.output ?? f;
      if (out === "-") io.stdout.write(encrypt(text));
      else writeAtomically(path(out), encrypt(text));
    }
    if (io.stdout.isTTY) io.stderr.write("Encryption successful\n");
    return;
  }

  const open = (text: Buffer, shown: string) => {
    if (!isVaulted(text.toString("latin1"))) throw fail(`input is not vault encrypted data. ${shown} is not a vault encrypted file`, undefined, shown);
    return decryptWith(text.toString("utf8"), { file: shown }, secrets);
  };

  if (action === "decrypt") {
    if (o.args.length === 0) {
      if (io.stdinIsTTY) io.stderr.write("Reading ciphertext input from stdin\n");
      const { plaintext } = open(await io.readStdin(), "stdin");
      if (o.output === undefined || o.output === "-") io.stdout.write(plaintext);
      else writeAtomically(path(o.output), plaintext);
      return;
    }
    const opened = o.args.map((f) => ({ f, plaintext: open(readInput(path(f), f), f).plaintext }));
    for (const { f, plaintext } of opened) {
      const out = o.output ?? f;
      if (out === "-") io.stdout.write(plaintext);
      else writeAtomically(path(out), plaintext);
    }
    if (io.stdout.isTTY) io.stderr.write("Decryption successful\n");
    return;
  }
  if (action === "view") {
    for (const f of o.args) io.stdout.write(open(readInput(path(f), f), f).plaintext);
    return;
  }
  if (action === "edit") {
    const f = o.args[0];
    const { plaintext, id } = open(readInput(path(f), f), f);
    const edited = editInEditor(plaintext, f, io.env);
    if (Buffer.compare(edited, plaintext) === 0) return; // unchanged: the file is not rewritten
    // Re-encrypted with the password (and vault id) that opened it, as ansible-vault does.
    const secret = secrets.find((s) => s.id === id)!;
    writeAtomically(path(f), encryptVault(edited, secret.password, id));
    return;
  }
  // rekey: open with the old passwords, write with the new one.
  const newSlugs = o.newVaultId ? [o.newVaultId] : [];
  const newFiles = o.newVaultPasswordFile ? [o.newVaultPasswordFile] : [];
  const fresh = await loadVaultSecrets({ ...base, vaultIds: newSlugs, passwordFiles: newFiles, newPassword: true });
  const target = chooseEncryptSecret(fresh, o.encryptVaultId ?? (o.newVaultId ? splitVaultId(o.newVaultId).label : undefined), false);
  const opened = o.args.map((f) => ({ f, plaintext: open(readInput(path(f), f), f).plaintext }));
  for (const { f, plaintext } of opened) writeAtomically(path(f), encryptVault(plaintext, target.password, target.id));
  io.stderr.write("Rekey successful\n");
}

/** The secret that encrypts: the one named by --encrypt-vault-id, else the only one. */
function chooseEncryptSecret(secrets: VaultSecret[], encryptVaultId: string | undefined, ambiguous: boolean): VaultSecret {
  if (ambiguous) {
    throw new UsageError(`The vault-ids ${secrets.map((s) => s.id).join(",")} are available to encrypt. Specify the vault-id to encrypt with --encrypt-vault-id`);
  }
  if (encryptVaultId === undefined) return secrets[0];
  const match = secrets.find((s) => s.id === encryptVaultId);
  if (!match) throw new UsageError(`Did not find a match for --encrypt-vault-id=${encryptVaultId} in the known vault-ids ${JSON.stringify(secrets.map((s) => s.id))}`);
  return match;
}

function readInput(file: string, shown: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw fail(code === "ENOENT" ? `File not found: ${shown}` : `Cannot read ${shown}: ${(e as Error).message}`, undefined, shown);
  }
}

/** encrypt_string: each string as a `name: !vault |` block (10-space indent, as ansible-vault). */
async function encryptStrings(o: VaultCliOptions, io: Io, encrypt: (b: Uint8Array) => string): Promise<void> {
  const items: { name?: string; text: Buffer; from: string }[] = [];
  const args = o.args.filter((a) => a !== "-");
  const fromStdin = o.args.includes("-") || o.args.length === 0 || o.stdinName !== undefined;
  if (o.prompt && fromStdin && o.args.length > 0) throw new UsageError("The --prompt option is not supported if also reading input from stdin");
  if (o.prompt) {
    const ask = io.prompt ?? (async (t: string) => (await import("./lib/cli/prompt.ts")).readSecretLine(t));
    const text = await ask("String to encrypt (hidden): ");
    if (text === "") throw new UsageError("The plaintext provided from the prompt was empty, not encrypting");
    items.push({ name: o.names[0], text: Buffer.from(text), from: "the interactive prompt" });
  } else if (fromStdin) {
    if (io.stdinIsTTY) io.stderr.write("Reading plaintext input from stdin. (ctrl-d to end input, twice if your content does not already have a newline)\n");
    const text = await io.readStdin();
    if (text.length === 0) throw new UsageError("stdin was empty, not encrypting");
    items.push({ name: o.stdinName, text, from: "stdin" });
  }
  const names = o.prompt ? o.names.slice(1) : o.names;
  if (names.length > 0 && args.length > names.length) {
    io.stderr.write(`The number of --name options do not match the number of args.\nThe last named variable will be "${names[names.length - 1]}". The rest will not have names.\n`);
  }
  args.forEach((text, i) => {
    if (text === "") throw new UsageError("The plaintext provided from the command line args was empty, not encrypting");
    items.push({ name: names[i], text: Buffer.from(text), from: "the command line args" });
  });
  const blocks = items.map((item, i) => {
    if (items.length > 1) {
      io.stderr.write(item.name ? `# The encrypted version of variable ("${item.name}", the string #${i + 1} from ${item.from}).\n` : `# The encrypted version of the string #${i + 1} from ${item.from}.)\n`);
    }
    const lines = encrypt(item.text).trimEnd().split("\n").map((l) => `          ${l}`);
    return [`${item.name ? `${item.name}: ` : ""}!vault |`, ...lines].join("\n");
  });
  const out = `${blocks.join("\n")}\n`;
  if (o.output === undefined || o.output === "-") io.stdout.write(out);
  else writeAtomically(resolve(io.cwd, o.output), out);
  if (io.stdout.isTTY) io.stderr.write("Encryption successful\n");
}

runIfMain(import.meta, main);
