/**
 * Ansible's "unsafe" data: what a module returned (a registered result) is never templated, so
 * a command's output holding `{{ }}` stays text. Containers are marked (strings cannot be); the
 * Templar does not walk them and member access does not render their strings.
 */
const unsafe = new WeakSet<object>();

/** Marks a module's result, every list and mapping in it, as never templated. Returns it. */
export function markUnsafe<T>(value: T): T {
  if (value !== null && typeof value === "object" && !unsafe.has(value)) {
    unsafe.add(value);
    for (const v of Array.isArray(value) ? value : Object.values(value)) markUnsafe(v);
  }
  return value;
}

export function isUnsafe(value: unknown): boolean {
  return value !== null && typeof value === "object" && unsafe.has(value);
}
