/**
 * ansible.builtin.debconf: one debconf answer preseeded (debconf-set-selections), compared
 * first with what debconf holds, as Ansible's module does with `debconf-show NAME`: one read,
 * one write. Booleans compare as debconf spells them (true/false).
 *
 * A `password` answer is a secret wherever it comes from: debconf-show omits passwords, so
 * the wanted value goes on stdin to a comparison made on the target against debconf's
 * password database (0600, root's), and it is set through stdin too; it never reaches a
 * command line, the result, the diff or a message.
 */
import type { ModuleDefinition, Probe } from "./types.ts";
import { readProbe } from "./probe.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { Secret } from "../shell/secret.ts";
import { requireSuccess, schemaHeader, probeValues } from "./support/system.ts";
import { RULES, requireValue, schemaPattern, type ValueRule } from "./support/values.ts";

type Vtype = "boolean" | "error" | "multiselect" | "note" | "password" | "seen" | "select" | "string" | "text" | "title";

interface DebconfArgs {
  name: string;
  question?: string;
  vtype?: Vtype;
  value?: string | number | boolean | Secret;
  unseen: boolean;
}

const OWNER: ValueRule = { what: "a debconf package name", allowed: 'lowercase letters, digits, "+", "-" and ".", starting with a letter or digit', pattern: "^[a-z0-9][a-z0-9+.-]*$" };
const QUESTION: ValueRule = { what: "a debconf question", allowed: 'letters, digits and "_.+/:-", starting with a letter or digit, no spaces', pattern: "^[A-Za-z0-9][A-Za-z0-9_.+/:-]*$" };
const PASSWORDS = "/var/cache/debconf/passwords.dat";

/** `debconf-show` lines ("* tzdata/Areas: Europe"), as Ansible reads them. */
export function parseDebconfShow(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    out[line.slice(0, colon).replace(/^[\s*]+/, "").trim()] = line.slice(colon + 1).trim();
  }
  return out;
}

/** The answers to a package's questions (debconf-show). */
export const ANSWERS_PROBE: Probe<{ owner: string }, Record<string, string>> = {
  name: "debconf-answers",
  command: ({ owner }) => sh`debconf-show ${owner}`,
  parse: (r, { owner }) => parseDebconfShow(requireSuccess(r, `Cannot read the debconf answers of ${owner}`).stdout),
};

/**
 * Whether a password question already holds the value sent on stdin (readProbe's `stdin`):
 * only "same" or "different" comes back, never the stored password.
 */
export const PASSWORD_PROBE: Probe<{ question: string }, boolean> = {
  name: "debconf-password-same",
  command: ({ question }) => {
    const compare = [
      "IFS= read -r want",
      `cur=$(Q="$1" awk '$1 == "Name:" { hit = ($2 == ENVIRON["Q"]) } hit && /^Value:/ { sub(/^Value: ?/, ""); print; exit }' ${PASSWORDS} 2>/dev/null)`,
      'if [ "$cur" = "$want" ]; then echo same=yes; else echo same=no; fi',
    ].join("\n");
    return sh`sh -c ${compare} _ ${question}`;
  },
  parse: (r, { question }) => probeValues(requireSuccess(r, `Cannot read debconf's passwords for ${question}`).stdout).get("same") === "yes",
};

export const debconf: ModuleDefinition<DebconfArgs, { line: string | Secret }> = {
  name: "debconf",
  aliases: [],
  secretArgs: ["value"],
  schema: {
    ...schemaHeader("debconf", "Preseeds a debconf answer (debconf-set-selections)."),
    properties: {
      name: { type: "string", aliases: ["pkg"], ...schemaPattern(OWNER), description: "The package that owns the question." },
      question: { type: "string", aliases: ["selection", "setting"], ...schemaPattern(QUESTION) },
      vtype: { type: "string", enum: ["boolean", "error", "multiselect", "note", "password", "seen", "select", "string", "text", "title"] },
      value: { type: ["string", "number", "boolean"], aliases: ["answer"], ...schemaPattern(RULES.singleLine) },
      unseen: { type: "boolean", default: false, description: "Do not mark the question as seen." },
    },
    required: ["name"],
    dependencies: { question: ["vtype", "value"], vtype: ["question", "value"], value: ["question", "vtype"] },
  },
  async plan(args, ctx) {
    const result: Record<string, unknown> = {};
    if (args.question === undefined) {
      return { changed: false, reason: `${args.name}: nothing asked`, result: { current: await readProbe(ctx, ANSWERS_PROBE, { owner: args.name }) } };
    }
    const secret = args.vtype === "password" || args.value instanceof Secret;
    let value = args.value instanceof Secret ? args.value.reveal() : typeof args.value === "boolean" ? String(args.value) : String(args.value);
    requireValue("debconf", "value", value, RULES.singleLine, { secret });
    if (args.vtype === "boolean") value = value.toLowerCase();
    const q = args.question;
    let changed: boolean;
    let previous: string | undefined;
    if (args.vtype === "password") {
      changed = !(await readProbe(ctx, PASSWORD_PROBE, { question: q }, { stdin: `${value}\n` }));
      Object.assign(result, { current: { [q]: "(password)" } });
    } else {
      const answers = await readProbe(ctx, ANSWERS_PROBE, { owner: args.name });
      previous = answers[q];
      const have = args.vtype === "boolean" ? previous?.toLowerCase() : previous;
      changed = previous === undefined || have !== value;
      Object.assign(result, { current: { [q]: changed ? value : previous }, previous: { [q]: previous ?? "" } });
      if (secret) result.current = { [q]: "(secret)" };
    }
    if (!changed) return { changed: false, reason: `${q} is already ${secret ? "set" : JSON.stringify(value)}`, result };
    const line = `${args.name} ${q} ${args.vtype} ${value}\n`;
    return {
      changed: true,
      msg: `${q} set${secret ? "" : ` to ${JSON.stringify(value)}`}`,
      state: { line: secret ? new Secret(line) : line },
      result,
      diff: secret ? undefined : [{ before: previous === undefined ? "" : `${q} = ${previous}\n`, after: `${q} = ${value}\n`, before_header: `debconf ${args.name}`, after_header: `debconf ${args.name}` }],
    };
  },
  async apply(plan, args, ctx) {
    const line = plan.state!.line;
    const r = await ctx.run(args.unseen ? "debconf-set-selections -u" : "debconf-set-selections", { stdin: line instanceof Secret ? line.reveal() : line });
    // Its complaint may quote the line, a password included: not shown for a secret.
    if (r.rc !== 0) throw new ModuleFailure(`debconf-set-selections failed for ${args.question}: ${line instanceof Secret ? `rc ${r.rc}` : r.stderr.trim() || `rc ${r.rc}`}`, { rc: r.rc });
    return { msg: plan.msg };
  },
};
