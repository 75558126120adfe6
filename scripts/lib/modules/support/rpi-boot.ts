/**
 * Finding a Raspberry Pi's boot files: bookworm keeps them in /boot/firmware, older releases
 * in /boot (a famous bug edits the wrong one and reports "changed" forever). One probe reads
 * both candidates; the first that exists wins; neither means "not a Raspberry Pi".
 */
import type { ModuleContext } from "../types.ts";
import { fileProbeScript, parseFileProbe, type FileState } from "../remote-file.ts";
import { requireSuccess } from "./system.ts";

export const BOOT_DIRS = ["/boot/firmware", "/boot"];

/** The file (cmdline.txt / config.txt) to edit and its state, or undefined when none exists. */
export async function probeBootFile(ctx: ModuleContext, fileName: string, explicitPath?: string): Promise<{ path: string; state: FileState } | undefined> {
  const candidates = explicitPath ? [explicitPath] : BOOT_DIRS.map((d) => `${d}/${fileName}`);
  const script = candidates.map((p, i) => fileProbeScript(p, { content: true }, `b${i}`)).join("\n");
  const r = requireSuccess(await ctx.run(script, { become: false }), `Cannot read ${fileName}`);
  for (let i = 0; i < candidates.length; i++) {
    const state = parseFileProbe(r.stdout, `b${i}`);
    if (state.exists) return { path: candidates[i], state };
  }
  return undefined;
}
