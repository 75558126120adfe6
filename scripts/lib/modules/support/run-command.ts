/**
 * What command, shell and raw share: creates/removes (probed in one command, with globs as
 * Ansible's glob.glob), check-mode behaviour as Ansible's command module, and the result
 * fields `register` gives (rc, stdout, stderr, *_lines, cmd, start, end, delta, msg).
 */
import type { ModuleContext, Plan } from "../types.ts";
import { ModuleFailure } from "../types.ts";
import { quote } from "../../shell/quote.ts";
import { Secret, maskSecrets } from "../../shell/secret.ts";

export interface CommandArgs {
  _raw_params?: string | Secret;
  cmd?: string | Secret;
  argv?: Array<string | number | Secret>;
  chdir?: string;
  creates?: string;
  removes?: string;
  stdin?: string | Secret;
  stdin_add_newline?: boolean;
  strip_empty_ends?: boolean;
  executable?: string;
}

export interface CommandState {
  /** The shell command to run on the target. */
  script: string;
  /** What `cmd` shows in the result (argv list for command, the string for shell). */
  shown: string | string[];
}

/** creates/removes let the plan say whether the command would run (ModuleDefinition.planDecides). */
export function createsOrRemoves(args: CommandArgs): boolean {
  return args.creates !== undefined || args.removes !== undefined;
}

/**
 * Plans a command-like module. The command always "would run" unless creates/removes say it
 * already did; in check mode Ansible skips it (or reports changed when creates/removes were
 * given and allow the run).
 */
export async function planCommand(args: CommandArgs, ctx: ModuleContext, state: CommandState): Promise<Plan<CommandState>> {
  const shownCmd = maskShown(state.shown);
  if (createsOrRemoves(args)) {
    const checks: string[] = [];
    if (args.chdir) checks.push(`cd -- ${quote(args.chdir)} 2>/dev/null || :`);
    if (args.creates !== undefined) checks.push(globExists(args.creates, "creates-exists"));
    if (args.removes !== undefined) checks.push(globExists(args.removes, "removes-exists"));
    const r = await ctx.run(checks.join("\n"));
    if (args.creates !== undefined && r.stdout.includes("creates-exists")) {
      const msg = `skipped, since ${args.creates} exists`;
      return { changed: false, reason: msg, result: { cmd: shownCmd, rc: 0, stdout: msg, stdout_lines: [msg], stderr: "", stderr_lines: [], msg } };
    }
    if (args.removes !== undefined && !r.stdout.includes("removes-exists")) {
      const msg = `skipped, since ${args.removes} does not exist`;
      return { changed: false, reason: msg, result: { cmd: shownCmd, rc: 0, stdout: msg, stdout_lines: [msg], stderr: "", stderr_lines: [], msg } };
    }
    if (ctx.check) {
      return { changed: true, msg: "Command would have run if not in check mode", state, result: { cmd: shownCmd } };
    }
    return { changed: true, state };
  }
  if (ctx.check) return { changed: false, skipped: "Command would have run if not in check mode", result: { cmd: shownCmd } };
  return { changed: true, state };
}

/** Runs the planned command; non-zero rc throws ModuleFailure("non-zero return code", result). */
export async function applyCommand(args: CommandArgs, ctx: ModuleContext, state: CommandState): Promise<{ result: Record<string, unknown> }> {
  let stdin: string | undefined;
  if (args.stdin !== undefined) {
    stdin = args.stdin instanceof Secret ? args.stdin.reveal() : String(args.stdin);
    if (args.stdin_add_newline !== false) stdin += "\n";
  }
  const start = new Date();
  const r = await ctx.run(state.script, stdin === undefined ? undefined : { stdin });
  const end = new Date();
  const strip = args.strip_empty_ends !== false;
  // The real output: it is data a later task may test; writers mask secrets where it is shown.
  const stdout = strip ? r.stdout.replace(/[\r\n]+$/, "") : r.stdout;
  const stderr = strip ? r.stderr.replace(/[\r\n]+$/, "") : r.stderr;
  const result: Record<string, unknown> = {
    cmd: maskShown(state.shown),
    rc: r.rc,
    stdout,
    stderr,
    stdout_lines: splitLines(stdout),
    stderr_lines: splitLines(stderr),
    start: timestamp(start),
    end: timestamp(end),
    delta: delta(end.getTime() - start.getTime()),
    msg: r.rc === 0 ? "" : failureMessage(r.stderr),
  };
  if (r.rc !== 0) throw new ModuleFailure(result.msg as string, result);
  return { result };
}

/**
 * Why a command failed: sudo refusing (the transport puts its explanation first on stderr:
 * "become (sudo to root) needs a password: ...") says so; otherwise Ansible's wording.
 */
function failureMessage(stderr: string): string {
  const first = stderr.split("\n")[0];
  return /^become (\(sudo to [^)]*\)|needs sudo)/.test(first) ? first : "non-zero return code";
}

/** Prefixes `cd <chdir>` (failing clearly when the directory is missing). */
export function withChdir(script: string, chdir?: string): string {
  if (!chdir) return script;
  return `cd -- ${quote(chdir)} || exit 1\n${script}`;
}

/**
 * A check that prints `tag` when some path matches the glob `pattern` (Ansible's glob.glob:
 * * ? [...]). The pattern reaches the shell only as the value of a variable, expanded
 * unquoted with IFS empty: POSIX applies pathname expansion to the result of a parameter
 * expansion but never command substitution, parameter expansion or quote removal again, and
 * an empty IFS means no field splitting. So "$(...)", backticks, "${...}", quotes and newlines
 * in the pattern are literal characters, wherever they stand, brackets included.
 */
export function globExists(pattern: string, tag: string): string {
  return `g=${quote(pattern)}; IFS=''; set +f; for f in $g; do [ -e "$f" ] && { echo ${tag}; break; }; done`;
}

function maskShown(shown: string | string[]): string | string[] {
  return Array.isArray(shown) ? shown.map(maskSecrets) : maskSecrets(shown);
}

function splitLines(text: string): string[] {
  return text === "" ? [] : text.split(/\r?\n/);
}

function timestamp(d: Date): string {
  const iso = d.toISOString(); // 2026-11-22T18:34:00.123Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`;
}

/** Ansible's timedelta text: "0:00:00.003456". */
function delta(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const us = (ms % 1000) * 1000;
  return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}.${String(us).padStart(6, "0")}`;
}

/** Shared schema properties of command-like modules. */
export const COMMAND_COMMON_PROPERTIES = {
  _raw_params: { type: "string", description: "The command (free form)." },
  cmd: { type: "string", description: "The command, when not given free form." },
  chdir: { type: "string", description: "Change into this directory before running." },
  creates: { type: "string", description: "A path (glob): when it exists, the command is not run." },
  removes: { type: "string", description: "A path (glob): when it does not exist, the command is not run." },
  stdin: { type: "string", description: "Text fed to the command's standard input." },
  stdin_add_newline: { type: "boolean", default: true, description: "Append a newline to stdin." },
  strip_empty_ends: { type: "boolean", default: true, description: "Strip trailing newlines from stdout/stderr." },
} as const;
