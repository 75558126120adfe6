/**
 * ansible-playbook's command line: flags, their short forms, repeatable lists, -vvv counting,
 * short-flag clusters (`-bK`, `-CD`), `--flag=value`. Mistakes are UsageErrors (exit 5).
 */
import { UsageError, connectionType, parseFlags, positiveInt, type Flag } from "./flags.ts";

export { UsageError } from "./flags.ts";

export interface CliOptions {
  playbooks: string[];
  inventory: string[];
  limit?: string;
  tags: string[];
  skipTags: string[];
  check: boolean;
  diff: boolean;
  extraVars: string[];
  forks: number;
  /** -f was given (ansible.cfg's forks applies otherwise). */
  forksGiven: boolean;
  user?: string;
  privateKey?: string;
  become: boolean;
  askBecomePass: boolean;
  verbosity: number;
  listHosts: boolean;
  listTasks: boolean;
  listTags: boolean;
  syntaxCheck: boolean;
  startAtTask?: string;
  step: boolean;
  json?: string;
  acceptNewHostKeys: boolean;
  connection?: "ssh" | "local";
  /** --vault-id [LABEL@]SOURCE, in order. */
  vaultIds: string[];
  /** --vault-password-file FILE (a file, or an executable printing the password). */
  vaultPasswordFiles: string[];
  /** --ask-vault-pass */
  askVaultPass: boolean;
  help: boolean;
  version: boolean;
}

export const FLAGS: readonly Flag<CliOptions>[] = [
  { long: "inventory", short: "i", value: true, apply: (o, v) => o.inventory.push(v) },
  { long: "inventory-file", value: true, apply: (o, v) => o.inventory.push(v) },
  { long: "limit", short: "l", value: true, apply: (o, v) => (o.limit = o.limit ? `${o.limit}:${v}` : v) },
  { long: "tags", short: "t", value: true, apply: (o, v) => o.tags.push(v) },
  { long: "skip-tags", value: true, apply: (o, v) => o.skipTags.push(v) },
  { long: "check", short: "C", apply: (o) => (o.check = true) },
  { long: "diff", short: "D", apply: (o) => (o.diff = true) },
  { long: "extra-vars", short: "e", value: true, apply: (o, v) => o.extraVars.push(v) },
  { long: "forks", short: "f", value: true, apply: (o, v) => ((o.forks = positiveInt(v, "--forks")), (o.forksGiven = true)) },
  { long: "user", short: "u", value: true, apply: (o, v) => (o.user = v) },
  { long: "private-key", value: true, apply: (o, v) => (o.privateKey = v) },
  { long: "key-file", value: true, apply: (o, v) => (o.privateKey = v) },
  { long: "become", short: "b", apply: (o) => (o.become = true) },
  { long: "ask-become-pass", short: "K", apply: (o) => (o.askBecomePass = true) },
  { long: "verbose", short: "v", apply: (o) => o.verbosity++ },
  { long: "list-hosts", apply: (o) => (o.listHosts = true) },
  { long: "list-tasks", apply: (o) => (o.listTasks = true) },
  { long: "list-tags", apply: (o) => (o.listTags = true) },
  { long: "syntax-check", apply: (o) => (o.syntaxCheck = true) },
  { long: "start-at-task", value: true, apply: (o, v) => (o.startAtTask = v) },
  { long: "step", apply: (o) => (o.step = true) },
  { long: "json", value: true, apply: (o, v) => (o.json = v) },
  { long: "accept-new-host-keys", apply: (o) => (o.acceptNewHostKeys = true) },
  { long: "connection", short: "c", value: true, apply: (o, v) => (o.connection = connectionType(v)) },
  { long: "vault-id", value: true, apply: (o, v) => o.vaultIds.push(v) },
  { long: "vault-password-file", value: true, apply: (o, v) => o.vaultPasswordFiles.push(v) },
  { long: "vault-pass-file", value: true, apply: (o, v) => o.vaultPasswordFiles.push(v) },
  { long: "ask-vault-pass", short: "J", apply: (o) => (o.askVaultPass = true) },
  { long: "ask-vault-password", apply: (o) => (o.askVaultPass = true) },
  { long: "help", short: "h", apply: (o) => (o.help = true) },
  { long: "version", apply: (o) => (o.version = true) },
];

