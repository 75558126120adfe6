/**
 * The command line of scripts/inventory.ts: ansible-inventory's flags for listing (`-i`,
 * `--list`, `--host`, `--graph [GROUP]`, `--vars`, `-y`, `--output`, `--playbook-dir`), and
 * edit subcommands with their own flags. Mistakes are UsageErrors (exit 5).
 */
import { UsageError, parseFlags, type Flag } from "../cli/flags.ts";
import { didYouMean } from "../errors.ts";

export const EDIT_COMMANDS = ["add-host", "remove-host", "set-var", "unset-var", "move-host", "rename-host", "convert"] as const;
export type EditCommand = (typeof EDIT_COMMANDS)[number];

export interface InventoryOptions {
  inventory: string[];
  action?: "list" | "host" | "graph";
  command?: EditCommand;
  /** Positional words after the subcommand (or the --graph group). */
  words: string[];
  host?: string;
  vars: boolean;
  yaml: boolean;
  output?: string;
  playbookDir?: string;
  groups: string[];
  assignments: string[];
  group?: string;
  from?: string;
  to?: string;
  dryRun: boolean;
  vaultIds: string[];
  vaultPasswordFiles: string[];
  askVaultPass: boolean;
  verbosity: number;
  help: boolean;
}

const FLAGS: Flag<InventoryOptions>[] = [
  { long: ["inventory", "inventory-file"], short: "i", value: true, apply: (o, v) => o.inventory.push(v) },
  { long: ["list"], apply: (o) => setAction(o, "list") },
  { long: ["host"], value: true, apply: (o, v) => (setAction(o, "host"), (o.host = v)) },
  { long: ["graph"], apply: (o) => setAction(o, "graph") },
  { long: ["vars"], apply: (o) => (o.vars = true) },
  { long: ["yaml"], short: "y", apply: (o) => (o.yaml = true) },
  { long: ["output"], value: true, apply: (o, v) => (o.output = v) },
  { long: ["playbook-dir"], value: true, apply: (o, v) => (o.playbookDir = v) },
  { long: ["group"], short: "g", value: true, apply: (o, v) => o.groups.push(...v.split(",").filter(Boolean)) },
  { long: ["var"], value: true, apply: (o, v) => o.assignments.push(v) },
  { long: ["from"], value: true, apply: (o, v) => (o.from = v) },
  { long: ["to"], value: true, apply: (o, v) => (o.to = v) },
  { long: ["dry-run", "check"], short: "C", apply: (o) => (o.dryRun = true) },
  { long: ["vault-id"], value: true, apply: (o, v) => o.vaultIds.push(v) },
  { long: ["vault-password-file", "vault-pass-file"], value: true, apply: (o, v) => o.vaultPasswordFiles.push(v) },
  { long: ["ask-vault-pass", "ask-vault-password"], short: "J", apply: (o) => (o.askVaultPass = true) },
  { long: ["verbose"], short: "v", apply: (o) => o.verbosity++ },
  { long: ["help"], short: "h", apply: (o) => (o.help = true) },
];

function setAction(o: InventoryOptions, action: NonNullable<InventoryOptions["action"]>): void {
  if (o.action && o.action !== action) throw new UsageError(`--${o.action} and --${action} cannot be combined: one of --list, --host, --graph`);
  o.action = action;
}

