/**
 * From an EditSession to the disk: the planned file changes, their check on a staged copy
 * (loaded by the runner's loader, so the result is known to load before it replaces
 * anything), their diff for --dry-run, and the write itself: a `.bak` copy of each file, the
 * new text to a temporary file in the same folder, then a rename (atomic on POSIX).
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { UserError } from "../errors.ts";
import { loadInventory } from "../inventory/inventory.ts";
import type { Inventory } from "../inventory/inventory.ts";
import { unifiedDiff } from "../report/diff.ts";
import type { EditSession } from "./edits.ts";
import { checkSchema } from "./validate.ts";

export interface Plan {
  inventoryFile: string;
  writes: Array<{ path: string; before: string; after: string }>;
  renames: Array<{ from: string; to: string }>;
  notes: string[];
}

export function planOf(session: EditSession): Plan {
  const writes = [...session.files.values()].map((f) => ({ path: f.file, before: f.text, after: f.result() })).filter((w) => w.before !== w.after);
  return { inventoryFile: session.inventory.file, writes, renames: [...session.renames], notes: [...session.notes] };
}

/** Loads the inventory as it will be after the plan, from a staged copy; errors name the real files. */
export function loadPlanned(plan: Plan): Inventory {
  const dir = dirname(plan.inventoryFile);
  const stage = mkdtempSync(join(tmpdir(), "inventory-edit-"));
  const staged = (path: string) => join(stage, relative(dir, path));
  try {
    for (const sub of ["group_vars", "host_vars"]) if (existsSync(join(dir, sub))) cpSync(join(dir, sub), join(stage, sub), { recursive: true });
    cpSync(plan.inventoryFile, staged(plan.inventoryFile));
    for (const w of plan.writes) {
      mkdirSync(dirname(staged(w.path)), { recursive: true });
      writeFileSync(staged(w.path), w.after);
    }
    for (const r of plan.renames) renameSync(staged(r.from), staged(r.to));
    const inventoryText = plan.writes.find((w) => w.path === plan.inventoryFile)?.after;
    if (inventoryText !== undefined) checkSchema(inventoryText, plan.inventoryFile);
    return loadInventory([staged(plan.inventoryFile)]);
  } catch (error) {
    if (error instanceof UserError && error.where?.file.startsWith(stage)) {
      const file = join(dir, relative(stage, error.where.file));
      throw new UserError(`${error.message} (after this change; nothing was written)`, { where: { ...error.where, file }, hint: error.hint, exitCode: error.exitCode });
    }
    throw error;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** The plan as unified diffs (paths relative to cwd) and rename lines. */
export function planDiff(plan: Plan, cwd: string): string {
  const show = (p: string) => (relative(cwd, p).startsWith("..") ? p : relative(cwd, p));
  let out = "";
  for (const w of plan.writes) out += unifiedDiff(w.before, w.after, { beforeHeader: show(w.path), afterHeader: show(w.path) });
  for (const r of plan.renames) out += `rename ${show(r.from)} -> ${show(r.to)}\n`;
  return out;
}

function atomicWrite(path: string, text: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const mode = statSync(path).mode & 0o777;
  writeFileSync(temp, text, { mode });
  renameSync(temp, path);
}

/** Writes the plan: each changed file backed up as `<file>.bak`, then replaced atomically; then the renames. */
export function commit(plan: Plan): string[] {
  const backups: string[] = [];
  for (const w of plan.writes) {
    copyFileSync(w.path, `${w.path}.bak`);
    backups.push(`${w.path}.bak`);
  }
  const written: string[] = [];
  const renamed: Array<{ from: string; to: string }> = [];
  try {
    for (const w of plan.writes) {
      atomicWrite(w.path, w.after);
      written.push(w.path);
    }
    for (const r of plan.renames) {
      if (existsSync(r.to)) throw new UserError(`${r.to} appeared meanwhile; not overwriting it`, { exitCode: 1 });
      renameSync(r.from, r.to);
      renamed.push(r);
    }
  } catch (error) {
    // Put back what was already done, so the inventory is never half edited.
    for (const r of renamed.reverse()) renameSync(r.to, r.from);
    for (const path of written) atomicWrite(path, readFileSync(`${path}.bak`, "utf8"));
    throw error;
  }
  return backups;
}
