/**
 * ansible-vault's command line: `vault ACTION [options] [files|strings]` with ACTION one of
 * create, decrypt, edit, view, encrypt, encrypt_string, rekey, and its flags. Mistakes are
 * UsageErrors (exit 5), as the runner's.
 */
import { didYouMean } from "../errors.ts";
import { UsageError, parseFlags, type Flag } from "../cli/flags.ts";

export const ACTIONS = ["create", "decrypt", "edit", "view", "encrypt", "encrypt_string", "rekey"] as const;
export type VaultAction = (typeof ACTIONS)[number];

export interface VaultCliOptions {
  action?: VaultAction;
  args: string[];
  vaultIds: string[];
  vaultPasswordFiles: string[];
  askVaultPass: boolean;
  encryptVaultId?: string;
  output?: string;
  /** encrypt_string */
  names: string[];
  stdinName?: string;
  prompt: boolean;
  /** rekey */
  newVaultId?: string;
  newVaultPasswordFile?: string;
  verbosity: number;
  help: boolean;
  version: boolean;
}

interface VaultFlag extends Flag<VaultCliOptions> {
  /** Actions that take it (default: all). */
  only?: VaultAction[];
}

const FLAGS: VaultFlag[] = [
  { long: ["vault-id"], value: true, apply: (o, v) => o.vaultIds.push(v) },
  { long: ["vault-password-file", "vault-pass-file"], value: true, apply: (o, v) => o.vaultPasswordFiles.push(v) },
  { long: ["ask-vault-pass", "ask-vault-password"], short: "J", apply: (o) => (o.askVaultPass = true) },
  { long: ["encrypt-vault-id"], value: true, only: ["create", "encrypt", "encrypt_string", "rekey"], apply: (o, v) => (o.encryptVaultId = v) },
  { long: ["output"], value: true, only: ["decrypt", "encrypt", "encrypt_string"], apply: (o, v) => (o.output = v) },
  { long: ["name"], short: "n", value: true, only: ["encrypt_string"], apply: (o, v) => o.names.push(v) },
  { long: ["stdin-name"], value: true, only: ["encrypt_string"], apply: (o, v) => (o.stdinName = v) },
  { long: ["prompt"], short: "p", only: ["encrypt_string"], apply: (o) => (o.prompt = true) },
  { long: ["new-vault-id"], value: true, only: ["rekey"], apply: (o, v) => (o.newVaultId = v) },
  { long: ["new-vault-password-file"], value: true, only: ["rekey"], apply: (o, v) => (o.newVaultPasswordFile = v) },
  { long: ["verbose"], short: "v", apply: (o) => o.verbosity++ },
  { long: ["help"], short: "h", apply: (o) => (o.help = true) },
  { long: ["version"], apply: (o) => (o.version = true) },
];

export function parseVaultArgs(argv: string[]): VaultCliOptions {
  const o: VaultCliOptions = { args: [], vaultIds: [], vaultPasswordFiles: [], askVaultPass: false, names: [], prompt: false, verbosity: 0, help: false, version: false };
  const used: [VaultFlag, string][] = [];
  const [first, ...rest] = parseFlags(argv, FLAGS, o, { onFlag: (flag, shown) => used.push([flag, shown]) });
  if (first !== undefined) {
    const action = first.replace("-", "_") as VaultAction;
    if (!ACTIONS.includes(action)) {
      const guess = didYouMean(first, ACTIONS);
      throw new UsageError(`unknown action ${JSON.stringify(first)}${guess ? `; did you mean ${guess}?` : ""}`, `Actions: ${ACTIONS.join(", ")}.`);
    }
    o.action = action;
    o.args = rest;
  }
  if (o.help || o.version) return o;
  if (!o.action) throw new UsageError("no action given", `Usage: vault {${ACTIONS.join(",")}} [options] [file ...]`);
  const action = o.action;
  const misplaced = used.find(([flag]) => flag.only && !flag.only.includes(action));
  if (misplaced) throw new UsageError(`${misplaced[1]} is not an option of "${action}"`);
  const needsFiles: VaultAction[] = ["create", "edit", "view", "rekey"];
  if (needsFiles.includes(o.action) && o.args.length === 0) throw new UsageError(`"${o.action}" needs at least one file name`);
  if ((o.action === "create" || o.action === "edit") && o.args.length !== 1) throw new UsageError(`"${o.action}" takes exactly one file name`);
  if (o.output !== undefined && o.output !== "-" && o.args.length > 1 && o.action !== "encrypt_string") throw new UsageError("--output can only be used with one input file");
  return o;
}

export const VAULT_HELP = `Usage: vault {create,decrypt,edit,view,encrypt,encrypt_string,rekey} [options] [file ...]
       (npx zx vault ..., deno run -A scripts/vault.ts ...)

Encrypts and decrypts Ansible Vault data (format 1.1, and 1.2 with a vault id) that
ansible-vault reads, and reads what ansible-vault writes. The flags are ansible-vault's.

Actions:
  create FILE            edit a new encrypted file in $EDITOR
  decrypt [FILE ...]     decrypt in place (or to --output; stdin to stdout without files)
  edit FILE              edit an encrypted file in $EDITOR (the plaintext lives only in a
                         private 0700 temp folder, removed afterwards)
  view FILE ...          print the plaintext
  encrypt [FILE ...]     encrypt in place (or to --output; stdin to stdout without files)
  encrypt_string [STRING ...]  print '!vault |' YAML values (stdin without strings)
  rekey FILE ...         re-encrypt with a new password

Options:
  -J, --ask-vault-pass         ask for the vault password (alias --ask-vault-password)
      --vault-password-file F  the password: a file, or an executable printing it (repeatable)
      --vault-id [LABEL@]SRC   a labelled password: SRC is prompt, a file or an executable
      --encrypt-vault-id ID    which vault id encrypts (when several are given)
      --output FILE            where to write (- for stdout): encrypt, decrypt, encrypt_string
  -n, --name NAME              encrypt_string: the variable name of the next string
      --stdin-name NAME        encrypt_string: read the string from stdin, name it NAME
  -p, --prompt                 encrypt_string: ask for the string
      --new-vault-id [LABEL@]SRC, --new-vault-password-file F   rekey: the new password
  -v, --verbose                stack traces of errors with -vvv
  -h, --help                   this text

Without any password option it asks on the terminal, as ansible-vault does. ansible.cfg's
vault_password_file, vault_identity_list and vault_encrypt_identity (and their ANSIBLE_*
variables) apply. Exit codes: 0 ok, 1 error (wrong password, unreadable file), 5 bad options.
`;
