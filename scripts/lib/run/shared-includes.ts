/**
 * Included files shared by the hosts of a batch, as Ansible's IncludedFile: the hosts that reach
 * the same include task with the same arguments and loop item run the same loaded tasks, so a
 * run_once task inside runs once for the batch and the task banner shows once. A host reaching
 * the same include again (a recursion, a repeated loop item) gets a new copy, as in Ansible.
 */
import type { Item, Task } from "../playbook/types.ts";
import type { PlayState } from "./state.ts";

interface SharedInclude {
  key: string;
  items: Item[];
  hosts: Set<string>;
}

const byPlay = new WeakMap<PlayState, WeakMap<Task, SharedInclude[]>>();

/** The items `load` gives, loaded once per distinct (task, key) and shared by the batch's hosts. */
export function sharedInclude(ps: PlayState, task: Task, host: string, key: unknown, load: () => Item[]): Item[] {
  let text: string;
  try {
    text = JSON.stringify(key);
  } catch {
    return load(); // a key that cannot be compared: this host's own copy
  }
  let byTask = byPlay.get(ps);
  if (!byTask) byPlay.set(ps, (byTask = new WeakMap()));
  let list = byTask.get(task);
  if (!list) byTask.set(task, (list = []));
  let entry = list.find((e) => e.key === text && !e.hosts.has(host));
  if (!entry) list.push((entry = { key: text, items: load(), hosts: new Set() }));
  entry.hosts.add(host);
  return entry.items;
}
