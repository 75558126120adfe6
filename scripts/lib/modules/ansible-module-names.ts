/**
 * The modules Ansible (ansible-core 2.14+ and the collections Debian / Raspberry Pi OS roles
 * use most) has, by collection. A task naming one of them that this runner lacks still loads
 * (multi-distro roles name dnf, pacman, ... for other platforms) and fails only when it runs; a
 * name in none of these lists is a typo and is refused at load, as Ansible refuses a module it
 * cannot resolve.
 */
const COLLECTIONS: Record<string, string> = {
  "ansible.builtin": `add_host apt apt_key apt_repository assemble assert async_status blockinfile command copy cron
    deb822_repository debconf debug dnf dnf5 dpkg_selections expect fail fetch file find gather_facts get_url getent git
    group group_by hostname import_playbook import_role import_tasks include_role include_tasks include_vars iptables
    known_hosts lineinfile meta mount_facts package package_facts pause ping pip raw reboot replace rpm_key script service
    service_facts set_fact set_stats setup shell slurp stat subversion systemd systemd_service sysvinit tempfile template
    unarchive uri user validate_argument_spec wait_for wait_for_connection yum yum_repository`,
  "ansible.posix": `acl at authorized_key firewalld firewalld_info mount patch rhel_facts rpm_ostree_upgrade seboolean selinux
    synchronize sysctl`,
  "community.general": `alternatives apk apt_rpm archive capabilities cronvar dconf filesystem flatpak flatpak_remote gem
    git_config homebrew homebrew_cask htpasswd ini_file interfaces_file iso_extract java_cert kernel_blacklist launchd
    listen_ports_facts locale_gen lvg lvol make modprobe nmcli npm openwrt_init osx_defaults pacman pacman_key pam_limits
    pamd parted pids pkgng portage runit sefcontext shutdown snap snap_alias ssh_config sudoers supervisorctl syspatch sysrc
    sysupgrade timezone ufw urpmi xbps xml yarn zfs zypper zypper_repository`,
  "community.crypto": `acme_certificate openssh_keypair openssl_csr openssl_dhparam openssl_pkcs12 openssl_privatekey
    openssl_publickey x509_certificate x509_certificate_info`,
  "community.docker": `docker_compose docker_compose_v2 docker_container docker_container_info docker_host_info docker_image
    docker_image_info docker_login docker_network docker_prune docker_swarm docker_volume`,
  "kubernetes.core": `helm helm_info helm_plugin helm_repository k8s k8s_cp k8s_drain k8s_exec k8s_info k8s_json_patch k8s_log
    k8s_rollback k8s_scale k8s_service`,
  "community.mysql": "mysql_db mysql_info mysql_query mysql_replication mysql_user mysql_variables",
  "community.postgresql": `postgresql_db postgresql_ext postgresql_info postgresql_membership postgresql_pg_hba postgresql_privs
    postgresql_query postgresql_schema postgresql_set postgresql_user`,
};

const byCollection = new Map(Object.entries(COLLECTIONS).map(([c, names]) => [c, new Set(names.split(/\s+/).filter(Boolean))]));
const shortNames = new Set([...byCollection.values()].flatMap((s) => [...s]));

/**
 * The FQCN Ansible would run for a task key, when the key names a module Ansible has: a short
 * name (builtins, and the collection modules Ansible's routing still finds by short name), an
 * FQCN in a listed collection (ansible.legacy.* as ansible.builtin.*), or any FQCN of a
 * collection not listed here (it may be installed; we cannot tell a typo there).
 */
export function ansibleModuleFqcn(name: string): string | undefined {
  const parts = name.split(".");
  if (parts.length === 1) {
    if (!shortNames.has(name)) return undefined;
    for (const [collection, names] of byCollection) if (names.has(name)) return `${collection}.${name}`;
  }
  if (parts.length !== 3 || parts.some((p) => !/^[a-z_][a-z0-9_]*$/.test(p))) return undefined;
  const collection = parts[0] === "ansible" && parts[1] === "legacy" ? "ansible.builtin" : `${parts[0]}.${parts[1]}`;
  const known = byCollection.get(collection);
  if (known && !known.has(parts[2])) return undefined;
  return `${collection}.${parts[2]}`;
}

/** Whether an FQCN is one of the listed modules (not a guess about an unlisted collection). */
export function isListedModule(fqcn: string): boolean {
  const i = fqcn.lastIndexOf(".");
  return byCollection.get(fqcn.slice(0, i))?.has(fqcn.slice(i + 1)) === true;
}
