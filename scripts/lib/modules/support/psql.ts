/**
 * SQL for the postgresql_* modules: run as the database superuser through `psql` over the
 * local socket (peer authentication, as Ansible's modules do by default), the SQL on STDIN
 * (never on a command line: it may carry a password verifier). Values are quoted here.
 */
import type { ModuleContext } from "../types.ts";
import { ModuleFailure } from "../types.ts";
import { sh } from "../../shell/quote.ts";
import { maskSecrets } from "../../shell/secret.ts";
import { UserError } from "../../errors.ts";

export interface PsqlLogin {
  /** OS and database user that runs psql (peer authentication). */
  login_user: string;
  port: number;
  /** Database to connect to. */
  db: string;
}

/** A PostgreSQL string literal (standard_conforming_strings, the default since 9.1). */
export function sqlLiteral(text: string): string {
  if (text.includes("\0")) throw new UserError("A PostgreSQL value cannot contain a NUL character");
  return `'${text.replaceAll("'", "''")}'`;
}

/** A quoted identifier (role or database name). */
export function sqlIdent(name: string): string {
  if (name.includes("\0")) throw new UserError("A PostgreSQL name cannot contain a NUL character");
  return `"${name.replaceAll('"', '""')}"`;
}

/** Names are also checked for sanity (the 63-byte limit, printable). */
export function validateName(kind: string, name: string): void {
  if (name === "" || Buffer.byteLength(name) > 63 || /[\x00-\x1f]/.test(name)) {
    throw new UserError(`Not a usable PostgreSQL ${kind} name: "${name}"`, { hint: "use 1-63 bytes of printable characters, e.g. k3s" });
  }
}

/** The command that runs psql as `login_user` (via runuser when we are someone else). */
export function psqlCommand(login: PsqlLogin): string {
  const psql = sh`psql -X -q -A -t -v ON_ERROR_STOP=1 -p ${login.port} -d ${login.db} -f -`;
  // psql missing (rc 127) is told apart: in check mode the package is not installed yet
  return `command -v psql >/dev/null 2>&1 || { echo 'psql: command not found' >&2; exit 127; }; ` +
    `if [ "$(id -un)" = ${sh`${login.login_user}`} ]; then ${psql}; else runuser -u ${sh`${login.login_user}`} -- ${psql}; fi`;
}

/** psql is not there (yet): in check mode the package task before it did not really run. */
export class PsqlMissing extends ModuleFailure {}

/** Runs SQL; fails the task with psql's error (secrets masked) or a hint when psql is missing. */
export async function runSql(ctx: ModuleContext, login: PsqlLogin, sql: string, what: string): Promise<string[]> {
  const r = await ctx.run(psqlCommand(login), { stdin: `${sql}\n` });
  if (r.rc === 127) {
    throw new PsqlMissing(`${what}: psql is not installed on ${ctx.host} (install postgresql first)`, { rc: r.rc });
  }
  if (r.rc !== 0) {
    const detail = maskSecrets(r.stderr.trim() || r.stdout.trim()).split("\n").slice(-4).join("\n");
    throw new ModuleFailure(`${what}: ${detail || `psql rc ${r.rc}`}`, { rc: r.rc });
  }
  return r.stdout.split("\n").filter((l) => l !== "");
}

/** `key=value` lines printed by a probe query (first occurrence wins). */
export function probeLines(lines: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines) {
    const eq = line.indexOf("=");
    if (eq > 0 && !out.has(line.slice(0, eq))) out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}
