/**
 * Diffs as Ansible shows them: file content before/after with headers, and a second entry
 * for attribute changes. Secrets never appear: secret content is replaced by a notice, and
 * any known secret text is masked. Binary or big files get a notice instead of content.
 */
import type { FileDiff } from "../types.ts";
import { Secret, maskSecrets } from "../../shell/secret.ts";
import type { AttributeChanges } from "../remote-file.ts";

/** Ansible's MAX_FILE_SIZE_FOR_DIFF default (104448 bytes). */
export const MAX_DIFF_BYTES = 104448;

export const SECRET_NOTICE = "(secret content hidden)\n";

export interface ContentDiffOptions {
  beforeHeader?: string;
  afterHeader?: string;
  /** The new content holds a secret: show a notice, never the text. */
  secret?: boolean;
}

/** A content diff entry; before undefined means the file does not exist yet. */
export function contentDiff(
  before: string | Uint8Array | undefined,
  after: string | Uint8Array | Secret,
  header: string,
  options: ContentDiffOptions = {},
): FileDiff {
  return {
    before_header: options.beforeHeader ?? header,
    after_header: options.afterHeader ?? header,
    before: shown(before ?? "", options.secret),
    after: shown(after, options.secret),
  };
}

function shown(content: string | Uint8Array | Secret, secret?: boolean): string {
  if (secret || content instanceof Secret) return content === "" ? "" : SECRET_NOTICE;
  if (typeof content !== "string") return `(binary content, ${content.length} bytes: diff skipped)\n`;
  if (Buffer.byteLength(content) > MAX_DIFF_BYTES) return `(file larger than ${MAX_DIFF_BYTES} bytes: diff skipped)\n`;
  const masked = maskSecrets(content);
  return masked !== content ? SECRET_NOTICE : content;
}

/** The attribute entry ("path (file attributes)") for owner/group/mode changes, if any. */
export function attributesDiff(path: string, attrs: AttributeChanges): FileDiff | undefined {
  if (attrs.changes.length === 0) return undefined;
  const text = (o: Record<string, string>) => Object.entries(o).map(([k, v]) => `${k}: ${v}\n`).join("");
  return {
    before_header: `${path} (file attributes)`,
    after_header: `${path} (file attributes)`,
    before: text(attrs.before),
    after: text(attrs.after),
  };
}

/** Joins "content changed" and attribute lines into one short message. */
export function joinMessages(...parts: Array<string | string[] | undefined>): string {
  return parts.flat().filter((p): p is string => !!p).join(", ");
}
