/**
 * community.general.alternatives: a Debian alternative (update-alternatives) installed with
 * its link, priority and subcommands (slaves), selected (state selected, the default), back in
 * auto mode (auto), merely present, or removed (absent). Decided as Ansible's module decides,
 * from ONE `update-alternatives --query NAME` (the stable, machine-readable listing) plus
 * whether the path exists; the changes run in one more command.
 */
import type { ModuleDefinition, Probe } from "./types.ts";
import { readProbe } from "./probe.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { requireSuccess, schemaHeader, probeValues } from "./support/system.ts";
import { schemaPattern, type ValueRule } from "./support/values.ts";

interface Subcommand {
  name: string;
  path: string;
  link: string;
}

interface AlternativesArgs {
  name: string;
  path: string;
  link?: string;
  priority?: number;
  state: "present" | "selected" | "auto" | "absent";
  subcommands?: Subcommand[];
}

export interface AlternativeGroup {
  link?: string;
  status?: string;
  value?: string;
  /** Subcommand name -> its link. */
  slaveLinks: Record<string, string>;
  /** Alternative path -> priority and subcommand name -> path. */
  alternatives: Record<string, { priority: number; slaves: Record<string, string> }>;
}

/** An alternative's name: update-alternatives refuses "/" and spaces; never "-" first here. */
const ALT_NAME: ValueRule = { what: "an alternative name", allowed: 'letters, digits, "_", ".", "+", "@" and "-", not starting with "-"', pattern: "^[A-Za-z0-9_.+@][A-Za-z0-9_.+@-]*$" };
const ABS_PATH: ValueRule = { what: "an absolute path", allowed: 'a path starting with "/", one line', pattern: "^/[^\\n\\r]*$" };

/** `update-alternatives --query` output: the group's header, then one block per alternative. */
export function parseQuery(text: string): AlternativeGroup {
  const group: AlternativeGroup = { slaveLinks: {}, alternatives: {} };
  const blocks = text.split(/\n\s*\n/);
  const fields = (block: string) => {
    const out: Record<string, string> = {};
    const slaves: Record<string, string> = {};
    let inSlaves = false;
    for (const line of block.split("\n")) {
      if (line.startsWith(" ") && inSlaves) {
        const [n, ...p] = line.trim().split(" ");
        slaves[n] = p.join(" ");
        continue;
      }
      inSlaves = line === "Slaves:";
      const colon = line.indexOf(": ");
      if (colon > 0) out[line.slice(0, colon)] = line.slice(colon + 2);
    }
    return { out, slaves };
  };
  const [head, ...rest] = blocks;
  const h = fields(head ?? "");
  group.link = h.out.Link;
  group.status = h.out.Status;
  group.value = h.out.Value;
  group.slaveLinks = h.slaves;
  for (const block of rest) {
    const b = fields(block);
    if (b.out.Alternative) group.alternatives[b.out.Alternative] = { priority: Number(b.out.Priority), slaves: b.slaves };
  }
  return group;
}

const sameSubcommands = (want: Subcommand[], have: Subcommand[]) =>
  want.length === have.length && want.every((w) => have.some((h) => h.name === w.name && h.path === w.path && h.link === w.link));

/** The alternatives group (update-alternatives --query) and whether the alternative's path exists. */
export const ALTERNATIVES_PROBE: Probe<{ name: string; path: string }, { group: AlternativeGroup; pathExists: boolean }> = {
  name: "alternatives",
  // Values are checked (no "-" first): update-alternatives takes no "--".
  command: ({ name, path }) => sh`export LC_ALL=C; if [ -e ${path} ]; then echo path=yes; fi; echo @@query; update-alternatives --query ${name} 2>/dev/null; true`,
  parse(r, { name }) {
    requireSuccess(r, `Cannot query alternative ${name}`);
    return { group: parseQuery(r.stdout.slice(r.stdout.indexOf("@@query\n") + 8)), pathExists: probeValues(r.stdout).get("path") === "yes" };
  },
};

