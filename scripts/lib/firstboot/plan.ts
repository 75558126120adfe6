/**
 * The files a layout needs on the boot partition, compared with what is there (pure). The
 * kernel command line keeps its tokens and stays ONE line; ours are added once (rpi_cmdline's
 * editCmdline), so a second run finds everything in place and writes nothing.
 */
import { editCmdline } from "../modules/rpi_cmdline.ts";
import type { Layout } from "./boot-files.ts";
import { FIRSTRUN_TOKENS, renderFirstrun } from "./firstrun.ts";
import { instanceId, nocloudToken, renderMetaData, renderNetworkConfig, renderUserData } from "./cloud-init.ts";
import type { FirstbootSettings } from "./settings.ts";

export interface PlannedFile {
  name: string;
  content: string;
  /** The file's current text, undefined when it does not exist. */
  before: string | undefined;
}

export function planFiles(layout: Layout, settings: FirstbootSettings, current: (name: string) => string | undefined): PlannedFile[] {
  const cmdline = current("cmdline.txt") ?? "";
  let files: Array<{ name: string; content: string }>;
  let tokens: string[];
  if (layout === "firstrun") {
    files = [{ name: "firstrun.sh", content: renderFirstrun(settings) }];
    tokens = FIRSTRUN_TOKENS;
  } else {
    const userData = renderUserData(settings);
    const networkConfig = renderNetworkConfig(settings);
    const id = instanceId(settings.hostname, userData, networkConfig);
    files = [
      { name: "user-data", content: userData },
      { name: "network-config", content: networkConfig },
      { name: "meta-data", content: renderMetaData(id) },
    ];
    tokens = [nocloudToken(id)];
  }
  // One line whatever it was before (a stray newline in cmdline.txt would end the command line).
  const oneLine = cmdline.split(/\s+/).filter(Boolean).join(" ");
  const newCmdline = editCmdline(`${oneLine}\n`, tokens, []);
  // cmdline.txt last: the boot hook points at files that are already complete.
  return [...files, { name: "cmdline.txt", content: newCmdline }].map((f) => ({ ...f, before: current(f.name) }));
}

/** The tokens added to and removed from the command line, for the plan shown to the user. */
export function cmdlineChange(before: string, after: string): { added: string[]; removed: string[] } {
  const b = before.split(/\s+/).filter(Boolean);
  const a = after.split(/\s+/).filter(Boolean);
  return { added: a.filter((t) => !b.includes(t)), removed: b.filter((t) => !a.includes(t)) };
}
