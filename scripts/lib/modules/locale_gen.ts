/**
 * community.general.locale_gen: a locale generated (present) or not (absent), the Debian and
 * Raspberry Pi OS way: its line in /etc/locale.gen uncommented (or commented out), then
 * `locale-gen`. Present means `locale -a` lists it (en_US.UTF-8 and en_US.utf8 are the same
 * name), as Ansible decides. One read: `locale -a` and /etc/locale.gen together.
 */
import type { ModuleDefinition, Probe } from "./types.ts";
import { readProbe } from "./probe.ts";
import { ModuleFailure } from "./types.ts";
import { fileProbeScript, parseFileProbe, writeFileAtomic, type FileState } from "./remote-file.ts";
import { requireSuccess, schemaHeader, probeSection } from "./support/system.ts";
import { contentDiff } from "./support/file-diff.ts";
import { readLines } from "./support/text-edit.ts";
import { schemaPattern, type ValueRule } from "./support/values.ts";

interface LocaleGenArgs {
  name: string;
  state: "present" | "absent";
}

const LOCALE: ValueRule = { what: "a locale name", allowed: 'letters, digits and "_.@-", e.g. en_US.UTF-8 or de_CH.UTF-8', pattern: "^[A-Za-z][A-Za-z0-9_.@-]*$" };

const CHARSETS: Record<string, string> = { ".utf8": ".UTF-8", ".eucjp": ".EUC-JP", ".iso885915": ".ISO-8859-15", ".cp1251": ".CP1251", ".koi8r": ".KOI8-R", ".euckr": ".EUC-KR", ".gbk": ".GBK", ".gb18030": ".GB18030", ".euctw": ".EUC-TW" };

/** `locale -a` spells charsets its own way (en_US.utf8): one spelling for comparisons. */
export function normalizeLocale(name: string): string {
  let out = name;
  for (const [s, r] of Object.entries(CHARSETS)) out = out.replace(s, r);
  return out;
}

/** /etc/locale.gen with the locale's line enabled or commented out; undefined when no line names it. */
export function setLocaleLine(text: string, name: string, enabled: boolean): string | undefined {
  let found = false;
  const lines = readLines(text).map((line) => {
    const m = /^#?\s*(\S+_\S+) (\S+)\s*$/.exec(line);
    if (!m || m[1] !== name) return line;
    found = true;
    return `${enabled ? "" : "# "}${name} ${m[2]}${line.endsWith("\n") ? "\n" : ""}`;
  });
  return found ? lines.join("") : undefined;
}

/** The generated locales (`locale -a`) and /etc/locale.gen. */
export const LOCALES_PROBE: Probe<undefined, { locales: string[]; localeGen: FileState }> = {
  name: "locales",
  command: () => `echo @@locales; LC_ALL=C locale -a 2>/dev/null\necho @@end\n${fileProbeScript("/etc/locale.gen", { content: true })}`,
  parse(r) {
    requireSuccess(r, "Cannot list the locales");
    const locales = probeSection(r.stdout, "locales").split("\n").map((l) => l.trim()).filter((l) => l !== "");
    return { locales, localeGen: parseFileProbe(r.stdout) };
  },
};

export const localeGen: ModuleDefinition<LocaleGenArgs, { after: string }> = {
  name: "locale_gen",
  aliases: ["community.general.locale_gen"],
  schema: {
    ...schemaHeader("locale_gen", "Generates (or removes) a locale via /etc/locale.gen and locale-gen."),
    properties: {
      name: { type: "string", ...schemaPattern(LOCALE), description: "Locale with its charset, e.g. en_US.UTF-8." },
      state: { type: "string", enum: ["present", "absent"], default: "present" },
    },
    required: ["name"],
  },
  async plan(args, ctx) {
    const { locales, localeGen: file } = await readProbe(ctx, LOCALES_PROBE, undefined, { become: false });
    const generated = locales.some((l) => normalizeLocale(l) === normalizeLocale(args.name));
    const result = { name: args.name, state: args.state };
    if (generated === (args.state === "present")) return { changed: false, reason: `${args.name} is ${generated ? "generated" : "not generated"}`, result };
    if (!file.exists || typeof file.content !== "string") throw new ModuleFailure("locale_gen: /etc/locale.gen is missing: this runner generates locales the Debian way (install the locales package)");
    const after = setLocaleLine(file.content, args.name, args.state === "present");
    if (after === undefined) throw new ModuleFailure(`locale_gen: the locale ${args.name} is not available on this system (no line for it in /etc/locale.gen)`);
    return { changed: true, msg: `${args.name} ${args.state === "present" ? "generated" : "removed"}`, state: { after }, result, diff: after === file.content ? undefined : [contentDiff(file.content, after, "/etc/locale.gen")] };
  },
  async apply(plan, args, ctx) {
    await writeFileAtomic(ctx, "/etc/locale.gen", plan.state!.after);
    requireSuccess(await ctx.run("locale-gen"), `locale-gen failed for ${args.name}`);
    return { msg: plan.msg };
  },
};