export const alternatives: ModuleDefinition<AlternativesArgs, { commands: string[] }> = {
  name: "alternatives",
  aliases: ["community.general.alternatives"],
  schema: {
    ...schemaHeader("alternatives", "Manages Debian alternatives (update-alternatives)."),
    properties: {
      name: { type: "string", ...schemaPattern(ALT_NAME), description: "The generic name (editor, iptables, ...)." },
      path: { type: "string", ...schemaPattern(ABS_PATH), description: "The alternative's path." },
      link: { type: "string", ...schemaPattern(ABS_PATH), description: "The generic link (/usr/bin/editor); needed to install a new group." },
      priority: { type: "integer" },
      state: { type: "string", enum: ["present", "selected", "auto", "absent"], default: "selected" },
      subcommands: {
        type: "array",
        aliases: ["slaves"],
        items: {
          type: "object",
          additionalProperties: false,
          required: ["name", "path", "link"],
          properties: { name: { type: "string", ...schemaPattern(ALT_NAME) }, path: { type: "string", ...schemaPattern(ABS_PATH) }, link: { type: "string", ...schemaPattern(ABS_PATH) } },
        },
      },
    },
    required: ["name", "path"],
  },
  async plan(args, ctx) {
    const { group, pathExists } = await readProbe(ctx, ALTERNATIVES_PROBE, { name: args.name, path: args.path }, { become: false });
    const current = group.alternatives[args.path];
    const currentSubs = (slaves: Record<string, string>) => Object.entries(slaves).map(([name, path]) => ({ name, path, link: group.slaveLinks[name] ?? "" }));
    const commands: string[] = [];
    const done: string[] = [];
    if (args.state === "absent") {
      if (current) {
        commands.push(sh`update-alternatives --remove ${args.name} ${args.path}`);
        done.push(`removed ${args.path} from ${args.name}`);
      }
    } else {
      const needsInstall = !current || (args.priority !== undefined && current.priority !== args.priority) || (args.subcommands !== undefined && !sameSubcommands(args.subcommands, currentSubs(current.slaves)));
      if (needsInstall) {
        if (!pathExists) throw new ModuleFailure(`alternatives: path ${args.path} does not exist on this host (install the package that provides it first)`);
        const link = args.link ?? group.link;
        if (!link) throw new ModuleFailure(`alternatives: ${args.name} is not installed yet and no link was given: set link (e.g. /usr/bin/${args.name})`);
        const priority = args.priority ?? current?.priority ?? 50;
        const subs = args.subcommands ?? (current ? currentSubs(current.slaves) : []);
        const slaveWords = subs.flatMap((s) => ["--slave", s.link, s.name, s.path]);
        commands.push(sh`update-alternatives --install ${link} ${args.name} ${args.path} ${String(priority)} ${slaveWords}`);
        done.push(`installed ${args.path} for ${args.name} (priority ${priority})`);
      }
      if (args.state === "selected" && group.value !== args.path) {
        commands.push(sh`update-alternatives --set ${args.name} ${args.path}`);
        done.push(`selected ${args.path} for ${args.name}`);
      }
      if (args.state === "auto" && group.status === "manual") {
        commands.push(sh`update-alternatives --auto ${args.name}`);
        done.push(`${args.name} back to auto`);
      }
    }
    const result = { name: args.name, path: args.path, state: args.state };
    if (commands.length === 0) return { changed: false, reason: `${args.name}: ${args.path} ${args.state === "absent" ? "not installed" : args.state === "selected" ? "selected" : "installed"}`, result };
    const show = (g: { state: string; value?: string; priority?: number }) => `state = ${g.state}\nvalue = ${g.value ?? "(none)"}\n${g.priority === undefined ? "" : `priority = ${g.priority}\n`}`;
    return {
      changed: true,
      msg: done.join("; "),
      state: { commands },
      result,
      diff: [{
        before: show({ state: current ? (group.status ?? "present") : "absent", value: group.value, priority: current?.priority }),
        after: show({ state: args.state === "absent" ? "absent" : args.state === "selected" ? "manual" : args.state === "auto" ? "auto" : (group.status ?? "auto"), value: args.state === "selected" ? args.path : group.value, priority: args.state === "absent" ? undefined : args.priority ?? current?.priority ?? 50 }),
        before_header: `alternative ${args.name}`,
        after_header: `alternative ${args.name}`,
      }],
    };
  },
  async apply(plan, args, ctx) {
    requireSuccess(await ctx.run(`export LC_ALL=C; ${plan.state!.commands.join(" && ")}`), `update-alternatives failed for ${args.name}`);
    return { msg: plan.msg };
  },
};
