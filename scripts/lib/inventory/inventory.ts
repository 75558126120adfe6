/**
 * The inventory API the CLI and the executor call: load hosts and groups (`-i`), select hosts
 * by Ansible patterns (`hosts:`, `--limit`), parse `-e` extra vars.
 */
export { loadInventory, type LoadInventoryOptions } from "./load.ts";
export { selectHosts, matchHosts, type HostMatch } from "./patterns.ts";
export { parseExtraVars } from "./extra-vars.ts";
export type { Inventory } from "./types.ts";
