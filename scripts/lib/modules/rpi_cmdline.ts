/**
 * rpi_cmdline (ours): tokens present/absent in the Raspberry Pi kernel command line, which is
 * ONE line of space-separated tokens in cmdline.txt (/boot/firmware on bookworm, else /boot).
 * Order kept; a missing token appended once; a `key=value` token replaces the token with the
 * same key and another value; never a second line or an extra newline. Written atomically,
 * with a diff. A target without cmdline.txt is skipped ("not a Raspberry Pi").
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { writeFileAtomic } from "./remote-file.ts";
import { contentDiff } from "./support/file-diff.ts";
import { listArg, schemaHeader } from "./support/system.ts";
import { probeBootFile } from "./support/rpi-boot.ts";

interface CmdlineArgs {
  present?: string | string[];
  absent?: string | string[];
  path?: string;
}

function tokenKey(token: string): string {
  const eq = token.indexOf("=");
  return eq < 0 ? token : token.slice(0, eq);
}

/** The new cmdline text; pure. Keeps the original's trailing newline (or lack of it). */
export function editCmdline(text: string, present: string[], absent: string[]): string {
  const trailing = text.endsWith("\n") || text === "";
  let tokens = text.split(/\s+/).filter(Boolean);
  for (const gone of absent) tokens = tokens.filter((t) => t !== gone);
  // A key wished several times is a repeatable parameter (cgroup_enable=memory and
  // cgroup_enable=cpuset): each token is added, none replaces the other.
  const repeated = new Set(present.filter((t) => t.includes("=")).map(tokenKey).filter((k, i, all) => all.indexOf(k) !== i));
  for (const want of present) {
    if (tokens.includes(want)) continue;
    const i = want.includes("=") && !repeated.has(tokenKey(want)) ? tokens.findIndex((t) => t.includes("=") && tokenKey(t) === tokenKey(want)) : -1;
    if (i >= 0) {
      tokens[i] = want;
      // the same key further on would still win in the kernel: keep only ours
      tokens = tokens.filter((t, j) => j <= i || !(t.includes("=") && tokenKey(t) === tokenKey(want)));
    } else {
      tokens.push(want);
    }
  }
  return tokens.join(" ") + (trailing ? "\n" : "");
}

export const rpiCmdline: ModuleDefinition<CmdlineArgs, { path: string; content: string }> = {
  name: "rpi_cmdline",
  aliases: [],
  schema: {
    ...schemaHeader("rpi_cmdline", "Ensures tokens in the Raspberry Pi kernel command line (cmdline.txt)."),
    properties: {
      present: { type: ["string", "array"], items: { type: "string", pattern: "^\\S+$" }, description: "Tokens to have (key=value replaces the same key)." },
      absent: { type: ["string", "array"], items: { type: "string", pattern: "^\\S+$" }, description: "Tokens to remove." },
      path: { type: "string", description: "cmdline.txt to edit (default: /boot/firmware/cmdline.txt if it exists, else /boot/cmdline.txt)." },
    },
    anyOf: [{ required: ["present"] }, { required: ["absent"] }],
  },
  async plan(args, ctx) {
    const present = typeof args.present === "string" ? args.present.split(/\s+/).filter(Boolean) : listArg(args.present);
    const absent = typeof args.absent === "string" ? args.absent.split(/\s+/).filter(Boolean) : listArg(args.absent);
    const found = await probeBootFile(ctx, "cmdline.txt", args.path);
    if (!found) {
      if (args.path) throw new ModuleFailure(`${args.path} does not exist`);
      return { changed: false, skipped: "not a Raspberry Pi (no cmdline.txt)", reason: "not a Raspberry Pi (no cmdline.txt)" };
    }
    const before = typeof found.state.content === "string" ? found.state.content : "";
    const after = editCmdline(before, present, absent);
    const result = { path: found.path, cmdline: after.trim() };
    if (after === before) return { changed: false, reason: `${found.path} has the tokens as wished`, result };
    return { changed: true, msg: `${found.path} updated`, diff: [contentDiff(before, after, found.path)], state: { path: found.path, content: after }, result };
  },
  async apply(plan, _args, ctx) {
    await writeFileAtomic(ctx, plan.state!.path, plan.state!.content);
    return { msg: plan.msg };
  },
};
