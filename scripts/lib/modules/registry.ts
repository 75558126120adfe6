/**
 * Every module the runner knows, by every name a playbook may use: the short name, the
 * module's own aliases (e.g. ansible.posix.mount), and ansible.builtin.<name> /
 * ansible.legacy.<name> (Ansible resolves both for builtins and redirects the rest).
 *
 * To add a module: import it and append it to MODULES. Nothing else.
 */
import type { ModuleDefinition } from "./types.ts";
import { unsupportedModule } from "./unsupported.ts";
import { ansibleModuleFqcn, isListedModule } from "./ansible-module-names.ts";
import { command } from "./command.ts";
import { shell } from "./shell.ts";
import { raw } from "./raw.ts";
import { stat } from "./stat.ts";
import { copy } from "./copy.ts";
import { template } from "./template.ts";
import { lineinfile } from "./lineinfile.ts";
import { blockinfile } from "./blockinfile.ts";
import { replace } from "./replace.ts";
import { file } from "./file.ts";
import { slurp } from "./slurp.ts";
import { fetch } from "./fetch.ts";
import { get_url } from "./get_url.ts";
import { unarchive } from "./unarchive.ts";
import { staticIp } from "./static_ip.ts";
import { apt } from "./apt.ts";
import { packageModule } from "./package.ts";
import { systemd } from "./systemd.ts";
import { service } from "./service.ts";
import { user } from "./user.ts";
import { group } from "./group.ts";
import { hostname } from "./hostname.ts";
import { modprobe } from "./modprobe.ts";
import { parted } from "./parted.ts";
import { filesystem } from "./filesystem.ts";
import { diskInfo } from "./disk_info.ts";
import { kernelInfo } from "./kernel_info.ts";
import { k3sNodeInfo } from "./k3s_node_info.ts";
import { longhornNodeInfo } from "./longhorn_node_info.ts";
import { timesyncInfo } from "./timesync_info.ts";
import { find } from "./find.ts";
import { sysctl } from "./sysctl.ts";
import { mount } from "./mount.ts";
import { authorizedKey } from "./authorized_key.ts";
import { cron } from "./cron.ts";
import { knownHosts } from "./known_hosts.ts";
import { aptRepository } from "./apt_repository.ts";
import { rpiCmdline } from "./rpi_cmdline.ts";
import { rpiConfig } from "./rpi_config.ts";
import { rpiEeprom } from "./rpi_eeprom.ts";
import { timezone } from "./timezone.ts";
import { waitFor } from "./wait_for.ts";
import { reboot } from "./reboot.ts";
import { postgresqlUser } from "./postgresql_user.ts";
import { postgresqlDb } from "./postgresql_db.ts";
import { ping } from "./ping.ts";
import { serviceFacts } from "./service_facts.ts";
import { packageFacts } from "./package_facts.ts";
import { ufw } from "./ufw.ts";
import { iptables } from "./iptables.ts";
import { alternatives } from "./alternatives.ts";
import { debconf } from "./debconf.ts";
import { localeGen } from "./locale_gen.ts";
import { getent } from "./getent.ts";
import { pamLimits } from "./pam_limits.ts";
import { kernelBlacklist } from "./kernel_blacklist.ts";
import { iniFile } from "./ini_file.ts";
import { dpkgSelections } from "./dpkg_selections.ts";

const MODULES: ModuleDefinition[] = [
  command,
  shell,
  raw,
  stat,
  copy,
  template,
  lineinfile,
  blockinfile,
  replace,
  file,
  slurp,
  fetch,
  get_url,
  unarchive,
  staticIp,
  apt,
  packageModule,
  systemd,
  service,
  user,
  group,
  hostname,
  modprobe,
  parted,
  filesystem,
  diskInfo,
  kernelInfo,
  k3sNodeInfo,
  longhornNodeInfo,
  timesyncInfo,
  find,
  sysctl,
  mount,
  authorizedKey,
  cron,
  knownHosts,
  aptRepository,
  rpiCmdline,
  rpiConfig,
  rpiEeprom,
  timezone,
  waitFor,
  reboot,
  postgresqlUser,
  postgresqlDb,
  ping,
  serviceFacts,
  packageFacts,
  ufw,
  iptables,
  alternatives,
  debconf,
  localeGen,
  getent,
  pamLimits,
  kernelBlacklist,
  iniFile,
  dpkgSelections,
];

const byName = new Map<string, ModuleDefinition>();
for (const module of MODULES) addNames(module);

function addNames(module: ModuleDefinition): void {
  const names = [module.name, `ansible.builtin.${module.name}`, `ansible.legacy.${module.name}`, ...module.aliases];
  for (const name of names) byName.set(name, module);
}

/**
 * The module for a task's key (short name or FQCN); for a module Ansible has and we lack, a
 * stand-in that fails when run (unsupported.ts); undefined when no module has that name.
 */
export function getModule(name: string): ModuleDefinition | undefined {
  const module = byName.get(name);
  if (module) return module;
  const fqcn = ansibleModuleFqcn(name);
  if (!fqcn) return undefined;
  // A listed collection's copy of a module we have (community.general.timezone): ours.
  const ours = isListedModule(fqcn) ? byName.get(fqcn.slice(fqcn.lastIndexOf(".") + 1)) : undefined;
  return ours ?? unsupportedModule(name, fqcn);
}

/** Every accepted name, for "did you mean" suggestions and the task-key check. */
export function moduleNames(): string[] {
  return [...byName.keys()].sort();
}

/** Every module once (for schema generation and docs). */
export function allModules(): ModuleDefinition[] {
  return [...MODULES];
}

/**
 * Adds a module at run time (tests, plugins). Prefer the static MODULES list for modules
 * shipped with the runner.
 */
export function registerModule(module: ModuleDefinition): void {
  if (!MODULES.includes(module)) MODULES.push(module);
  addNames(module);
}
