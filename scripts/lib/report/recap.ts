/**
 * PLAY RECAP in exactly Ansible's layout (default callback): host padded to 26 columns,
 * then `name=value` fields each padded to 4 characters after the `=`, coloured only on a TTY
 * (counts that are not zero, and the host by its worst outcome).
 */
import type { HostStats } from "../run/events.ts";
import { paint, type Color } from "./colors.ts";

/** Ansible's banner: `TITLE ****...` filling 80 columns (at least 3 stars), after a blank line. */
export function banner(title: string, columns = 80): string {
  const msg = title.trim();
  const stars = Math.max(3, columns - msg.length);
  return `\n${msg} ${"*".repeat(stars)}`;
}

function field(name: string, value: number, color: Color, enabled: boolean): string {
  const text = `${name}=${String(value).padEnd(4)}`;
  return value !== 0 ? paint(text, color, enabled) : text;
}

/** One recap line for a host. */
export function recapLine(host: string, s: HostStats, color = false): string {
  const hostColor: Color | undefined = s.failures > 0 || s.unreachable > 0 ? "red" : s.changed > 0 ? "yellow" : "green";
  // Pad by the visible width (Ansible pads the coloured string to 37 = 26 + escape codes).
  const name = paint(host, hostColor, color) + " ".repeat(Math.max(0, 26 - host.length));
  return `${name} : ${[
    field("ok", s.ok, "green", color),
    field("changed", s.changed, "yellow", color),
    field("unreachable", s.unreachable, "red", color),
    field("failed", s.failures, "red", color),
    field("skipped", s.skipped, "cyan", color),
    field("rescued", s.rescued, "green", color),
    field("ignored", s.ignored, "magenta", color),
  ].join(" ")}`;
}

/** The whole PLAY RECAP block (banner, one line per host sorted by name, trailing blank line). */
export function formatRecap(stats: Record<string, HostStats>, options: { color?: boolean; columns?: number } = {}): string {
  const hosts = Object.keys(stats).sort();
  const lines = [banner("PLAY RECAP", options.columns), ...hosts.map((h) => recapLine(h, stats[h], options.color ?? false)), ""];
  return lines.join("\n") + "\n";
}
