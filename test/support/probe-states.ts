/**
 * Module fixtures give a named probe's state (scripts/lib/modules/probe.ts) as data, the
 * parsed shape with defaults left out. This fills in those defaults per probe, so a fixture
 * names only what matters to its case: a file state {"content": "a\n"} is a regular file,
 * 0644, root:root, with its size (and its sha1 where the probe reads one) computed; {"exists": false} (or nothing at all)
 * is a missing path.
 */
import { createHash } from "node:crypto";
import { contentBytes, decodeContent, type FileState } from "../../scripts/lib/modules/remote-file.ts";
import type { PutFileRequest, PutFileTargets } from "../../scripts/lib/modules/support/put-file.ts";
import type { FileArgs, FilePaths } from "../../scripts/lib/modules/file.ts";
import type { KeyFile } from "../../scripts/lib/modules/authorized_key.ts";
import type { DownloadTarget } from "../../scripts/lib/modules/get_url.ts";

/** A file state as a fixture writes it: any FileState field, content as text. */
export type FixtureFile = Partial<Omit<FileState, "content">> & { content?: string };

/** The mtime a fixture's files have unless it says otherwise. */
const FIXTURE_MTIME = 1700000000;

const MISSING: FileState = { exists: false, type: null, mode: "", owner: "", group: "", uid: -1, gid: -1, size: 0, mtime: 0 };

/**
 * A complete FileState from a fixture's partial one; `checksum`: the probe asked for the
 * sha1, which is then computed from the content unless the fixture gives it.
 */
export function fileState(file: FixtureFile | undefined, checksum = false): FileState {
  if (!file || file.exists === false) return { ...MISSING };
  const type = file.type ?? "file";
  const bytes = file.content === undefined ? undefined : contentBytes(file.content);
  const state: FileState = {
    exists: true,
    type,
    // As stat prints it (no leading zero), read back as 4 digits.
    mode: (file.mode ?? (type === "directory" ? "0755" : "0644")).replace(/^0(?=\d{3,4}$)/, "").padStart(4, "0"),
    owner: file.owner ?? "root",
    group: file.group ?? "root",
    uid: file.uid ?? 0,
    gid: file.gid ?? 0,
    size: file.size ?? bytes?.length ?? 0,
    mtime: file.mtime ?? FIXTURE_MTIME,
  };
  if (file.linkTarget !== undefined) {
    state.linkTarget = file.linkTarget;
    state.linkTargetType = file.linkTargetType ?? null;
  }
  if (file.sha1 !== undefined) state.sha1 = file.sha1;
  else if (checksum && bytes !== undefined && type === "file") state.sha1 = createHash("sha1").update(bytes).digest("hex");
  if (bytes !== undefined) state.content = decodeContent(bytes);
  return state;
}

type Expand = (fixture: any, input: any) => unknown;

/** Per probe name: the fixture's state → the parsed state the probe would return. */
export const EXPAND_STATE: Record<string, Expand> = {
  "remote-file": (file: FixtureFile, { options }: { options?: { checksum?: boolean } }) => fileState(file, options?.checksum),
  "put-file": (s: Partial<Record<"dest" | "child" | "source", FixtureFile>> & { parentMissing?: boolean }, { req }: { req: PutFileRequest }): PutFileTargets => ({
    dest: fileState(s.dest, true),
    child: req.basename === undefined ? undefined : fileState(s.child, true),
    source: req.remoteSource === undefined ? undefined : fileState(s.source, true),
    parentMissing: s.parentMissing ?? false,
  }),
  "file-paths": (s: Partial<Record<"path" | "target" | "source", FixtureFile>> & { inodes?: string[]; drift?: string }, { args }: { args: FileArgs }): FilePaths => {
    const found: FilePaths = { path: fileState(s.path), target: fileState(s.target) };
    if (args.src !== undefined) found.source = fileState(s.source);
    if (args.src !== undefined && args.state === "hard") found.inodes = s.inodes ?? [];
    if (s.drift !== undefined) found.drift = s.drift;
    return found;
  },
  "boot-files": (files: FixtureFile[], { candidates }: { candidates: string[] }) => candidates.map((_, i) => fileState(files[i])),
  "copy-tree": (files: FixtureFile[], { entries }: { entries: Array<{ dir: boolean }> }) => entries.map((e, i) => fileState(files[i], !e.dir)),
  "authorized-keys": (s: Partial<Omit<KeyFile, "file">> & { file?: FixtureFile }): KeyFile => ({
    userExists: true,
    uid: "",
    gid: "",
    path: "",
    dirExists: false,
    ...s,
    file: fileState(s.file),
  }),
  "download-target": (
    s: Omit<DownloadTarget, "dest" | "child"> & { dest?: FixtureFile; child?: FixtureFile },
    { args, sum }: { args: { force?: boolean }; sum: { algorithm?: string } },
  ): DownloadTarget => ({
    ...s,
    dest: fileState(s.dest, args.force === true && !sum.algorithm),
    child: fileState(s.child, args.force === true && !sum.algorithm),
  }),
  locales: (s: { locales?: string[]; localeGen?: FixtureFile }) => ({ locales: s.locales ?? [], localeGen: fileState(s.localeGen) }),
  "kernel-module": (s: { loaded?: string; modulesTree?: boolean; loadFile?: FixtureFile; optionsFile?: FixtureFile }) => ({
    loaded: s.loaded ?? "no",
    modulesTree: s.modulesTree ?? false,
    loadFile: fileState(s.loadFile),
    optionsFile: fileState(s.optionsFile),
  }),
  mount: (s: { fstab?: FixtureFile; mounted?: boolean; dirExists?: boolean }) => ({ fstab: fileState(s.fstab), mounted: s.mounted ?? false, dirExists: s.dirExists ?? false }),
  sysctl: (s: { live?: string; file?: FixtureFile }) => ({ live: s.live, file: fileState(s.file) }),
  // Parsed states a fixture gives whole.
  account: (s: unknown) => s,
  group: (s: unknown) => s,
  hostname: (s: unknown) => s,
  alternatives: (s: unknown) => s,
  "dpkg-selection": (s: unknown) => s,
  "device-signature": (s: Record<string, unknown>) => ({ mountpoints: [], partitions: [], ...s }),
  "bootloader-config": (s: Record<string, unknown>) => ({ tool: true, current: "", ...s }),
  timezone: (s: Record<string, unknown>) => ({ timedatectl: "", link: "", known: false, ...s }),
  "debconf-answers": (s: unknown) => s,
  "debconf-password-same": (s: unknown) => s,
  crontab: (s: { userExists?: boolean; crontab?: string; file?: FixtureFile }, { cronFile }: { cronFile?: string }) =>
    cronFile === undefined ? { userExists: s.userExists ?? true, crontab: s.crontab ?? "" } : { userExists: true, crontab: "", file: fileState(s.file) },
  "known-hosts": (s: { path?: string; file?: FixtureFile; keygenFound?: string }, { path }: { path: string }) => ({ path: s.path ?? path, file: fileState(s.file), keygenFound: s.keygenFound ?? "" }),
  "apt-sources": (s: Record<string, unknown>) => ({ sourcelist: "/etc/apt/sources.list", sourceparts: "/etc/apt/sources.list.d", files: [], ...s }),
  "disk-layout": (s: Record<string, unknown>) => ({ exists: true, partitions: [], partedSaid: "", signature: {}, mounted: [], ...s }),
};
