/**
 * ansible.builtin.cron: one job (or variable) in a user's crontab, read with `crontab -l` and
 * installed whole with `crontab` from a checked temp file, or in a cron.d file written
 * atomically. The edits are Ansible's own (support/crontab-edit.ts), marker lines included,
 * so a crontab Ansible managed converges with no change.
 */
import type { FileDiff, ModuleDefinition, Probe } from "./types.ts";
import { readProbe } from "./probe.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { fileProbeScript, parseFileProbe, writeFileAtomic, type FileState } from "./remote-file.ts";
import { contentDiff } from "./support/file-diff.ts";
import { receiveToTemp, framedUpload, UPLOAD_INCOMPLETE } from "./support/upload.ts";
import { RULES, requireValue, schemaPattern } from "./support/values.ts";
import { requireSuccess, schemaHeader, probeValues } from "./support/system.ts";
import {
  envNames, jobLine, jobNames, readCronFile, readUserCrontab, removeEnv, removeJob, renderCrontab, setEnv, setJob, type Crontab, type EditResult,
} from "./support/crontab-edit.ts";

type TimeField = string | number;

interface CronArgs {
  name: string;
  state: "present" | "absent";
  job?: string;
  minute: TimeField;
  hour: TimeField;
  day: TimeField;
  month: TimeField;
  weekday: TimeField;
  special_time?: string;
  user?: string;
  cron_file?: string;
  disabled: boolean;
  env: boolean;
  insertafter?: string;
  insertbefore?: string;
}

interface CronApply {
  /** Absent: remove the cron file. */
  content?: string;
  cronFile?: string;
  newFile: boolean;
  user?: string;
}

/** What CRONTAB_PROBE finds: a user's crontab (`crontab -l`) or a cron.d file. */
export interface CronState {
  userExists: boolean;
  /** `crontab -l` printed one ("" when the user has none). */
  crontab: string;
  /** The cron file, when cron_file is given. */
  file?: FileState;
}

/** `crontab` for the user: with -u only when it is someone else (Debian's crontab allows -u to root only). */
function crontabFor(user: string | undefined, args: string): string {
  if (user === undefined) return `crontab ${args}`;
  return sh`u=${user}` + `; if [ "$(id -un)" = "$u" ]; then crontab ${args}; else crontab -u "$u" ${args}; fi`;
}

export const CRONTAB_PROBE: Probe<{ user?: string; cronFile?: string }, CronState> = {
  name: "crontab",
  command: ({ user, cronFile }) => {
    if (cronFile !== undefined) return fileProbeScript(cronFile, { content: true });
    return [
      user === undefined ? "" : sh`getent passwd -- ${user} >/dev/null || { echo user=missing; exit 0; }`,
      // The dot keeps the crontab's final newlines through $( ).
      `c=$(${crontabFor(user, "-l")}; r=$?; echo .; exit $r); echo "rc=$?"`,
      `printf 'crontab='; printf %s "\${c%.}" | base64 -w0; echo`,
    ].filter(Boolean).join("\n");
  },
  parse(r, { user, cronFile }) {
    requireSuccess(r, cronFile ? `Cannot read ${cronFile}` : `Cannot read the crontab of ${user ?? "the remote user"}`);
    if (cronFile !== undefined) return { userExists: true, crontab: "", file: parseFileProbe(r.stdout) };
    const v = probeValues(r.stdout);
    if (v.get("user") === "missing") return { userExists: false, crontab: "" };
    const rc = Number(v.get("rc"));
    // Ansible's reading: 1 is "no crontab for this user".
    if (rc !== 0 && rc !== 1) throw new ModuleFailure(`Unable to read crontab: crontab -l said ${r.stderr.trim() || `rc ${rc}`}`, { rc });
    return { userExists: true, crontab: rc === 0 ? Buffer.from(v.get("crontab") ?? "", "base64").toString("utf8") : "" };
  },
};

/** The cron.d path Ansible uses: a relative cron_file lives in /etc/cron.d. */
function cronFilePath(cronFile: string): string {
  return cronFile.startsWith("/") ? cronFile : `/etc/cron.d/${cronFile}`;
}

const timeField = (description: string) => ({ type: ["string", "integer"], ...schemaPattern(RULES.word), default: "*", description });