export function defaultOptions(): CliOptions {
  return {
    playbooks: [],
    inventory: [],
    tags: [],
    skipTags: [],
    check: false,
    diff: false,
    extraVars: [],
    forks: 50,
    forksGiven: false,
    become: false,
    askBecomePass: false,
    verbosity: 0,
    listHosts: false,
    listTasks: false,
    listTags: false,
    syntaxCheck: false,
    step: false,
    acceptNewHostKeys: false,
    vaultIds: [],
    vaultPasswordFiles: [],
    askVaultPass: false,
    help: false,
    version: false,
  };
}

/**
 * Parses argv (without node and script). Throws UsageError for unknown flags, missing
 * values and bad combinations.
 *
 * @example parseCliArgs(["site.yml", "-i", "hosts.yml", "--tags", "ntp,k3s", "-vv"])
 */
export function parseCliArgs(argv: string[]): CliOptions {
  const o = defaultOptions();
  o.playbooks = parseFlags(argv, FLAGS, o);
  if (o.help || o.version) return o;
  if (o.playbooks.length === 0) throw new UsageError("no playbook given", "Usage: run <playbook.yml> [options]; --help lists the options.");
  if (o.limit !== undefined && o.limit.trim() === "") throw new UsageError("--limit is empty");
  for (const [flag, list] of [["--tags", o.tags], ["--skip-tags", o.skipTags]] as const) {
    if (list.some((v) => v.split(",").every((t) => t.trim() === ""))) throw new UsageError(`${flag} needs at least one tag name`);
  }
  if (o.step && (o.listHosts || o.listTasks || o.listTags || o.syntaxCheck)) {
    throw new UsageError("--step cannot be combined with --list-hosts/--list-tasks/--list-tags/--syntax-check");
  }
  if (o.json !== undefined && o.json.trim() === "") throw new UsageError("--json needs a file name");
  return o;
}

export const HELP = `Usage: run <playbook.yml> [options]
       (also: deno run -A scripts/play.ts ..., node --import tsx scripts/play.ts ...)

Runs Ansible-syntax playbooks over SSH.

Options:
  -i, --inventory PATH       inventory file, folder or comma list of hosts (repeatable;
                             default: inventory/hosts.yml)
  -l, --limit PATTERN        only these hosts (host patterns, @file: one per line; after
                             a failure the runner prints the --limit that retries them)
  -t, --tags TAGS            only tasks with these tags (comma list, repeatable)
      --skip-tags TAGS       skip tasks with these tags (wins over --tags)
  -C, --check                change nothing, report what would change
  -D, --diff                 show file changes as unified diffs
  -e, --extra-vars VARS      k=v pairs, JSON/YAML, or @file (repeatable, highest precedence)
  -f, --forks N              hosts in parallel (default 50)
  -u, --user USER            SSH user (when the inventory names none)
      --private-key FILE     SSH private key (alias --key-file)
  -b, --become               run tasks with sudo
  -K, --ask-become-pass      ask for the sudo password (on the terminal, without echo)
  -c, --connection TYPE      ssh (default) or local
      --accept-new-host-keys record the keys of hosts not in known_hosts (OpenSSH accept-new)
  -J, --ask-vault-pass       ask for the vault password (alias --ask-vault-password)
      --vault-password-file FILE  vault password file, or an executable printing it (repeatable)
      --vault-id [LABEL@]SOURCE   a vault password: SOURCE is prompt, a file or an executable
                             (repeatable; vault files and !vault values are decrypted in memory)
  -v, --verbose              more output (-vv, -vvv: stack traces of errors, -vvvv)
      --list-hosts           list the hosts each play would run on
      --list-tasks           list the tasks (after --tags/--skip-tags)
      --list-tags            list the tags
      --syntax-check         check the playbook and exit
      --start-at-task NAME   start at the first task with this name
      --step                 confirm each task before it runs
      --json FILE            write a JSON report (Ansible's json callback layout)
  -h, --help                 this text
      --version              the version

Settings also come from ansible.cfg ($ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg,
/etc/ansible/ansible.cfg: the first found) and ANSIBLE_* variables; flags win over both.

Exit codes: 0 ok, 1 error, 2 a host failed, 4 a host unreachable or a parse error,
5 bad options, 99 interrupted.
`;
