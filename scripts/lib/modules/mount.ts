/**
 * ansible.posix.mount: an fstab entry and the mount itself. ONE probe (fstab + the mount
 * point's line in /proc/self/mountinfo + whether the directory exists); fstab is edited by
 * exact line (the entry for this mount point replaced, every other line kept byte for byte)
 * and written atomically.
 * States: present (fstab only), mounted (fstab + mkdir + mount; remount when the entry
 * changed while mounted), unmounted, absent (unmount + entry removed), remounted (always).
 */
import type { ModuleDefinition, FileDiff, Probe } from "./types.ts";
import { readProbe } from "./probe.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { fileProbeScript, parseFileProbe, writeFileAtomic, type FileState } from "./remote-file.ts";
import { contentDiff } from "./support/file-diff.ts";
import { requireSuccess, schemaHeader, probeSection } from "./support/system.ts";
import { RULES, schemaPattern } from "./support/values.ts";
import { unescapeMountField } from "../facts/mounts.ts";

interface MountArgs {
  path: string;
  src?: string;
  fstype?: string;
  opts: string;
  dump: string | number;
  passno: string | number;
  state: "mounted" | "present" | "unmounted" | "absent" | "remounted";
  fstab: string;
  boot: boolean;
  backup: boolean;
}

interface MountState {
  fstab?: string;
  commands: string[];
}

/** fstab escapes spaces etc. as \040. */
function escapeField(text: string): string {
  return text.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
}

/** The fstab text with the entry for `path` set to `line` (or removed when undefined). Pure. */
export function editFstab(text: string, path: string, line: string | undefined): string {
  const lines = text === "" ? [] : text.split("\n");
  const trailing = lines.length > 0 && lines[lines.length - 1] === "";
  if (trailing) lines.pop();
  const out: string[] = [];
  let placed = false;
  for (const l of lines) {
    const f = l.trim().split(/\s+/);
    if (!l.trim().startsWith("#") && f.length >= 2 && unescapeMountField(f[1]) === path) {
      if (line !== undefined && !placed) { out.push(line); placed = true; }
      continue;
    }
    out.push(l);
  }
  if (line !== undefined && !placed) out.push(line);
  return out.length ? out.join("\n") + "\n" : "";
}

/** The fstab, whether something is mounted at the path, whether the path is a directory. */
export const MOUNT_PROBE: Probe<{ path: string; fstab: string }, { fstab: FileState; mounted: boolean; dirExists: boolean }> = {
  name: "mount",
  command: ({ path, fstab }) => [
    fileProbeScript(fstab, { content: true }),
    // Field 5 of mountinfo is the mount point, octal-escaped like fstab.
    "echo @@mounted", sh`awk -v p=${escapeField(path)} '$5 == p { print $5, $10 }' /proc/self/mountinfo`,
    "echo @@dir", sh`[ -d ${path} ] && echo yes`, "echo @@end",
  ].join("\n"),
  parse(r, { path }) {
    requireSuccess(r, `Cannot inspect ${path}`);
    return { fstab: parseFileProbe(r.stdout), mounted: probeSection(r.stdout, "mounted").trim() !== "", dirExists: probeSection(r.stdout, "dir").trim() === "yes" };
  },
};

