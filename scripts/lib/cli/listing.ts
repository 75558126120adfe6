/**
 * --list-tasks, --list-tags and --list-hosts, in ansible-playbook's layout. They need only
 * the loader (and the inventory for hosts), never the executor or a connection.
 */
import { relative } from "node:path";
import type { Item, Play, Playbook, Task } from "../playbook/types.ts";
import type { TagFilter } from "../run/options.ts";
import { selectedByTags } from "../playbook/tags.ts";
import { taskTitle } from "../report/json.ts";

/** Every task of the items in order (blocks flattened, loader-made tasks left out). */
export function flattenTasks(items: Item[]): Task[] {
  return items.flatMap((i) => (i.kind === "task" ? (i.implicit ? [] : [i]) : flattenTasks([...i.block, ...i.rescue, ...i.always])));
}

function tagList(tags: string[]): string {
  return `[${[...new Set(tags)].sort().join(", ")}]`;
}

function playHeader(play: Play, index: number): string {
  return `  play #${index + 1} (${play.hosts}): ${play.name}\tTAGS: ${tagList(play.tags)}`;
}

function heading(playbook: Playbook, cwd: string): string {
  return `\nplaybook: ${relative(cwd, playbook.file) || playbook.file}\n`;
}

/** ansible-playbook --list-tasks: the tasks --tags/--skip-tags would run, per play. */
export function listTasks(playbook: Playbook, filter: TagFilter, cwd = process.cwd()): string {
  const out = [heading(playbook, cwd)];
  playbook.plays.forEach((play, i) => {
    out.push(playHeader(play, i), "    tasks:");
    for (const task of flattenTasks(play.items)) {
      if (selectedByTags(task.tags, filter, task.roleTags)) out.push(`      ${taskTitle(task)}\tTAGS: ${tagList(task.tags)}`);
    }
    out.push("");
  });
  return out.join("\n") + "\n";
}

/** ansible-playbook --list-tags: every tag used by each play's tasks. */
export function listTags(playbook: Playbook, cwd = process.cwd()): string {
  const out = [heading(playbook, cwd)];
  playbook.plays.forEach((play, i) => {
    const tags = flattenTasks(play.items).flatMap((t) => t.tags);
    out.push(playHeader(play, i), `      TASK TAGS: ${tagList(tags)}`, "");
  });
  return out.join("\n") + "\n";
}

/** ansible-playbook --list-hosts: the hosts of each play (given the resolved host lists). */
export function listHosts(playbook: Playbook, hostsOf: (play: Play) => string[], cwd = process.cwd()): string {
  const out = [heading(playbook, cwd)];
  playbook.plays.forEach((play, i) => {
    const hosts = hostsOf(play);
    out.push(playHeader(play, i), `    pattern: ['${play.hosts}']`, `    hosts (${hosts.length}):`, ...hosts.map((h) => `      ${h}`), "");
  });
  return out.join("\n") + "\n";
}
