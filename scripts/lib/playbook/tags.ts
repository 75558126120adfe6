/**
 * Tag selection with Ansible's semantics (lib/ansible/playbook/taggable.py): `always` runs
 * unless skipped explicitly, `never` runs only when asked for by name, `tagged`/`untagged`/
 * `all` are the special selectors, and --skip-tags wins over --tags.
 */
/** --tags and --skip-tags. */
export interface TagFilter {
  /** --tags (empty: all, i.e. everything but `never`). */
  only: string[];
  /** --skip-tags */
  skip: string[];
}

const UNTAGGED = "untagged";

/**
 * Whether a task with these (already inherited) tags runs under --tags/--skip-tags. The names
 * of its roles (`roleTags`) match by name too, but do not make the task "tagged".
 *
 * @example selectedByTags(["ntp"], { only: ["ntp"], skip: [] }) // true
 * @example selectedByTags([], { only: ["ntp"], skip: [] }, ["ntp"]) // true
 */
export function selectedByTags(taskTags: string[], filter: TagFilter, roleTags: readonly string[] = []): boolean {
  const tags = new Set(taskTags.length > 0 ? taskTags : [UNTAGGED]);
  const untagged = taskTags.length === 0;
  const only = filter.only.length > 0 ? filter.only : ["all"];
  const skip = filter.skip;
  const intersects = (list: string[]) => list.some((t) => tags.has(t) || roleTags.includes(t));

  let run: boolean;
  if (tags.has("always")) run = true;
  else if (only.includes("all") && !tags.has("never")) run = true;
  else if (intersects(only)) run = true;
  else run = only.includes("tagged") && !untagged && !tags.has("never");

  if (run && skip.length > 0) {
    if (skip.includes("all")) {
      if (!tags.has("always") || skip.includes("always")) run = false;
    } else if (intersects(skip)) run = false;
    else if (skip.includes("tagged") && !untagged) run = false;
  }
  return run;
}

/** Splits repeated comma lists (`-t a,b -t c`) into tag names, trimmed, without empties. */
export function splitTagList(values: string[]): string[] {
  return values.flatMap((v) => v.split(",")).map((t) => t.trim()).filter((t) => t.length > 0);
}