export function parseInventoryArgs(argv: string[]): InventoryOptions {
  const o: InventoryOptions = { inventory: [], words: [], vars: false, yaml: false, groups: [], assignments: [], dryRun: false, vaultIds: [], vaultPasswordFiles: [], askVaultPass: false, verbosity: 0, help: false };
  const positional = parseFlags(argv, FLAGS, o, {
    unknownLong: (name, guess) => {
      // ansible-inventory's flags we deliberately lack are named as such, without a guess.
      if (["export", "toml", "extra-vars"].includes(name)) return new UsageError(`unsupported option --${name}`);
      return new UsageError(`unknown option --${name}${guess ? `; did you mean --${guess}?` : ""}`);
    },
  });
  if (o.help) return o;
  const first = positional[0];
  if (first !== undefined && (EDIT_COMMANDS as readonly string[]).includes(first)) {
    // `set-var --host NAME`: there --host names the target, it is not the listing.
    const targetsHost = o.action === "host" && (first === "set-var" || first === "unset-var");
    if (o.action && !targetsHost) throw new UsageError(`${first} cannot be combined with --${o.action}`);
    if (targetsHost) o.action = undefined;
    o.command = first as EditCommand;
    o.words = positional.slice(1);
  } else if (first !== undefined && !o.action) {
    const guess = didYouMean(first, EDIT_COMMANDS);
    throw new UsageError(`unknown command "${first}"${guess ? `; did you mean ${guess}?` : ""}`, "Run with --help for the commands.");
  } else o.words = positional;
  if (!o.action && !o.command) throw new UsageError("nothing to do: give --list, --host NAME, --graph or a command", "Run with --help for the commands.");
  if (o.action && o.action !== "graph" && o.words.length > 0) throw new UsageError(`unexpected argument "${o.words[0]}"`);
  if (o.action === "graph" && o.words.length > 1) throw new UsageError("--graph takes at most one group name");
  return o;
}

export const INVENTORY_HELP = `Usage: inv [-i INVENTORY] --list | --host NAME | --graph [GROUP]   (as ansible-inventory)
       inv [-i INVENTORY] COMMAND ... [--dry-run]
       (npx zx inv ..., deno run -A scripts/inventory.ts ...)

Lists and edits the inventory. Listings are ansible-inventory's, with secret values
(passwords, tokens, keys) shown as ***. Edits keep comments, blank lines, key order and
quoting: only the lines the command means to change change. The result is checked before it
is written (the runner's loader, the inventory schema; role requirements are warned about),
then written atomically; the previous file is kept as <file>.bak.

Listing:
  -i, --inventory PATH     inventory file or folder (repeatable; default inventory/hosts.yml)
      --list               all groups and hosts, with each host's variables (JSON)
      --host NAME          one host's variables (JSON)
      --graph [GROUP]      the group tree (from GROUP, default all)
      --vars               with --graph: each host's variables
  -y, --yaml               YAML instead of JSON
      --output FILE        write the listing to FILE
      --playbook-dir DIR   also read DIR/group_vars and DIR/host_vars
  -J, --ask-vault-pass     ask for the vault password (alias --ask-vault-password)
      --vault-password-file FILE, --vault-id [LABEL@]SOURCE   vault passwords (repeatable)
                           (--list and --host show !vault values as ansible-inventory does:
                           {"__ansible_vault": "<the encrypted text>"})

Commands (on one YAML inventory file):
  add-host NAME [-g GROUP]... [--var k=v]...    add a host (to groups; default ungrouped),
                                               or an existing host to more groups
  remove-host NAME [-g GROUP]                   from GROUP only, or from everywhere
  set-var (--host NAME | -g GROUP) k=v...       set variables where they take effect
                                               (host_vars/group_vars files if they set them)
  unset-var (--host NAME | -g GROUP) NAME...    remove variables
  move-host NAME --from GROUP --to GROUP        its variables and comments move with it
  rename-host OLD NEW                           also renames host_vars/OLD(.yml)
  convert [--output FILE]                       an INI inventory to YAML (FILE.yml by default);
                                               INI inventories are edited only after this
  -C, --dry-run            print the diff, write nothing (alias --check)
  -v, --verbose            -vvv: stack traces of errors
  -h, --help               this text

ansible.cfg and ANSIBLE_* apply as for the runner: inventory (-i beats ANSIBLE_INVENTORY,
which beats ansible.cfg) and the vault settings.

Values are read as YAML: --var ansible_port=2222 is a number, --var "k='2222'" a string.

Exit codes: 0 ok, 1 error (e.g. no such host), 4 a parse error in the inventory, 5 bad options.
`;
