/** The Inventory type, shared by the loader (load.ts), host patterns (patterns.ts) and the executor. */

/** A loaded inventory: hosts, groups and each host's inventory variables. */
export interface Inventory {
  /** All host names in the order first seen. */
  hosts: string[];
  /** Group name -> its hosts (including hosts of child groups, recursively), in order. Includes "all" and "ungrouped". */
  groups: Record<string, string[]>;
  /**
   * Inventory variables of a host with Ansible's precedence: inventory-file vars of `all` <
   * inventory-file vars of the host's other groups (by depth, then name) < group_vars/all next
   * to the inventory < next to the playbook < group_vars/<group> next to the inventory < next to
   * the playbook < host vars in the inventory < host_vars/ next to the inventory < next to the
   * playbook. Top-level keys replace (hash_behaviour=replace). A fresh object each call.
   */
  hostVars(host: string): Record<string, unknown>;
  /** Sorted group names of a host, without "all" (and "ungrouped" only when it is its only group), as Ansible's group_names. */
  groupNames(host: string): string[];
  /** Source files, for messages. */
  sources: string[];
  /**
   * Each group's own hosts and child groups as written, in first-seen order, and its variables
   * (inventory file, then group_vars/ next to the inventory): ansible-inventory's --list and --graph.
   */
  tree?: Record<string, { hosts: string[]; children: string[]; vars: Record<string, unknown> }>;
}
