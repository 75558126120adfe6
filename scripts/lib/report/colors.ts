/**
 * ANSI colours as Ansible uses them (ok green, changed yellow, failed red, skipped cyan,
 * warnings purple), applied only when the output is a terminal.
 */
export type Color = "green" | "yellow" | "red" | "cyan" | "magenta" | "bold" | "dim";

const CODES: Record<Color, [number, number]> = {
  green: [32, 39],
  yellow: [33, 39],
  red: [31, 39],
  cyan: [36, 39],
  magenta: [35, 39],
  bold: [1, 22],
  dim: [2, 22],
};

/** Wraps text in a colour when `enabled`. */
export function paint(text: string, color: Color, enabled: boolean): string {
  if (!enabled) return text;
  const [open, close] = CODES[color];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}

/** The colour of a task status. */
export function statusColor(status: string): Color {
  return status === "changed" ? "yellow" : status === "ok" ? "green" : status === "skipped" ? "cyan" : "red";
}

/** Whether a stream should get colours: a TTY, not CI, and NO_COLOR unset. */
export function wantsColor(stream: { isTTY?: boolean }, env: Record<string, string | undefined> = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.CI !== "true" && env.TERM !== "dumb";
}
