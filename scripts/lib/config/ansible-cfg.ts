/**
 * ansible.cfg and ANSIBLE_* for the runner and the scripts, as Ansible reads them: the first
 * readable file of $ANSIBLE_CONFIG (a file, or a folder holding ansible.cfg), ./ansible.cfg
 * (skipped, with Ansible's warning, when the working directory is world-writable),
 * ~/.ansible.cfg, /etc/ansible/ansible.cfg; an environment variable beats the file; the
 * caller lets flags beat both. Relative paths in the file are relative to the file's folder,
 * in the environment to the working directory. A setting we do not use is named in a warning.
 *
 * @example
 *   const cfg = loadAnsibleConfig({ cwd, env });
 *   for (const w of cfg.warnings) stderr.write(`[WARNING]: ${w}\n`);
 *   const user = options.user ?? cfg.settings.remoteUser;
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { ExitCode, UserError, type SourcePosition } from "../errors.ts";
import { parseIni } from "./ini.ts";
import { parseBoolean } from "../boolean.ts";

export interface AnsibleSettings {
  inventory?: string[];
  remoteUser?: string;
  privateKeyFile?: string;
  hostKeyChecking?: boolean;
  rolesPath?: string[];
  collectionsPath?: string[];
  forks?: number;
  timeout?: number;
  become?: boolean;
  becomeUser?: string;
  becomeMethod?: string;
  becomeAskPass?: boolean;
  vaultPasswordFile?: string;
  vaultIdentityList?: string[];
  vaultEncryptIdentity?: string;
  askVaultPass?: boolean;
  retryFilesEnabled?: boolean;
  retryFilesSavePath?: string;
  sshArgs?: string;
  sshCommonArgs?: string;
  sshExtraArgs?: string;
}

type Kind = "string" | "boolean" | "integer" | "path" | "pathlist" | "pathspec" | "list";

interface SettingSpec {
  name: keyof AnsibleSettings;
  section: string;
  key: string;
  env: string;
  kind: Kind;
}

/** What we read: ansible-core's names (lib/ansible/config/base.yml). */
export const SUPPORTED_SETTINGS: readonly SettingSpec[] = [
  { name: "inventory", section: "defaults", key: "inventory", env: "ANSIBLE_INVENTORY", kind: "pathlist" },
  { name: "remoteUser", section: "defaults", key: "remote_user", env: "ANSIBLE_REMOTE_USER", kind: "string" },
  { name: "privateKeyFile", section: "defaults", key: "private_key_file", env: "ANSIBLE_PRIVATE_KEY_FILE", kind: "path" },
  { name: "hostKeyChecking", section: "defaults", key: "host_key_checking", env: "ANSIBLE_HOST_KEY_CHECKING", kind: "boolean" },
  { name: "rolesPath", section: "defaults", key: "roles_path", env: "ANSIBLE_ROLES_PATH", kind: "pathspec" },
  { name: "collectionsPath", section: "defaults", key: "collections_path", env: "ANSIBLE_COLLECTIONS_PATH", kind: "pathspec" },
  // The older (plural) names of the same setting, still read by ansible-core.
  { name: "collectionsPath", section: "defaults", key: "collections_paths", env: "ANSIBLE_COLLECTIONS_PATHS", kind: "pathspec" },
  { name: "forks", section: "defaults", key: "forks", env: "ANSIBLE_FORKS", kind: "integer" },
  { name: "timeout", section: "defaults", key: "timeout", env: "ANSIBLE_TIMEOUT", kind: "integer" },
  // The ssh connection's own name for the same setting (ansible-core 2.11+).
  { name: "timeout", section: "ssh_connection", key: "timeout", env: "ANSIBLE_SSH_TIMEOUT", kind: "integer" },
  { name: "become", section: "privilege_escalation", key: "become", env: "ANSIBLE_BECOME", kind: "boolean" },
  { name: "becomeUser", section: "privilege_escalation", key: "become_user", env: "ANSIBLE_BECOME_USER", kind: "string" },
  { name: "becomeMethod", section: "privilege_escalation", key: "become_method", env: "ANSIBLE_BECOME_METHOD", kind: "string" },
  { name: "becomeAskPass", section: "privilege_escalation", key: "become_ask_pass", env: "ANSIBLE_BECOME_ASK_PASS", kind: "boolean" },
  { name: "vaultPasswordFile", section: "defaults", key: "vault_password_file", env: "ANSIBLE_VAULT_PASSWORD_FILE", kind: "path" },
  { name: "vaultIdentityList", section: "defaults", key: "vault_identity_list", env: "ANSIBLE_VAULT_IDENTITY_LIST", kind: "list" },
  { name: "vaultEncryptIdentity", section: "defaults", key: "vault_encrypt_identity", env: "ANSIBLE_VAULT_ENCRYPT_IDENTITY", kind: "string" },
  { name: "askVaultPass", section: "defaults", key: "ask_vault_pass", env: "ANSIBLE_ASK_VAULT_PASS", kind: "boolean" },
  { name: "retryFilesEnabled", section: "defaults", key: "retry_files_enabled", env: "ANSIBLE_RETRY_FILES_ENABLED", kind: "boolean" },
  { name: "retryFilesSavePath", section: "defaults", key: "retry_files_save_path", env: "ANSIBLE_RETRY_FILES_SAVE_PATH", kind: "path" },
  // The ssh options Ansible hands to OpenSSH: we read what our transport does (-o
  // ServerAliveInterval=..., ConnectTimeout, UserKnownHostsFile, -J, ...), see ssh-args.ts.
  { name: "sshArgs", section: "ssh_connection", key: "ssh_args", env: "ANSIBLE_SSH_ARGS", kind: "string" },
  { name: "sshCommonArgs", section: "ssh_connection", key: "ssh_common_args", env: "ANSIBLE_SSH_COMMON_ARGS", kind: "string" },
  { name: "sshExtraArgs", section: "ssh_connection", key: "ssh_extra_args", env: "ANSIBLE_SSH_EXTRA_ARGS", kind: "string" },
];