export const mount: ModuleDefinition<MountArgs, MountState> = {
  name: "mount",
  aliases: ["ansible.posix.mount"],
  schema: {
    ...schemaHeader("mount", "Controls fstab entries and active mounts."),
    properties: {
      path: { type: "string", aliases: ["name"], description: "The mount point." },
      src: { type: "string", description: "Device (UUID=..., LABEL=..., /dev/..., or a directory for bind)." },
      // src and path are escaped as fstab does (\040); the other fields are single words.
      fstype: { type: "string", ...schemaPattern(RULES.word), description: "Filesystem type (none for bind)." },
      opts: { type: "string", default: "defaults", ...schemaPattern(RULES.word) },
      dump: { type: ["string", "integer"], default: "0", pattern: "^[0-9]+$" },
      passno: { type: ["string", "integer"], default: "0", pattern: "^[0-9]+$" },
      state: { type: "string", enum: ["mounted", "present", "unmounted", "absent", "remounted"] },
      fstab: { type: "string", default: "/etc/fstab" },
      boot: { type: "boolean", default: true, description: "false adds noauto." },
      backup: { type: "boolean", default: false },
    },
    required: ["path", "state"],
    allOf: [
      { if: { properties: { state: { enum: ["mounted", "present"] } }, required: ["state"] }, then: { required: ["src", "fstype"] } },
    ],
  },
  async plan(args, ctx) {
    const path = args.path.replace(/(.)\/+$/, "$1");
    const { fstab: fstabState, mounted, dirExists } = await readProbe(ctx, MOUNT_PROBE, { path, fstab: args.fstab }, { become: false });
    const before = typeof fstabState.content === "string" ? fstabState.content : "";
    let opts = args.opts;
    if (!args.boot && !opts.split(",").includes("noauto")) opts = opts === "defaults" ? "noauto" : `${opts},noauto`;
    const wantLine = args.src !== undefined && args.fstype !== undefined
      ? [escapeField(args.src), escapeField(path), args.fstype, opts, String(args.dump), String(args.passno)].join(" ")
      : undefined;
    let after = before;
    if (args.state === "mounted" || args.state === "present") after = editFstab(before, path, wantLine);
    if (args.state === "absent") after = editFstab(before, path, undefined);
    const fstabChanged = after !== before;
    const commands: string[] = [];
    const done: string[] = [];
    const diff: FileDiff[] = [];
    if (fstabChanged) {
      diff.push(contentDiff(fstabState.exists ? before : undefined, after, args.fstab));
      done.push(args.state === "absent" ? "fstab entry removed" : "fstab entry written");
    }
    if (args.state === "mounted") {
      if (!mounted) {
        if (!dirExists) commands.push(sh`mkdir -p -- ${path}`);
        commands.push(args.fstab === "/etc/fstab" ? sh`mount -- ${path}` : sh`mount -T ${args.fstab} -- ${path}`);
        done.push("mounted");
      } else if (fstabChanged) {
        commands.push(sh`mount -o remount -- ${path}`);
        done.push("remounted");
      }
    } else if ((args.state === "unmounted" || args.state === "absent") && mounted) {
      commands.push(sh`umount -- ${path}`);
      done.push("unmounted");
    } else if (args.state === "remounted") {
      if (!mounted) throw new ModuleFailure(`${path} is not mounted: cannot remount it`);
      commands.push(sh`mount -o remount -- ${path}`);
      done.push("remounted");
    }
    const result = { name: path, src: args.src, fstype: args.fstype, opts, state: args.state, mounted };
    if (done.length === 0) {
      const where = args.state === "mounted" ? "in fstab and mounted" : args.state === "present" ? "in fstab" : args.state === "unmounted" ? "not mounted" : "absent";
      return { changed: false, reason: `${path} is ${where}`, result };
    }
    return { changed: true, msg: `${path}: ${done.join(", ")}`, state: { fstab: fstabChanged ? after : undefined, commands }, diff, result };
  },
  async apply(plan, args, ctx) {
    const s = plan.state!;
    const path = args.path;
    // Unmount before the entry goes (absent), write the entry before mounting (mounted).
    const unmountFirst = args.state === "absent" || args.state === "unmounted";
    if (unmountFirst && s.commands.length) requireSuccess(await ctx.run(s.commands.join(" && ")), `Cannot unmount ${path}`);
    if (s.fstab !== undefined) await writeFileAtomic(ctx, args.fstab, s.fstab, { backup: args.backup });
    if (!unmountFirst && s.commands.length) requireSuccess(await ctx.run(s.commands.join(" && ")), `Cannot mount ${path}`);
    return { msg: plan.msg };
  },
};
