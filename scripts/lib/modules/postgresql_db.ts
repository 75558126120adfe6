/**
 * community.postgresql.postgresql_db: a database present (with an owner) or absent. One probe
 * query, one statement. Removing a database is its data gone: only on an explicit state absent.
 */
import type { ModuleDefinition } from "./types.ts";
import { schemaHeader } from "./support/system.ts";
import { PsqlMissing, probeLines, runSql, sqlIdent, sqlLiteral, validateName, type PsqlLogin } from "./support/psql.ts";

interface PostgresqlDbArgs extends Omit<PsqlLogin, "db"> {
  name: string;
  owner?: string;
  state: "present" | "absent";
  maintenance_db: string;
}

export const postgresqlDb: ModuleDefinition<PostgresqlDbArgs, { sql: string }> = {
  name: "postgresql_db",
  aliases: ["community.postgresql.postgresql_db"],
  schema: {
    ...schemaHeader("postgresql_db", "Adds or removes a PostgreSQL database and sets its owner."),
    properties: {
      name: { type: "string", description: "Database name." },
      owner: { type: "string", description: "Role that owns the database." },
      state: { type: "string", enum: ["present", "absent"], default: "present" },
      login_user: { type: "string", default: "postgres", description: "OS and database superuser that runs psql over the local socket." },
      port: { type: "integer", default: 5432, minimum: 1, maximum: 65535, description: "Port of the cluster (selects its socket)." },
      maintenance_db: { type: "string", default: "postgres", description: "Database to connect to while creating or dropping." },
    },
    required: ["name"],
  },
  async plan(args, ctx) {
    validateName("database", args.name);
    if (args.owner !== undefined) validateName("role", args.owner);
    const login = { login_user: args.login_user, port: args.port, db: args.maintenance_db };
    const probeSql = () => runSql(
      ctx,
      login,
      `SELECT 'exists=' || count(*) FROM pg_database WHERE datname = ${sqlLiteral(args.name)};\n` +
        `SELECT 'owner=' || pg_get_userbyid(datdba) FROM pg_database WHERE datname = ${sqlLiteral(args.name)};`,
      `Cannot read database ${args.name}`,
    );
    let lines: string[];
    try {
      lines = await probeSql();
    } catch (e) {
      // --check on a fresh host: the package that brings psql was not really installed
      if (e instanceof PsqlMissing && ctx.check && args.state === "present") return { changed: true, msg: `database ${args.name} created (PostgreSQL is not installed yet)`, result: { db: args.name, state: args.state, owner: args.owner } };
      throw e;
    }
    const probe = probeLines(lines);
    const exists = probe.get("exists") === "1";
    const result = { db: args.name, state: args.state, owner: probe.get("owner") ?? args.owner };
    const ident = sqlIdent(args.name);
    if (args.state === "absent") {
      if (!exists) return { changed: false, reason: `database ${args.name} is absent`, result };
      return { changed: true, msg: `database ${args.name} removed`, state: { sql: `DROP DATABASE ${ident};` }, result };
    }
    if (!exists) {
      const owner = args.owner !== undefined ? ` OWNER ${sqlIdent(args.owner)}` : "";
      return { changed: true, msg: `database ${args.name} created`, state: { sql: `CREATE DATABASE ${ident}${owner};` }, result: { ...result, owner: args.owner } };
    }
    if (args.owner !== undefined && probe.get("owner") !== args.owner) {
      return {
        changed: true,
        msg: `database ${args.name}: owner changed ${probe.get("owner")} -> ${args.owner}`,
        state: { sql: `ALTER DATABASE ${ident} OWNER TO ${sqlIdent(args.owner)};` },
        result: { ...result, owner: args.owner },
      };
    }
    return { changed: false, reason: `database ${args.name} exists${args.owner !== undefined ? ` owned by ${args.owner}` : ""}`, result };
  },
  async apply(plan, args, ctx) {
    await runSql(ctx, { login_user: args.login_user, port: args.port, db: args.maintenance_db }, plan.state!.sql, `Cannot change database ${args.name}`);
    return { msg: plan.msg };
  },
};
