/**
 * Variables of a host for a task, with this precedence (low -> high):
 * role defaults < inventory < facts < play vars < vars_files < role vars < block vars <
 * task vars < include params < set_fact/registered < magic variables < extra vars.
 *
 * Why it is cheap: the part that only changes per play and role (defaults, inventory, facts,
 * play vars, vars_files, role vars) is merged once per host and role and cached; per task we
 * only copy that flat object and lay the few block/task/host-fact keys over it. Values stay
 * unrendered: the Templar renders a variable when (and only when) a template reads it.
 */
import type { RoleContext } from "../playbook/types.ts";
import { markSecret, Secret } from "../shell/secret.ts";
import type { HostPlay, PlayState, Scope } from "./state.ts";
import { hostView } from "../template/hostvars.ts";
import { lazyViews } from "../template/templar.ts";

/** Fact names that Ansible also exposes as top-level `ansible_<name>`. */
function factAliases(facts: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ansible_facts: facts };
  for (const [k, v] of Object.entries(facts)) out[k.startsWith("ansible_") ? k : `ansible_${k}`] = v;
  return out;
}

/** The per-play, per-role base of a host (cached). */
export function baseVars(ps: PlayState, hp: HostPlay, role: RoleContext | undefined): Record<string, unknown> {
  const state = hp.state;
  if (state.basesPlay !== ps.play) {
    state.bases.clear();
    state.basesPlay = ps.play;
  }
  const key = role ? `${role.name}\0${role.path}` : "";
  let base = state.bases.get(key);
  if (!base) {
    const play = ps.play;
    base = {};
    // Defaults of every role of the play are visible play-wide (Ansible's default), the task's own role last.
    for (const r of play.roles) Object.assign(base, r.defaults);
    if (role) Object.assign(base, role.defaults);
    Object.assign(base, state.inventoryVars);
    if (state.facts) Object.assign(base, factAliases(state.facts));
    if (state.moduleFacts) Object.assign(base, moduleFactVars(state.facts, state.moduleFacts));
    Object.assign(base, play.vars, play.varsFiles);
    for (const r of play.roles) Object.assign(base, r.vars);
    if (role) Object.assign(base, role.vars);
    state.bases.set(key, base);
  }
  return base;
}

// Connection and interpreter variables a module's facts must not override (Ansible's clean_facts).
const RESERVED_FACT = /^ansible_(connection|host|port|user|password|ssh_.*|become.*|shell_.*|.*_interpreter|private_key_file)$/;

/**
 * A module's facts as Ansible exposes them: under ansible_facts without the "ansible_" prefix
 * (namespace_facts), and as top-level variables named as returned (INJECT_FACTS_AS_VARS).
 */
function moduleFactVars(gathered: Record<string, unknown> | undefined, facts: Record<string, unknown>): Record<string, unknown> {
  const namespaced: Record<string, unknown> = { ...gathered };
  const out: Record<string, unknown> = { ansible_facts: namespaced };
  for (const [k, v] of Object.entries(facts)) {
    namespaced[k.startsWith("ansible_") ? k.slice(8) : k] = v;
    if (!RESERVED_FACT.test(k)) out[k] = v;
  }
  return out;
}

/** Merges the facts a module returned into the host's facts (they last for the run, as gathered ones). */
export function addModuleFacts(hp: HostPlay, facts: Record<string, unknown>): void {
  hp.state.moduleFacts = Object.assign(hp.state.moduleFacts ?? {}, facts);
  invalidateBases(hp);
}

/** Forgets cached bases of a host (facts gathered or cleared). */
export function invalidateBases(hp: HostPlay): void {
  hp.state.bases.clear();
  hp.state.version++;
}

/** Sets host facts (set_fact, register): above task vars; cached variable views become stale. */
export function setHostVars(hp: HostPlay, vars: Record<string, unknown>): void {
  Object.assign(hp.state.hostVars, vars);
  hp.state.version++;
}

const NO_TASK_VARS = {};

/** Variables that hold passwords: their values are Secrets, so whatever is rendered from them is secret too. */
const SECRET_VARIABLES = ["ansible_become_password", "ansible_become_pass", "ansible_password", "ansible_ssh_pass", "ansible_ssh_password"];
const secretVariables = new Map<string, Secret>();

