/**
 * Ansible's apt_repository as pure steps (ansible/modules/apt_repository.py, read for
 * behaviour): every one-line sources file (sources.list and sources.list.d/*.list) is parsed
 * line by line and written back normalized ("# " before a disabled line, single spaces, " # "
 * before a comment); a repo already there (even disabled) is enabled, else appended to the
 * file Ansible names after its host and path; absent removes its enabled lines; a file left
 * with no lines is removed.
 */

const SOURCE_TYPES = ["deb", "deb-src"];

interface SourceLine {
  valid: boolean;
  enabled: boolean;
  source: string;
  comment: string;
}

/** One line as apt_repository.py's _parse reads it. */
export function parseSourceLine(raw: string): SourceLine {
  let line = raw.trim();
  let enabled = true;
  let comment = "";
  if (line.startsWith("#")) {
    enabled = false;
    line = line.slice(1);
  }
  const hash = line.indexOf("#");
  if (hash > 0) {
    comment = line.slice(hash + 1).trim();
    line = line.slice(0, hash);
  }
  let source = line.trim();
  let valid = false;
  if (source) {
    const chunks = source.split(/\s+/);
    if (SOURCE_TYPES.includes(chunks[0])) {
      valid = true;
      source = chunks.join(" ");
    }
  }
  return { valid, enabled, source, comment };
}

/** A sources file's lines, as Ansible reads them (one entry per line, newline kept or not). */
export function parseSourcesFile(text: string): SourceLine[] {
  return (text.match(/[^\n]*\n|[^\n]+$/g) ?? []).map(parseSourceLine);
}

/** What Ansible writes for these lines; undefined when there are none (the file goes). */
export function dumpSources(lines: readonly SourceLine[]): string | undefined {
  if (lines.length === 0) return undefined;
  return lines.map((l) => `${l.enabled ? "" : "# "}${l.source}${l.comment ? ` # ${l.comment}` : ""}\n`).join("");
}

/** The .list file Ansible names for a repo: its host and path, each run of other characters one "_" (or `filename`.list). */
export function suggestFilename(source: string, filename?: string): string {
  if (filename !== undefined) return `${filename}.list`;
  const parts = source.replace(/\[[^\]]+\]/g, "").replace(/\w+:\/\//g, "").split(/\s+/).filter((p) => p && !SOURCE_TYPES.includes(p));
  const first = (parts[0] ?? "").split("@").at(-1)!;
  return `${first.replace(/[^a-zA-Z0-9]/g, " ").split(/\s+/).filter(Boolean).join("_")}.list`;
}

/** The sources files by path, edited in place: add (or enable) `source`, or remove it. */
export function editSources(files: Map<string, SourceLine[]>, source: string, state: "present" | "absent", newFile: string): { files: Map<string, SourceLine[]>; touched: Set<string> } {
  const out = new Map([...files].map(([path, lines]) => [path, lines.map((l) => ({ ...l }))]));
  const touched = new Set<string>();
  if (state === "present") {
    let found = false;
    for (const lines of out.values()) {
      for (const l of lines) {
        if (l.valid && l.source === source) {
          l.enabled = true;
          found = true;
        }
      }
    }
    if (!found) {
      if (!out.has(newFile)) out.set(newFile, []);
      out.get(newFile)!.push({ valid: true, enabled: true, source, comment: "" });
      touched.add(newFile);
    }
  } else {
    for (const [path, lines] of out) out.set(path, lines.filter((l) => !(l.valid && l.enabled && l.source === source)));
  }
  return { files: out, touched };
}
