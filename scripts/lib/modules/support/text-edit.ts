/**
 * The shape lineinfile, blockinfile and replace share: probe the file (content, type,
 * attributes) in one round trip, compute the new text with a pure function, compare
 * attributes, and on apply write atomically (following symlinks, as Ansible writes the
 * real file) or only fix attributes.
 */
import type { ApplyResult, FileDiff, ModuleContext, Plan } from "../types.ts";
import { ModuleFailure } from "../types.ts";
import type { AttributeWish, FileState } from "../remote-file.ts";
import { applyAttributes, planAttributes, probeFile, writeFileAtomic } from "../remote-file.ts";
import { attributesDiff, contentDiff, joinMessages } from "./file-diff.ts";
import { RULES, schemaPattern } from "./values.ts";
import { Secret } from "../../shell/secret.ts";

export interface TextEditArgs extends AttributeWish {
  path: string;
  backup?: boolean;
  validate?: string;
  create?: boolean;
  /** Some argument was a Secret: the diff hides the content; a new file is created 0600. */
  secret?: boolean;
}

/**
 * Replaces Secret argument values by their text (edits need the text) and says whether
 * there was any, so the caller can hide the diff and create the file 0600.
 */
export function revealSecrets<T extends object>(args: T): T & { secret: boolean } {
  let secret = false;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    if (v instanceof Secret) {
      secret = true;
      out[k] = v.reveal();
    } else out[k] = v;
  }
  return { ...(out as T), secret: secret || (args as { secret?: boolean }).secret === true };
}

/** What the pure edit says. `exit` ends the module with no change and that reason. */
export type EditOutcome =
  | { after: string; msg: string; result?: Record<string, unknown> }
  | { exit: string; result?: Record<string, unknown> };

export interface TextEditState {
  after: string;
  contentChanged: boolean;
  existed: boolean;
}

/** Ansible's readlines(): lines keep their "\n". */
export function readLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/**
 * Plans an edit. `edit` receives the current text (undefined when the file is missing) and
 * returns the new text; when `missing` is given it decides about an absent file first.
 */
export async function planTextEdit(
  ctx: ModuleContext,
  args: TextEditArgs,
  edit: (before: string | undefined) => EditOutcome,
  options: { missing?: () => EditOutcome | "create" } = {},
): Promise<Plan<TextEditState>> {
  const path = args.path;
  const state = await probeFile(ctx, path, { content: true, follow: true });
  if (state.type === "directory") throw new ModuleFailure(`Path ${path} is a directory !`, { rc: 256 });
  if (state.exists && state.type !== "file") throw new ModuleFailure(`Path ${path} is not a regular file`, {});
  if (state.exists && typeof state.content !== "string") {
    if (state.content === undefined) throw new ModuleFailure(`Cannot read ${path}`, {});
    throw new ModuleFailure(`${path} is not UTF-8 text; refusing to edit it line by line`, {});
  }
  let before: string | undefined;
  if (state.exists) {
    before = state.content as string;
  } else if (options.missing) {
    const decision = options.missing();
    if (decision !== "create") return exitPlan(decision);
  }
  const outcome = edit(before);
  if ("exit" in outcome) return exitPlan(outcome);
  const contentChanged = outcome.after !== (before ?? (state.exists ? "" : undefined));
  return finishPlan(ctx, args, state, before, outcome, contentChanged);
}

function exitPlan(outcome: EditOutcome): Plan<TextEditState> {
  const reason = "exit" in outcome ? outcome.exit : outcome.msg;
  return { changed: false, reason, result: { msg: reason, ...(outcome.result ?? {}) } };
}

function finishPlan(
  ctx: ModuleContext,
  args: TextEditArgs,
  state: FileState,
  before: string | undefined,
  outcome: { after: string; msg: string; result?: Record<string, unknown> },
  contentChanged: boolean,
): Plan<TextEditState> {
  const attrs = planAttributes(state, args);
  const changed = contentChanged || attrs.changes.length > 0;
  const msg = joinMessages(contentChanged ? outcome.msg : undefined, attrs.changes);
  const diff: FileDiff[] = [];
  if (ctx.diff && contentChanged) {
    diff.push(contentDiff(before, outcome.after, `${args.path} (content)`, { secret: args.secret }));
  }
  const attrDiff = attributesDiff(args.path, attrs);
  if (attrDiff) diff.push(attrDiff);
  const result = { ...(outcome.result ?? {}), msg: changed ? msg : "" };
  if (!changed) {
    return { changed: false, reason: unchangedReason(outcome.msg), result };
  }
  return {
    changed: true,
    msg,
    diff,
    result,
    state: { after: outcome.after, contentChanged, existed: state.exists },
  };
}

function unchangedReason(msg: string): string {
  return msg || "file already as wanted";
}

/** Writes the planned text (or only fixes attributes) and returns the backup file name. */
export async function applyTextEdit(ctx: ModuleContext, args: TextEditArgs, plan: Plan<TextEditState>): Promise<ApplyResult> {
  const st = plan.state!;
  const wish = { mode: args.mode, owner: args.owner, group: args.group };
  if (st.contentChanged) {
    const { backupFile } = await writeFileAtomic(ctx, args.path, st.after, {
      ...wish,
      validate: args.validate,
      backup: args.backup === true && st.existed,
      followLinks: true,
      makeParents: args.create === true,
      secret: args.secret,
    });
    return { msg: plan.msg, result: backupFile ? { backup: backupFile, backup_file: backupFile } : {} };
  }
  await applyAttributes(ctx, args.path, wish);
  return { msg: plan.msg };
}

/** Schema properties every text-editing module accepts. */
export const FILE_ATTRIBUTE_PROPERTIES = {
  mode: { type: ["string", "integer"], description: 'Octal ("0644") or symbolic ("u=rw,g=r,o=r") mode.' },
  owner: { type: ["string", "integer"], ...schemaPattern(RULES.owner), description: "User name or uid owning the file." },
  group: { type: ["string", "integer"], ...schemaPattern(RULES.owner), description: "Group name or gid of the file." },
  unsafe_writes: { type: "boolean", description: "Accepted for compatibility; writes are always atomic." },
  attributes: { type: "string", description: "Accepted for compatibility; ignored." },
  seuser: { type: "string", description: "Accepted for compatibility; ignored." },
  serole: { type: "string", description: "Accepted for compatibility; ignored." },
  setype: { type: "string", description: "Accepted for compatibility; ignored." },
  selevel: { type: "string", description: "Accepted for compatibility; ignored." },
} as const;
