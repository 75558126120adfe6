/**
 * The vault passwords a command uses, from its flags and ansible.cfg/ANSIBLE_* as Ansible
 * combines them (vault_identity_list before --vault-id; vault_password_file after
 * --vault-password-file; ask_vault_pass as --ask-vault-pass), installed for the YAML loaders.
 * Every script that loads playbooks, inventories or vars calls this once before loading.
 */
import type { AnsibleSettings } from "../config/ansible-cfg.ts";
import { setVaultSecrets, type VaultSecret } from "./keyring.ts";
import { loadVaultSecrets } from "./sources.ts";

export interface VaultFlags {
  vaultIds: string[];
  vaultPasswordFiles: string[];
  askVaultPass: boolean;
}

/** Reads the passwords (prompting if asked) and makes them the loaders' keyring. */
export async function setupVault(flags: VaultFlags, settings: AnsibleSettings, cwd: string): Promise<VaultSecret[]> {
  const vaultIds = [...(settings.vaultIdentityList ?? []), ...flags.vaultIds];
  const passwordFiles = [...flags.vaultPasswordFiles, ...(settings.vaultPasswordFile ? [settings.vaultPasswordFile] : [])];
  const askVaultPass = flags.askVaultPass || settings.askVaultPass === true;
  const secrets = vaultIds.length + passwordFiles.length > 0 || askVaultPass ? await loadVaultSecrets({ vaultIds, passwordFiles, askVaultPass, cwd }) : [];
  setVaultSecrets(secrets);
  return secrets;
}