/** Environment variables that are not settings (or that other parts read) and so never warn. */
const NOT_SETTINGS = new Set(["ANSIBLE_CONFIG"]);

export interface LoadedAnsibleConfig {
  /** The ansible.cfg that was read, if any. */
  file?: string;
  settings: AnsibleSettings;
  /** Where each setting came from: `env ANSIBLE_FORKS` or `file:line`. */
  origins: Partial<Record<keyof AnsibleSettings, string>>;
  /** Ansible's world-writable warning, unsupported settings. */
  warnings: string[];
}

export interface ConfigContext {
  cwd: string;
  env: Record<string, string | undefined>;
  /** Default: the user's home (HOME, else os.homedir()). */
  home?: string;
  /** Default /etc/ansible/ansible.cfg (changed by tests). */
  systemFile?: string;
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The ansible.cfg Ansible would read here, and its warning for a world-writable cwd. */
export function findAnsibleConfig(ctx: ConfigContext): { file?: string; warnings: string[] } {
  const home = ctx.home ?? ctx.env.HOME ?? homedir();
  const candidates: string[] = [];
  let fromEnv: string | undefined;
  const envPath = ctx.env.ANSIBLE_CONFIG;
  if (envPath !== undefined) {
    fromEnv = resolve(ctx.cwd, expandHome(envPath, home));
    if (existsSync(fromEnv) && statSync(fromEnv).isDirectory()) fromEnv = join(fromEnv, "ansible.cfg");
    candidates.push(fromEnv);
  }
  let skippedCwd = false;
  const cwdFile = join(ctx.cwd, "ansible.cfg");
  try {
    // A world-writable directory: anyone could plant an ansible.cfg there.
    if ((statSync(ctx.cwd).mode & 0o002) !== 0) skippedCwd = existsSync(cwdFile);
    else candidates.push(cwdFile);
  } catch {
    // an unreadable cwd is no source
  }
  candidates.push(join(home, ".ansible.cfg"), ctx.systemFile ?? "/etc/ansible/ansible.cfg");
  const file = candidates.find(readable);
  const warnings: string[] = [];
  if (skippedCwd && (fromEnv === undefined || file !== fromEnv)) {
    warnings.push(
      `Ansible is being run in a world writable directory (${ctx.cwd}), ignoring it as an ansible.cfg source. For more information see https://docs.ansible.com/ansible/devel/reference_appendices/config.html#cfg-in-world-writable-dir`,
    );
  }
  return { file, warnings };
}

function expandHome(path: string, home: string): string {
  return path === "~" || path.startsWith("~/") ? home + path.slice(1) : path;
}

function bad(message: string, where: SourcePosition | undefined, hint: string): UserError {
  return new UserError(message, { where, hint, exitCode: ExitCode.error });
}

/** Converts one raw value as Ansible's config types do; relative paths against `base`. */
function convert(spec: SettingSpec, raw: string, base: string, home: string, origin: string, where?: SourcePosition): unknown {
  const path = (p: string) => {
    const expanded = expandHome(p.trim(), home);
    return isAbsolute(expanded) ? expanded : resolve(base, expanded);
  };
  switch (spec.kind) {
    case "string":
      return raw;
    case "boolean": {
      // Ansible's words (boolean.ts); an empty value is false, as in Ansible's config.
      const v = raw.trim() === "" ? false : parseBoolean(raw);
      if (v !== undefined) return v;
      throw bad(`${origin}: ${spec.key} must be true or false, got ${JSON.stringify(raw)}`, where, "Use true/false (or yes/no).");
    }
    case "integer":
      if (!/^\s*\d+\s*$/.test(raw) || Number(raw) < 1) throw bad(`${origin}: ${spec.key} must be a positive whole number, got ${JSON.stringify(raw)}`, where, "e.g. forks = 10");
      return Number(raw);
    case "path":
      return path(raw);
    case "pathlist":
      return raw.split(",").filter((p) => p.trim() !== "").map(path);
    case "pathspec":
      return raw.split(":").filter((p) => p.trim() !== "").map(path);
    case "list":
      return raw.split(",").map((p) => p.trim()).filter(Boolean);
  }
}

/** Reads ansible.cfg (if any) and ANSIBLE_*; bad values are UserErrors naming file:line or the variable. */
export function loadAnsibleConfig(ctx: ConfigContext): LoadedAnsibleConfig {
  const home = ctx.home ?? ctx.env.HOME ?? homedir();
  const { file, warnings } = findAnsibleConfig(ctx);
  const settings: Record<string, unknown> = {};
  const origins: Partial<Record<keyof AnsibleSettings, string>> = {};
  if (file) {
    const known = new Map(SUPPORTED_SETTINGS.map((s) => [`${s.section}.${s.key}`, s]));
    for (const entry of parseIni(readFileSync(file, "utf8"), file)) {
      const spec = known.get(`${entry.section}.${entry.key}`);
      const where = { file, line: entry.line };
      if (!spec) {
        warnings.push(`${file}:${entry.line}: [${entry.section}] ${entry.key} is not supported by this runner and is ignored`);
        continue;
      }
      settings[spec.name] = convert(spec, entry.value, dirname(file), home, `${file}:${entry.line}`, where);
      origins[spec.name] = `${file}:${entry.line}`;
    }
  }
  const byEnv = new Map(SUPPORTED_SETTINGS.map((s) => [s.env, s]));
  for (const [name, value] of Object.entries(ctx.env)) {
    if (!name.startsWith("ANSIBLE_") || value === undefined || NOT_SETTINGS.has(name)) continue;
    const spec = byEnv.get(name);
    if (!spec) {
      warnings.push(`environment variable ${name} is not supported by this runner and is ignored`);
      continue;
    }
    settings[spec.name] = convert(spec, value, ctx.cwd, home, `environment variable ${name}`);
    origins[spec.name] = `env ${name}`;
  }
  return { file, settings: settings as AnsibleSettings, origins, warnings };
}
