/**
 * ansible.builtin.user: a local account present (uid, primary group, supplementary groups,
 * shell, home, comment, password hash) or absent. ONE probe (passwd entry, groups, the
 * wished groups' existence, the shadow hash when a password is wished); one change command.
 * The password hash is a secret: it travels on stdin to `chpasswd -e`, never on a command line.
 */
import type { ModuleDefinition, Probe } from "./types.ts";
import { readProbe } from "./probe.ts";
import { ModuleFailure } from "./types.ts";
import { sh, raw } from "../shell/quote.ts";
import { Secret } from "../shell/secret.ts";
import { listArg, requireSuccess, schemaHeader, probeSection } from "./support/system.ts";
import { RULES, requireValue, requireValues, schemaPattern } from "./support/values.ts";

interface UserArgs {
  name: string;
  uid?: number;
  group?: string;
  groups?: string | string[];
  append: boolean;
  shell?: string;
  home?: string;
  create_home: boolean;
  move_home: boolean;
  system: boolean;
  password?: string | Secret;
  update_password: "always" | "on_create";
  state: "present" | "absent";
  remove: boolean;
  force: boolean;
  comment?: string;
  non_unique?: boolean;
  local?: boolean;
}

interface UserState {
  command: string;
  password?: string;
}

/** A passwd line -> fields. */
function parsePasswd(line: string): { uid: number; gid: number; comment: string; home: string; shell: string } | undefined {
  const f = line.trim().split(":");
  if (f.length < 7) return undefined;
  return { uid: Number(f[2]), gid: Number(f[3]), comment: f[4], home: f[5], shell: f[6] };
}

/** What ACCOUNT_PROBE reads of a user. */
export interface Account {
  /** The passwd entry; undefined when there is no such user. */
  entry?: { uid: number; gid: number; comment: string; home: string; shell: string };
  /** Every group of the user (id -Gn), the primary one included. */
  groups: string[];
  primaryGroup: string;
  /** Which of the asked-for groups exist. */
  knownGroups: string[];
  /** The shadow hash, when asked for. */
  passwordHash?: string;
}

/** The user's passwd entry and groups, which of the wanted groups exist, and (asked for) the shadow hash. */
export const ACCOUNT_PROBE: Probe<{ name: string; groups: string[]; password: boolean }, Account> = {
  name: "account",
  command: ({ name, groups, password }) => [
    sh`getent passwd -- ${name} || echo absent`,
    "echo @@groups",
    sh`id -Gn -- ${name} 2>/dev/null; id -gn -- ${name} 2>/dev/null | sed 's/^/primary=/'`,
    "echo @@known",
    // `if`, not `&&`: a missing last group must not become the probe's exit status.
    ...(groups.length ? [sh`for g in ${groups}; do if getent group "$g" >/dev/null; then echo "$g"; fi; done`] : []),
    ...(password ? ["echo @@shadow", sh`getent shadow -- ${name} | cut -d: -f2`] : []),
  ].join("\n"),
  parse(r, { name, password }) {
    requireSuccess(r, `Cannot look up user ${name}`);
    const first = r.stdout.split("\n")[0];
    const groupsSection = probeSection(r.stdout, "groups");
    const found: Account = {
      entry: first === "absent" ? undefined : parsePasswd(first),
      groups: (groupsSection.split("\n")[0] ?? "").split(/\s+/).filter(Boolean),
      primaryGroup: /^primary=(.*)$/m.exec(groupsSection)?.[1] ?? "",
      knownGroups: probeSection(r.stdout, "known").split("\n").filter(Boolean),
    };
    if (password) found.passwordHash = probeSection(r.stdout, "shadow").trim();
    return found;
  },
};

