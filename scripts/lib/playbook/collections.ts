/**
 * Where Ansible looks for roles it is not given a path to: roles_path and the roles of
 * installed collections (`namespace.collection.role`). Collections are searched as ansible-core's
 * collection loader does: <playbook dir>/collections first, then collections_path (default
 * ~/.ansible/collections:/usr/share/ansible/collections); each folder holds
 * ansible_collections/<namespace>/<collection>/roles/<role>, and a configured folder may name
 * ansible_collections itself.
 */
import { basename, dirname, join } from "node:path";

/** A role's fully qualified collection name: namespace.collection.role. */
const FQCN = /^([A-Za-z_]\w*)\.([A-Za-z_]\w*)\.([A-Za-z_]\w*)$/;
const COLLECTION_ROLE = /[\\/]ansible_collections[\\/]([^\\/]+)[\\/]([^\\/]+)[\\/]roles[\\/]([^\\/]+)$/;

/** ansible-core's default roles_path for a user whose home is `home`. */
export function defaultRolesPath(home: string): string[] {
  return [join(home, ".ansible", "roles"), "/usr/share/ansible/roles", "/etc/ansible/roles"];
}

/** ansible-core's default collections_path for a user whose home is `home`. */
export function defaultCollectionsPath(home: string): string[] {
  return [join(home, ".ansible", "collections"), "/usr/share/ansible/collections"];
}

/** The folders a collection role `name` may be in, in search order ([] when name is no FQCN). */
export function collectionRoleCandidates(name: string, baseDir: string, collectionsPath: readonly string[]): string[] {
  const m = FQCN.exec(name);
  if (!m) return [];
  const [, namespace, collection, role] = m;
  const roots = [join(baseDir, "collections"), ...collectionsPath].map((p) => (basename(p) === "ansible_collections" ? dirname(p) : p));
  return [...new Set(roots)].map((root) => join(root, "ansible_collections", namespace, collection, "roles", role));
}

/** namespace.collection.role for a role folder inside a collection, else undefined. */
export function collectionRoleName(path: string): string | undefined {
  const m = COLLECTION_ROLE.exec(path);
  return m ? `${m[1]}.${m[2]}.${m[3]}` : undefined;
}