/** One Secret per password text; a template (`{{ vault_pw }}`) is remembered once rendered, not as its text. */
function secretVariable(text: string): Secret {
  let s = secretVariables.get(text);
  if (!s) secretVariables.set(text, (s = /\{\{|\{%/.test(text) ? new Secret(text) : (markSecret(text) as Secret)));
  return s;
}

/**
 * All variables of a host for one task (and loop item): a fresh flat object the Templar reads.
 * `taskVars` are the task's own `vars:`; `extra` the loop variables.
 */
export function varsFor(
  ps: PlayState,
  hp: HostPlay,
  scope: Pick<Scope, "vars" | "role" | "params">,
  taskVars?: Record<string, unknown>,
  extra?: Record<string, unknown>,
): Record<string, unknown> {
  // Tasks of one block share a scope object: while no fact changed, they share one view too
  // (treated as read-only by everyone; code that adds variables copies first).
  let byTask: WeakMap<object, { version: number; vars: Record<string, unknown> }> | undefined;
  if (!extra) {
    byTask = hp.varsCache.get(scope);
    if (!byTask) hp.varsCache.set(scope, (byTask = new WeakMap()));
    const hit = byTask.get(taskVars ?? NO_TASK_VARS);
    if (hit && hit.version === hp.state.version) return hit.vars;
  }
  const vars = Object.assign({}, baseVars(ps, hp, scope.role), scope.vars, taskVars, scope.params, extra, hp.state.hostVars, hp.magic);
  if (scope.role) {
    vars.role_name = scope.role.name;
    vars.role_path = scope.role.path;
    vars.ansible_role_name = scope.role.name;
  }
  Object.assign(vars, ps.run.options.extraVars);
  for (const name of SECRET_VARIABLES) if (typeof vars[name] === "string") vars[name] = secretVariable(vars[name] as string);
  byTask?.set(taskVars ?? NO_TASK_VARS, { version: hp.state.version, vars });
  return vars;
}

/** Magic variables of a host in a play (inventory_hostname, groups, play_hosts, ...). */
export function magicVars(ps: PlayState, host: string): Record<string, unknown> {
  const inv = ps.run.inventory;
  return {
    inventory_hostname: host,
    inventory_hostname_short: host.split(".")[0],
    groups: inv.groups,
    group_names: inv.groupNames(host),
    hostvars: ps.hostvars,
    play_hosts: ps.batch,
    ansible_play_hosts: ps.batch,
    ansible_play_batch: ps.batch,
    ansible_play_hosts_all: ps.playHosts,
    ansible_play_name: ps.play.name,
    playbook_dir: ps.run.playbookDir,
    ansible_check_mode: ps.run.options.check,
    ansible_diff_mode: ps.run.options.diff,
    ansible_verbosity: ps.run.options.verbosity,
    // As Ansible: ['all'] without --tags (roles read these to skip work nobody asked for).
    ansible_run_tags: ps.run.options.tags.only.length ? [...ps.run.options.tags.only] : ["all"],
    ansible_skip_tags: [...ps.run.options.tags.skip],
    ansible_forks: ps.run.options.forks,
    ansible_version: { full: "2.16.0", major: 2, minor: 16, revision: 0, string: "2.16.0" },
  };
}

/**
 * `hostvars`: every inventory host's variables, built only when a template reads a host
 * (getters), so a play that never uses hostvars pays nothing. A lazy view: templates read the
 * one variable they name, rendered in that host's context (as Ansible), never the whole
 * mapping (which would render every host's every variable, and loop on those that read
 * hostvars themselves).
 */
export function makeHostvars(ps: PlayState, hostPlayOf: (host: string) => HostPlay): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const host of ps.run.inventory.hosts) {
    Object.defineProperty(out, host, {
      enumerable: true,
      // Without `hostvars` itself (as Ansible): `debug: var=hostvars[inventory_hostname]` must not be circular.
      get: () => {
        const all = varsFor(ps, hostPlayOf(host), { vars: {} });
        const { hostvars: _self, ...vars } = all;
        return hostView(vars, all);
      },
    });
  }
  lazyViews.add(out);
  return out;
}
