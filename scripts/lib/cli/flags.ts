/**
 * The one command-line flag parser of every script (run, adhoc, inventory, vault, firstboot):
 * GNU/argparse style as Ansible's tools take it: `--flag value`, `--flag=value`, short flags
 * and clusters of them (`-bK`, `-CD`, `-vvv`), a short flag's value glued on (`-ihosts.yml`,
 * `-i=hosts.yml`) or in the next word, and `--` ending the options. Each script declares its
 * flags as data and checks its operands itself. Mistakes are UsageErrors (exit 5).
 */
import { ExitCode, UserError, didYouMean } from "../errors.ts";

/** A bad flag or combination: exit code 5, with the usage hint. */
export class UsageError extends UserError {
  constructor(message: string, hint = "Run with --help for the list of options.") {
    super(message, { exitCode: ExitCode.badOptions, hint });
    this.name = "UsageError";
  }
}

/** One flag of a command line, applied to the options object `O` as it is met. */
export interface Flag<O> {
  /** Long name(s) without the dashes; the first is the name, the others aliases. */
  long: string | readonly string[];
  short?: string;
  /** Takes a value. */
  value?: boolean;
  apply(o: O, value: string): void;
}

export interface ParseFlagsOptions<O> {
  /** Called for every flag met, with the spelling used (`-n`, `--name`): for checks that need the whole line. */
  onFlag?(flag: Flag<O>, shown: string): void;
  /** The error for an unknown long option (default: "unknown option --x; did you mean --y?"). */
  unknownLong?(name: string, guess: string | undefined): UsageError;
}

/**
 * Applies the flags of `argv` to `o` and returns the operands (the words that are not flags,
 * in order, and everything after `--`).
 *
 * @example parseFlags(["-bK", "site.yml", "--tags=ntp"], FLAGS, options) // → ["site.yml"]
 */
export function parseFlags<O>(argv: readonly string[], flags: readonly Flag<O>[], o: O, options: ParseFlagsOptions<O> = {}): string[] {
  const byLong = new Map<string, Flag<O>>();
  for (const flag of flags) for (const name of typeof flag.long === "string" ? [flag.long] : flag.long) byLong.set(name, flag);
  const byShort = new Map(flags.filter((f) => f.short).map((f) => [f.short!, f]));
  const use = (flag: Flag<O>, shown: string, value: string) => {
    options.onFlag?.(flag, shown);
    flag.apply(o, value);
  };
  const operands: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = (shown: string): string => {
      if (i + 1 >= argv.length) throw new UsageError(`${shown} needs a value`);
      return argv[++i];
    };
    if (arg === "--") {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = arg.slice(2, eq >= 0 ? eq : undefined);
      const flag = byLong.get(name);
      if (!flag) {
        const guess = didYouMean(name, byLong.keys());
        throw options.unknownLong?.(name, guess) ?? new UsageError(`unknown option --${name}${guess ? `; did you mean --${guess}?` : ""}`);
      }
      if (!flag.value && eq >= 0) throw new UsageError(`--${name} takes no value`);
      use(flag, `--${name}`, flag.value ? (eq >= 0 ? arg.slice(eq + 1) : next(`--${name}`)) : "");
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      // A cluster of short flags; a flag taking a value takes the rest of the cluster or the next word.
      for (let j = 1; j < arg.length; j++) {
        const flag = byShort.get(arg[j]);
        if (!flag) throw new UsageError(`unknown option -${arg[j]}${arg.length > 2 ? ` (in ${arg})` : ""}`);
        if (flag.value) {
          const rest = arg.slice(j + 1);
          use(flag, `-${arg[j]}`, rest !== "" ? rest.replace(/^=/, "") : next(`-${arg[j]}`));
          break;
        }
        use(flag, `-${arg[j]}`, "");
      }
      continue;
    }
    operands.push(arg);
  }
  return operands;
}

/** `-f`/`--forks` and the like: a whole number of at least 1. */
export function positiveInt(value: string, flag: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag} must be a positive whole number, got "${value}"`);
  return Number(value);
}

/** `-c`/`--connection`: Ansible's ssh-like plugins all mean our SSH transport. */
export function connectionType(value: string): "ssh" | "local" {
  if (value === "ssh" || value === "smart" || value === "paramiko") return "ssh";
  if (value === "local") return "local";
  throw new UsageError(`--connection must be ssh or local, got "${value}"`);
}
