/**
 * `hostvars` for templates: each host's variables, rendered lazily in THAT host's context (as
 * Ansible: `hostvars['pi-1'].ntp_server` uses pi-1's inventory_hostname, not the current host's).
 * Built once per play; a host's view and its Templar are made on first use.
 */
import { holdsTemplate, lazyViews, Templar } from "./templar.ts";

/**
 * A mapping host -> variables (a Proxy: looks like a plain dict to templates, `in`, keys(),
 * to_json). `varsOf(host)` gives the host's full variables (inventory, facts, set_fact...).
 * Hosts missing from `hosts` read as undefined.
 */
export function createHostvars(hosts: string[], varsOf: (host: string) => Record<string, unknown>): Record<string, Record<string, unknown>> {
  const views = new Map<string, Record<string, unknown>>();
  const target: Record<string, unknown> = {};
  for (const h of hosts) target[h] = null;
  const hostvars = new Proxy(target, {
    get(t, host) {
      if (typeof host !== "string" || !Object.hasOwn(t, host)) return Reflect.get(t, host);
      let view = views.get(host);
      if (!view) {
        view = hostView(varsOf(host));
        views.set(host, view);
      }
      return view;
    },
    getOwnPropertyDescriptor(t, host) {
      const d = Reflect.getOwnPropertyDescriptor(t, host);
      return d && typeof host === "string" ? { ...d, value: (this.get as (t: object, k: string) => unknown)(t, host) } : d;
    },
  }) as Record<string, Record<string, unknown>>;
  lazyViews.add(hostvars);
  return hostvars;
}

/**
 * One host's variables whose templated values render on read in that host's context.
 * `context` (default: `vars`) is what the Templar sees, e.g. `vars` plus `hostvars` itself when
 * the view leaves `hostvars` out so that listing it is not circular.
 */
export function hostView(vars: Record<string, unknown>, context: Record<string, unknown> = vars): Record<string, unknown> {
  let templar: Templar | undefined;
  const view = new Proxy(vars, {
    get(t, key) {
      if (typeof key !== "string" || !Object.hasOwn(t, key)) return Reflect.get(t, key);
      const raw = t[key];
      if (!holdsTemplate(raw)) return raw;
      templar ??= new Templar(context);
      return templar.lookup(key);
    },
  });
  lazyViews.add(view);
  return view;
}