export const user: ModuleDefinition<UserArgs, UserState> = {
  name: "user",
  aliases: [],
  secretArgs: ["password"],
  schema: {
    ...schemaHeader("user", "Manages local user accounts."),
    properties: {
      name: { type: "string", ...schemaPattern(RULES.accountName), description: "User name." },
      uid: { type: "integer", minimum: 0 },
      group: { type: "string", ...schemaPattern(RULES.owner), description: "Primary group (name or gid)." },
      groups: { type: ["string", "array"], items: { type: "string" }, description: "Supplementary groups (list or comma-separated)." },
      append: { type: "boolean", default: false, description: "Add to groups, keep the others." },
      // Fields of an /etc/passwd line.
      shell: { type: "string", ...schemaPattern(RULES.singleLine) },
      home: { type: "string", ...schemaPattern(RULES.singleLine) },
      create_home: { type: "boolean", default: true, aliases: ["createhome"] },
      move_home: { type: "boolean", default: false, description: "Move the old home to the new home." },
      system: { type: "boolean", default: false },
      password: { type: "string", description: "Crypted password hash (e.g. from password_hash('sha512'))." },
      update_password: { type: "string", enum: ["always", "on_create"], default: "always" },
      state: { type: "string", enum: ["present", "absent"], default: "present" },
      remove: { type: "boolean", default: false, description: "With state absent: remove the home directory too." },
      force: { type: "boolean", default: false, description: "With state absent: remove even when logged in." },
      comment: { type: "string", ...schemaPattern(RULES.singleLine), description: "GECOS field (one line)." },
      non_unique: { type: "boolean", description: "Allow a non-unique uid." },
      local: { type: "boolean", description: "Accepted for compatibility." },
    },
    required: ["name"],
  },
  async plan(args, ctx) {
    const wantGroups = args.groups === undefined ? undefined : requireValues("user", "groups", listArg(args.groups), RULES.accountName);
    const password = args.password instanceof Secret ? args.password.reveal() : args.password;
    // chpasswd reads "name:hash" lines: a second line would set another account's password.
    if (password !== undefined) requireValue("user", "password", password, RULES.singleLine, { secret: true });
    const found = await readProbe(ctx, ACCOUNT_PROBE, { name: args.name, groups: [...(wantGroups ?? []), ...(args.group ? [args.group] : [])], password: password !== undefined });
    const entry = found.entry;
    const known = new Set(found.knownGroups);
    const result: Record<string, unknown> = { name: args.name, state: args.state };
    if (args.state === "absent") {
      if (!entry) return { changed: false, reason: `user ${args.name} is absent`, result };
      const opts = `${args.remove ? "-r " : ""}${args.force ? "-f " : ""}`;
      return { changed: true, msg: `user ${args.name} removed`, state: { command: sh`userdel ${raw(opts)}-- ${args.name}` }, result };
    }
    for (const g of [...(wantGroups ?? []), ...(args.group && !/^\d+$/.test(args.group) ? [args.group] : [])]) {
      if (!known.has(g)) throw new ModuleFailure(`Group ${g} does not exist`);
    }
    const createHome = args.create_home;
    if (!entry) {
      const opts: string[] = [];
      if (args.uid !== undefined) opts.push(sh`-u ${args.uid}`);
      if (args.non_unique) opts.push("-o");
      if (args.group) opts.push(sh`-g ${args.group}`);
      if (wantGroups?.length) opts.push(sh`-G ${wantGroups.join(",")}`);
      if (args.shell) opts.push(sh`-s ${args.shell}`);
      if (args.home) opts.push(sh`-d ${args.home}`);
      if (args.comment !== undefined) opts.push(sh`-c ${args.comment}`);
      if (args.system) opts.push("-r");
      opts.push(createHome ? "-m" : "-M");
      let command = `useradd ${opts.join(" ")} ${sh`-- ${args.name}`}`;
      if (password !== undefined) command += " && chpasswd -e";
      return { changed: true, msg: `user ${args.name} created`, state: { command, password: password !== undefined ? `${args.name}:${password}\n` : undefined }, result };
    }
    const primary = found.primaryGroup;
    const current = found.groups.filter((g) => g !== primary);
    const opts: string[] = [];
    const changes: string[] = [];
    if (args.uid !== undefined && args.uid !== entry.uid) { opts.push(sh`-u ${args.uid}`); changes.push(`uid ${entry.uid} -> ${args.uid}`); }
    if (args.group !== undefined && args.group !== primary && !(/^\d+$/.test(args.group) && Number(args.group) === entry.gid)) {
      opts.push(sh`-g ${args.group}`);
      changes.push(`group ${primary} -> ${args.group}`);
    }
    if (wantGroups !== undefined) {
      const missing = wantGroups.filter((g) => !current.includes(g) && g !== (args.group ?? primary));
      const extra = args.append ? [] : current.filter((g) => !wantGroups.includes(g));
      if (missing.length || extra.length) {
        opts.push(args.append ? sh`-a -G ${missing.join(",")}` : sh`-G ${wantGroups.join(",")}`);
        changes.push(`groups ${[...missing.map((g) => `+${g}`), ...extra.map((g) => `-${g}`)].join(" ")}`);
      }
    }
    if (args.shell !== undefined && args.shell !== entry.shell) { opts.push(sh`-s ${args.shell}`); changes.push(`shell ${entry.shell} -> ${args.shell}`); }
    if (args.home !== undefined && args.home !== entry.home) { opts.push(sh`-d ${args.home}${raw(args.move_home ? " -m" : "")}`); changes.push(`home ${entry.home} -> ${args.home}`); }
    if (args.comment !== undefined && args.comment !== entry.comment) { opts.push(sh`-c ${args.comment}`); changes.push("comment changed"); }
    let passwordLine: string | undefined;
    if (password !== undefined && args.update_password === "always") {
      const currentHash = found.passwordHash ?? "";
      if (currentHash !== password) { passwordLine = `${args.name}:${password}\n`; changes.push("password changed"); }
    }
    Object.assign(result, { uid: args.uid ?? entry.uid, home: args.home ?? entry.home, shell: args.shell ?? entry.shell });
    if (changes.length === 0) return { changed: false, reason: `user ${args.name} is as wished`, result };
    const commands = [opts.length ? `usermod ${opts.join(" ")} ${sh`-- ${args.name}`}` : "", passwordLine ? "chpasswd -e" : ""].filter(Boolean);
    return { changed: true, msg: `user ${args.name}: ${changes.join(", ")}`, state: { command: commands.join(" && "), password: passwordLine }, result };
  },
  async apply(plan, args, ctx) {
    requireSuccess(await ctx.run(plan.state!.command, plan.state!.password ? { stdin: plan.state!.password } : undefined), `Cannot change user ${args.name}`);
    return { msg: plan.msg };
  },
};
