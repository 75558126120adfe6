/**
 * community.postgresql.postgresql_user: a login role present (with a password) or absent. One
 * probe query; the password is compared with the stored SCRAM verifier on the controller and,
 * when it differs, sent as a new verifier on psql's stdin (the clear password never reaches
 * the node, a command line or the output).
 */
import type { ModuleDefinition } from "./types.ts";
import { Secret } from "../shell/secret.ts";
import { schemaHeader } from "./support/system.ts";
import { PsqlMissing, probeLines, runSql, sqlIdent, sqlLiteral, validateName, type PsqlLogin } from "./support/psql.ts";
import { isMd5, scramVerifier, verifierMatches } from "./support/scram.ts";

interface PostgresqlUserArgs extends PsqlLogin {
  name: string;
  password?: string | Secret;
  state: "present" | "absent";
  no_password_changes: boolean;
}

export const postgresqlUser: ModuleDefinition<PostgresqlUserArgs, { sql: string }> = {
  name: "postgresql_user",
  aliases: ["community.postgresql.postgresql_user"],
  schema: {
    ...schemaHeader("postgresql_user", "Adds or removes a PostgreSQL login role, with a password kept as a SCRAM-SHA-256 verifier."),
    properties: {
      name: { type: "string", description: "Role name." },
      password: { type: "string", description: "The role's password (use no_log). Stored as a SCRAM-SHA-256 verifier computed on the controller." },
      state: { type: "string", enum: ["present", "absent"], default: "present" },
      no_password_changes: { type: "boolean", default: false, description: "Set the password only when the role is created." },
      login_user: { type: "string", default: "postgres", description: "OS and database superuser that runs psql over the local socket." },
      port: { type: "integer", default: 5432, minimum: 1, maximum: 65535, description: "Port of the cluster (selects its socket)." },
      db: { type: "string", default: "postgres", description: "Database to connect to." },
    },
    required: ["name"],
  },
  async plan(args, ctx) {
    validateName("role", args.name);
    const name = sqlLiteral(args.name);
    const probeSql = () => runSql(
      ctx,
      args,
      `SELECT 'exists=' || count(*) FROM pg_authid WHERE rolname = ${name};\n` +
        `SELECT 'login=' || rolcanlogin::text FROM pg_authid WHERE rolname = ${name};\n` +
        `SELECT 'password=' || coalesce(rolpassword, '') FROM pg_authid WHERE rolname = ${name};`,
      `Cannot read role ${args.name}`,
    );
    let lines: string[];
    try {
      lines = await probeSql();
    } catch (e) {
      // --check on a fresh host: the package that brings psql was not really installed
      if (e instanceof PsqlMissing && ctx.check && args.state === "present") return { changed: true, msg: `role ${args.name} created (PostgreSQL is not installed yet)`, result: { user: args.name, state: args.state } };
      throw e;
    }
    const probe = probeLines(lines);
    const exists = probe.get("exists") === "1";
    const result = { user: args.name, state: args.state };
    const ident = sqlIdent(args.name);
    if (args.state === "absent") {
      if (!exists) return { changed: false, reason: `role ${args.name} is absent`, result };
      return { changed: true, msg: `role ${args.name} removed`, state: { sql: `DROP ROLE ${ident};` }, result };
    }
    const password = args.password instanceof Secret ? args.password.reveal() : args.password;
    if (!exists) {
      const pw = password !== undefined ? ` PASSWORD ${sqlLiteral(scramVerifier(password))}` : "";
      return { changed: true, msg: `role ${args.name} created`, state: { sql: `CREATE ROLE ${ident} LOGIN${pw};` }, result };
    }
    const changes: string[] = [];
    const clauses: string[] = [];
    if (probe.get("login") !== "true") {
      changes.push("login allowed");
      clauses.push("LOGIN");
    }
    if (password !== undefined && !args.no_password_changes) {
      const stored = probe.get("password") ?? "";
      if (!verifierMatches(stored, password, args.name) || isMd5(stored)) {
        changes.push(isMd5(stored) && verifierMatches(stored, password, args.name) ? "password upgraded to SCRAM-SHA-256" : "password changed");
        clauses.push(`PASSWORD ${sqlLiteral(scramVerifier(password))}`);
      }
    }
    if (changes.length === 0) return { changed: false, reason: `role ${args.name} exists${password !== undefined ? " with that password" : ""}`, result };
    return { changed: true, msg: `role ${args.name}: ${changes.join(", ")}`, state: { sql: `ALTER ROLE ${ident} ${clauses.join(" ")};` }, result };
  },
  async apply(plan, args, ctx) {
    await runSql(ctx, args, plan.state!.sql, `Cannot change role ${args.name}`);
    return { msg: plan.msg };
  },
};
