/**
 * Finding a Raspberry Pi's boot files: bookworm keeps them in /boot/firmware, older releases
 * in /boot (a famous bug edits the wrong one and reports "changed" forever). One probe reads
 * both candidates; the first that exists wins; neither means "not a Raspberry Pi".
 */
import type { ModuleContext, Probe } from "../types.ts";
import { readProbe } from "../probe.ts";
import { fileProbeScript, parseFileProbe, type FileState } from "../remote-file.ts";
import { requireSuccess } from "./system.ts";

export const BOOT_DIRS = ["/boot/firmware", "/boot"];

/** The state of each candidate path of a boot file, in order. */
export const BOOT_FILES_PROBE: Probe<{ candidates: string[]; fileName: string }, FileState[]> = {
  name: "boot-files",
  command: ({ candidates }) => candidates.map((p, i) => fileProbeScript(p, { content: true }, `b${i}`)).join("\n"),
  parse(r, { candidates, fileName }) {
    requireSuccess(r, `Cannot read ${fileName}`);
    return candidates.map((_, i) => parseFileProbe(r.stdout, `b${i}`));
  },
};

/** The file (cmdline.txt / config.txt) to edit and its state, or undefined when none exists. */
export async function probeBootFile(ctx: ModuleContext, fileName: string, explicitPath?: string): Promise<{ path: string; state: FileState } | undefined> {
  const candidates = explicitPath ? [explicitPath] : BOOT_DIRS.map((d) => `${d}/${fileName}`);
  const states = await readProbe(ctx, BOOT_FILES_PROBE, { candidates, fileName }, { become: false });
  const i = states.findIndex((state) => state.exists);
  return i < 0 ? undefined : { path: candidates[i], state: states[i] };
}
