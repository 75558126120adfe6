/**
 * The command line of scripts/adhoc.ts, as `ansible`: `adhoc PATTERN -m MODULE -a ARGS` with
 * -i, -l, -b, -K, -f, -C, -D, -e, -o, -u, --private-key, -c, -v. Mistakes are UsageErrors (exit 5).
 */
import { UsageError, connectionType, parseFlags, positiveInt, type Flag } from "../cli/flags.ts";

export interface AdhocOptions {
  pattern?: string;
  module: string;
  args?: string;
  inventory: string[];
  limit?: string;
  become: boolean;
  becomeUser?: string;
  askBecomePass: boolean;
  forks: number;
  /** -f given (else ansible.cfg's forks, else 5). */
  forksGiven: boolean;
  check: boolean;
  diff: boolean;
  extraVars: string[];
  oneLine: boolean;
  user?: string;
  privateKey?: string;
  connection?: "ssh" | "local";
  acceptNewHostKeys: boolean;
  vaultIds: string[];
  vaultPasswordFiles: string[];
  askVaultPass: boolean;
  verbosity: number;
  help: boolean;
}

const FLAGS: Flag<AdhocOptions>[] = [
  { long: ["module-name"], short: "m", value: true, apply: (o, v) => (o.module = v) },
  { long: ["args"], short: "a", value: true, apply: (o, v) => (o.args = v) },
  { long: ["inventory", "inventory-file"], short: "i", value: true, apply: (o, v) => o.inventory.push(v) },
  { long: ["limit"], short: "l", value: true, apply: (o, v) => (o.limit = o.limit ? `${o.limit}:${v}` : v) },
  { long: ["become"], short: "b", apply: (o) => (o.become = true) },
  { long: ["become-user"], value: true, apply: (o, v) => (o.becomeUser = v) },
  { long: ["ask-become-pass"], short: "K", apply: (o) => (o.askBecomePass = true) },
  { long: ["forks"], short: "f", value: true, apply: (o, v) => ((o.forks = positiveInt(v, "--forks")), (o.forksGiven = true)) },
  { long: ["check"], short: "C", apply: (o) => (o.check = true) },
  { long: ["diff"], short: "D", apply: (o) => (o.diff = true) },
  { long: ["extra-vars"], short: "e", value: true, apply: (o, v) => o.extraVars.push(v) },
  { long: ["one-line"], short: "o", apply: (o) => (o.oneLine = true) },
  { long: ["user"], short: "u", value: true, apply: (o, v) => (o.user = v) },
  { long: ["private-key", "key-file"], value: true, apply: (o, v) => (o.privateKey = v) },
  { long: ["connection"], short: "c", value: true, apply: (o, v) => (o.connection = connectionType(v)) },
  { long: ["accept-new-host-keys"], apply: (o) => (o.acceptNewHostKeys = true) },
  { long: ["vault-id"], value: true, apply: (o, v) => o.vaultIds.push(v) },
  { long: ["vault-password-file", "vault-pass-file"], value: true, apply: (o, v) => o.vaultPasswordFiles.push(v) },
  { long: ["ask-vault-pass", "ask-vault-password"], short: "J", apply: (o) => (o.askVaultPass = true) },
  { long: ["verbose"], short: "v", apply: (o) => o.verbosity++ },
  { long: ["help"], short: "h", apply: (o) => (o.help = true) },
];

export function parseAdhocArgs(argv: string[]): AdhocOptions {
  const o: AdhocOptions = { module: "command", inventory: [], become: false, askBecomePass: false, forks: 5, forksGiven: false, check: false, diff: false, extraVars: [], oneLine: false, acceptNewHostKeys: false, vaultIds: [], vaultPasswordFiles: [], askVaultPass: false, verbosity: 0, help: false };
  const positional = parseFlags(argv, FLAGS, o);
  if (o.help) return o;
  if (positional.length === 0) throw new UsageError("no host pattern given", "Usage: adhoc PATTERN -m MODULE -a ARGS (e.g. adhoc all -a uptime).");
  if (positional.length > 1) throw new UsageError(`one host pattern, got "${positional.join(" ")}"`, "Join patterns with a colon (agents:servers) or quote -a's value.");
  o.pattern = positional[0];
  if (o.limit !== undefined && o.limit.trim() === "") throw new UsageError("--limit is empty");
  if (["command", "shell", "raw"].includes(o.module.replace(/^ansible\.(builtin|legacy)\./, "")) && (o.args ?? "").trim() === "") {
    throw new UsageError(`No argument passed to ${o.module} module`, `Give the command with -a, e.g. -a "uptime".`);
  }
  return o;
}

export const ADHOC_HELP = `Usage: adhoc PATTERN [-m MODULE] [-a ARGS] [options]   (as ansible)
       (npx zx adhoc ..., deno run -A scripts/adhoc.ts ...)

Runs one module on the hosts PATTERN names, through the same executor as the playbooks.
The default module is command.

Examples:
  adhoc all -m ping                                        can every Pi be reached and logged in to?
  adhoc all -a uptime -o                                   uptime of every Pi, one line each
  adhoc cluster -a "vcgencmd measure_temp" -o              their temperature
  adhoc agents -b -f 1 -m reboot                           reboot the agents one by one
  adhoc cluster -b -m apt -a "name=openssh-server state=latest update_cache=true" --check
                                                           what an upgrade would do, then without --check

Options:
  -m, --module-name NAME     the module (default command)
  -a, --args ARGS            its arguments: k=v words, or the command for command/shell/raw
  -i, --inventory PATH       inventory file, folder or host,list (default inventory/hosts.yml)
  -l, --limit PATTERN        only these hosts
  -b, --become               run it with sudo (--become-user USER)
  -K, --ask-become-pass      ask for the sudo password
  -f, --forks N              hosts in parallel (default 5, as ansible)
  -C, --check                change nothing, report what would change
  -D, --diff                 show file changes as unified diffs
  -e, --extra-vars VARS      k=v pairs, JSON/YAML, or @file (repeatable)
  -o, --one-line             one line per host
  -u, --user USER            SSH user    --private-key FILE   SSH key
  -c, --connection TYPE      ssh (default) or local
      --accept-new-host-keys record the keys of hosts not in known_hosts
  -J, --ask-vault-pass       ask for the vault password (alias --ask-vault-password)
      --vault-password-file FILE  vault password file, or an executable printing it (repeatable)
      --vault-id [LABEL@]SOURCE   a vault password: SOURCE is prompt, a file or an executable
  -v, --verbose              more output (-vvv: stack traces of errors)
  -h, --help                 this text

ansible.cfg and ANSIBLE_* apply as for the runner (inventory, remote_user, private_key_file,
become, become_user, forks, timeout, host_key_checking, vault settings); flags beat them.
Output is ansible's: "host | CHANGED | rc=0 >>" and its output for command/shell/raw,
"host | SUCCESS => {...}" for other modules, FAILED!/UNREACHABLE! likewise.
Exit codes: 0 ok, 1 error, 2 a host failed, 4 unreachable or a parse error, 5 bad options,
99 interrupted.
`;
