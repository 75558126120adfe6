/** Deeply nested template input, as a function a test runs in a worker with a time limit. */
import { Templar } from "../../../scripts/lib/template/templar.ts";

/** Renders each expression (with `j`: JSON text nested `depth` deep); the value or the error. */
export function render(expressions: string[], depth: number): Array<{ value?: unknown; error?: string; name?: string }> {
  const t = new Templar({ j: "[".repeat(depth) + "]".repeat(depth) });
  return expressions.map((e) => {
    try {
      return { value: t.render(e) };
    } catch (x) {
      return { error: (x as Error).message, name: (x as Error).name };
    }
  });
}

/** Renders `expression` with `vars`: the value or the error. */
export function renderWith(vars: Record<string, unknown>, expression: string): { value?: unknown; error?: string; name?: string } {
  try {
    return { value: new Templar(vars).render(expression) };
  } catch (x) {
    return { error: (x as Error).message, name: (x as Error).name };
  }
}
