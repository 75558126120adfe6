/**
 * The set-up every command shares before it reads any YAML: ansible.cfg and ANSIBLE_* (their
 * warnings printed once), the become method check, the vault passwords; and the inventory
 * sources as Ansible picks them (-i beats ANSIBLE_INVENTORY beats ansible.cfg's inventory, then
 * inventory/hosts.yml here). Used by the runner (play.ts), inventory.ts and adhoc.ts alike.
 *
 * @example
 *   const config = await loadCommandSettings(options, { cwd, env, stderr });
 *   const inventory = loadInventory(inventorySources(options.inventory, cwd, config.settings));
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { ExitCode, UserError } from "../errors.ts";
import { loadAnsibleConfig, type LoadedAnsibleConfig, type AnsibleSettings } from "../config/ansible-cfg.ts";
import { setupVault, type VaultFlags } from "../vault/setup.ts";
import type { ConnectionOverrides } from "../run/options.ts";
import { UsageError } from "./flags.ts";

/** For a command without vault options: ansible.cfg's vault settings (vault_password_file...) still apply. */
export const NO_VAULT_FLAGS: VaultFlags = { vaultIds: [], vaultPasswordFiles: [], askVaultPass: false };

export interface SettingsIo {
  cwd: string;
  env: Record<string, string | undefined>;
  stderr: { write(text: string): unknown };
}

/** Reads ansible.cfg/ANSIBLE_*, prints its warnings, refuses a become method other than sudo, installs the vault passwords. */
export async function loadCommandSettings(flags: VaultFlags, io: SettingsIo): Promise<LoadedAnsibleConfig> {
  const config = loadAnsibleConfig({ cwd: io.cwd, env: io.env });
  for (const warning of config.warnings) io.stderr.write(`[WARNING]: ${warning}\n`);
  const { settings } = config;
  if (settings.becomeMethod !== undefined && settings.becomeMethod !== "sudo") {
    throw new UserError(`become_method "${settings.becomeMethod}" is not supported (only sudo)`, { exitCode: ExitCode.error, hint: `Set by ${config.origins.becomeMethod}; remove it or set it to sudo.` });
  }
  await setupVault(flags, settings, io.cwd);
  return config;
}

/**
 * The inventory sources: -i values (a path that exists here is made absolute; `a,b,` host lists
 * stay as given), else ansible.cfg's/ANSIBLE_INVENTORY's, else inventory/hosts.yml here.
 */
export function inventorySources(given: string[], cwd: string, settings: AnsibleSettings): string[] {
  if (given.length > 0) return given.map((s) => (existsSync(resolve(cwd, s)) ? resolve(cwd, s) : s));
  if (settings.inventory?.length) return settings.inventory;
  const fallback = resolve(cwd, "inventory", "hosts.yml");
  if (existsSync(fallback)) return [fallback];
  throw new UsageError(
    "no inventory: inventory/hosts.yml does not exist here and no -i was given",
    "Pass -i <inventory file, folder or host,list>, set inventory in ansible.cfg (or ANSIBLE_INVENTORY), or create inventory/hosts.yml.",
  );
}

/** The connection flags run and adhoc share (ansible's common options). */
export interface ConnectionFlags {
  user?: string;
  privateKey?: string;
  become: boolean;
  acceptNewHostKeys: boolean;
  connection?: "ssh" | "local";
}

/** -K or ansible.cfg's become_ask_pass: the sudo password, asked once on the terminal and masked from then on. */
export async function askBecomePassword(askFlag: boolean, settings: AnsibleSettings): Promise<string | undefined> {
  if (!askFlag && !settings.becomeAskPass) return undefined;
  const { readSecretLine } = await import("./prompt.ts");
  const { registerSecret } = await import("../shell/secret.ts");
  const password = await readSecretLine("BECOME password: ");
  registerSecret(password);
  return password;
}

/** The run's connection settings: the flags beat ansible.cfg/ANSIBLE_*. */
export function connectionOverrides(flags: ConnectionFlags, settings: AnsibleSettings, becomePassword: string | undefined): ConnectionOverrides {
  return {
    user: flags.user ?? settings.remoteUser,
    privateKeyFile: flags.privateKey ?? settings.privateKeyFile,
    become: flags.become || settings.become || undefined,
    becomeUser: settings.becomeUser,
    hostKeyChecking: settings.hostKeyChecking,
    timeout: settings.timeout,
    sshArgs: settings.sshArgs,
    sshCommonArgs: settings.sshCommonArgs,
    sshExtraArgs: settings.sshExtraArgs,
    becomePassword,
    acceptNewHostKeys: flags.acceptNewHostKeys,
    connection: flags.connection,
  };
}
