/**
 * doctor: the health checks of scripts/doctor.ts (the same code, one source of truth) as a
 * task, for the end of site.yml. Read-only: it never changes anything, in check mode too.
 *
 * The checks run once for the play's hosts (hostname-unique and the cluster checks need them
 * all together); each host then reports its own verdicts. A failed check is a warning naming
 * the host, the check and the fix; with `strict: true` it fails that host. Warnings by default
 * because right after a converging run some checks are still settling (the clock syncing,
 * Longhorn's nodes registering) and some cannot hold in a container (iscsid); `npx zx doctor`
 * is the gate (exit 2 when a check fails).
 */
import type { Verdict } from "../../doctor/checks.ts";
import { done, failed } from "../outcome.ts";
import type { PlayState } from "../state.ts";
import type { ControllerActionRunner } from "./types.ts";

/** One diagnosis per play batch, shared by its hosts. */
const diagnoses = new WeakMap<PlayState, Promise<Verdict[]>>();

export const doctor: ControllerActionRunner = async (tr) => {
  const strict = isTrue(tr.templar.render(tr.task.args.strict ?? false));
  let diagnosis = diagnoses.get(tr.ps);
  if (!diagnosis) {
    const { diagnose } = await import("../../../doctor.ts");
    diagnosis = diagnose(tr.ps.run.inventory, tr.ps.batch);
    diagnoses.set(tr.ps, diagnosis);
  }
  const verdicts = (await diagnosis).filter((v) => v.host === tr.host);
  const problems = verdicts.filter((v) => v.status === "fail");
  const lines = verdicts.map((v) => `${v.status.toUpperCase()} ${v.check}: ${v.detail}`);
  const data = { verdicts, failed_checks: problems.map((v) => v.check) };
  if (problems.length > 0 && strict) return failed(`${tr.host}: ${problems.map((v) => `${v.check} failed: ${v.detail}`).join("; ")}`, data);
  for (const v of problems) tr.warn(`${tr.host}: ${v.check} failed: ${v.detail}`);
  return done(false, lines.join("\n"), data);
};

function isTrue(value: unknown): boolean {
  return value === true || (typeof value === "string" && ["true", "yes", "on", "1"].includes(value.trim().toLowerCase()));
}