export const cron: ModuleDefinition<CronArgs, CronApply> = {
  name: "cron",
  aliases: [],
  schema: {
    ...schemaHeader("cron", "Manages a cron job or variable in a user's crontab or a cron.d file, as Ansible writes them."),
    properties: {
      name: { type: "string", ...schemaPattern(RULES.singleLine), description: "The job's name (its '#Ansible: NAME' line), or the variable's name with env." },
      state: { type: "string", enum: ["present", "absent"], default: "present" },
      job: { type: "string", aliases: ["value"], description: "The command (or the variable's value with env)." },
      minute: timeField("Minute (0-59, *, */2, ...)."),
      hour: timeField("Hour (0-23, *, ...)."),
      day: { ...timeField("Day of the month (1-31, *, ...)."), aliases: ["dom"] },
      month: timeField("Month (1-12, *, ...)."),
      weekday: { ...timeField("Day of the week (0-6 for Sunday-Saturday, *, ...)."), aliases: ["dow"] },
      special_time: { type: "string", enum: ["annually", "daily", "hourly", "monthly", "reboot", "weekly", "yearly"], description: "@daily-style time instead of the fields." },
      user: { type: "string", ...schemaPattern(RULES.accountName), description: "Whose crontab (default: the remote user); the user field of a cron_file line." },
      cron_file: { type: "string", ...schemaPattern(RULES.singleLine), description: "A file in /etc/cron.d (relative) or an absolute path instead of a user's crontab; needs user." },
      disabled: { type: "boolean", default: false, description: "Write the job commented out." },
      env: { type: "boolean", default: false, description: "Manage a variable NAME=\"job\" instead of a job." },
      insertafter: { type: "string", description: "With env: put a new variable after this one." },
      insertbefore: { type: "string", description: "With env: put a new variable before this one." },
    },
    required: ["name"],
    not: { required: ["insertafter", "insertbefore"] },
  },
  async plan(args, ctx) {
    const present = args.state === "present";
    const fields = [args.minute, args.hour, args.day, args.month, args.weekday].map(String);
    if (args.special_time && fields.some((f) => f !== "*")) throw new ModuleFailure("You must specify time and date fields or special time.");
    if (args.cron_file !== undefined && cronFilePath(args.cron_file) === "/etc/crontab") throw new ModuleFailure("Will not manage /etc/crontab via cron_file, see documentation.");
    if (present && args.cron_file !== undefined && args.user === undefined) throw new ModuleFailure("To use cron_file=... parameter you must specify user=... as well");
    if (present && args.job === undefined) throw new ModuleFailure("You must specify 'job' to install a new cron job or variable");
    if (present && !args.env && (args.insertafter !== undefined || args.insertbefore !== undefined)) throw new ModuleFailure("Insertafter and insertbefore parameters are valid only with env=yes");
    // A line break would write a second line Ansible never meant (it only warns).
    const job = args.job === undefined ? undefined : requireValue("cron", "job", args.job.replace(/^[\r\n]+|[\r\n]+$/g, ""), RULES.singleLine);
    if (args.env) requireValue("cron", "name", args.name, { what: "a variable name", allowed: "no spaces, tabs or '='", pattern: "^[^\\s=]+$" });

    const cronFile = args.cron_file === undefined ? undefined : cronFilePath(args.cron_file);
    const found = await readProbe(ctx, CRONTAB_PROBE, { user: args.user, cronFile });
    if (!found.userExists) throw new ModuleFailure(`User ${JSON.stringify(args.user)} does not exist on ${ctx.host}; create it first (ansible.builtin.user) or fix user`);
    let tab: Crontab;
    if (found.file) {
      if (found.file.exists && found.file.type !== "file") throw new ModuleFailure(`${cronFile} is a ${found.file.type}, not a file`);
      if (found.file.exists && typeof found.file.content !== "string") throw new ModuleFailure(`${cronFile} is not text Ansible's cron module could edit`);
      tab = readCronFile(found.file.exists ? (found.file.content as string) : "");
    } else {
      tab = readUserCrontab(found.crontab);
    }

    let edit: EditResult;
    try {
      if (args.env) edit = present ? setEnv(tab.lines, args.name, job!, args) : removeEnv(tab.lines, args.name);
      else if (present) edit = setJob(tab.lines, args.name, jobLine({ minute: fields[0], hour: fields[1], day: fields[2], month: fields[3], weekday: fields[4], job: job!, specialTime: args.special_time, disabled: args.disabled, fileUser: cronFile ? args.user : undefined }));
      else edit = removeJob(tab.lines, args.name);
    } catch (e) {
      throw new ModuleFailure((e as Error).message);
    }
    const header = cronFile ?? (args.user ? `crontab for user "${args.user}"` : "crontab");
    const what = `${args.env ? "variable" : "job"} ${JSON.stringify(args.name)}`;
    const result: Record<string, unknown> = { jobs: jobNames(edit.lines), envs: envNames(edit.lines), ...(args.cron_file !== undefined ? { cron_file: args.cron_file } : {}) };

    // Ansible removes a cron file its last job left empty.
    if (cronFile && edit.changed && !present && !args.env && edit.lines.every((l) => !l.trim())) {
      return {
        changed: true,
        msg: `${what} removed, ${cronFile} removed`,
        diff: [contentDiff(tab.existing, "", cronFile, { afterHeader: "/dev/null" })],
        state: { cronFile, newFile: false },
        result: { cron_file: args.cron_file, state: args.state },
      };
    }
    // Also Ansible's: a crontab without its final newline is rewritten.
    const unterminated = tab.existing !== "" && !/[\r\n]$/.test(tab.existing);
    if (!edit.changed && !unterminated) return { changed: false, reason: `${what} ${present ? "present" : "absent"} in ${header}`, result };
    const content = renderCrontab(edit.lines);
    const diff: FileDiff = contentDiff(tab.existing, content, header);
    return {
      changed: true,
      msg: edit.changed ? `${what} ${present ? "set" : "removed"} in ${header}` : `${header} given its final newline`,
      diff: [diff],
      state: { content, cronFile, newFile: !found.file?.exists, user: args.user },
      result,
    };
  },
  async apply(plan, _args, ctx) {
    const s = plan.state!;
    if (s.cronFile !== undefined && s.content === undefined) {
      requireSuccess(await ctx.run(sh`rm -f -- ${s.cronFile}`), `Cannot remove ${s.cronFile}`);
    } else if (s.cronFile !== undefined) {
      // A new cron.d file as Ansible leaves it (umask 022); an existing one keeps its owner and mode.
      await writeFileAtomic(ctx, s.cronFile, s.content!, s.newFile ? { mode: "0644" } : {});
    } else {
      const script = [receiveToTemp(), crontabFor(s.user, '-- "$t"')].join("\n");
      const r = await ctx.run(script, { stdin: framedUpload(Buffer.from(s.content!, "utf8")) });
      if (r.rc === UPLOAD_INCOMPLETE) throw new ModuleFailure(`Cannot install the crontab: ${r.stderr.trim()}; the crontab was left as it was`, { rc: r.rc });
      requireSuccess(r, `crontab refused the new crontab${s.user ? ` of ${s.user}` : ""}`);
    }
    return { msg: plan.msg };
  },
};
