/**
 * Test doubles for the executor: an in-memory inventory, a fake Transport whose "remote"
 * is a key/value map per host (commands `get K`, `set K V`, `fail`, `echo X`), and tiny
 * modules on top of it (fake_kv: idempotent set; fake_cmd: non-idempotent). No I/O.
 */
import type { Inventory } from "../../../scripts/lib/inventory/inventory.ts";
import type { ModuleDefinition } from "../../../scripts/lib/modules/types.ts";
import { ModuleFailure } from "../../../scripts/lib/modules/types.ts";
import { registerModule } from "../../../scripts/lib/modules/registry.ts";
import type { Block, Item, Play, Playbook, Task } from "../../../scripts/lib/playbook/types.ts";
import { getControllerAction } from "../../../scripts/lib/playbook/actions.ts";
import type { RunEvent } from "../../../scripts/lib/run/events.ts";
import type { RunOptions, RunSummary } from "../../../scripts/lib/run/options.ts";
import { runPlaybook } from "../../../scripts/lib/run/execute.ts";
import type { ExecOptions, ExecResult, Transport } from "../../../scripts/lib/transport/types.ts";
import { UnreachableError } from "../../../scripts/lib/transport/types.ts";

export interface FakeWorld {
  /** host -> key -> value */
  store: Map<string, Map<string, string>>;
  /** host -> commands run (with options) */
  commands: Map<string, Array<{ command: string; options?: ExecOptions }>>;
  unreachable: Set<string>;
  connects: Map<string, number>;
}

export function newWorld(): FakeWorld {
  return { store: new Map(), commands: new Map(), unreachable: new Set(), connects: new Map() };
}

export class FakeTransport implements Transport {
  constructor(readonly host: string, private world: FakeWorld) {}
  async connect(): Promise<void> {
    this.world.connects.set(this.host, (this.world.connects.get(this.host) ?? 0) + 1);
    if (this.world.unreachable.has(this.host)) throw new UnreachableError(this.host, `ssh: connect to host ${this.host} port 22: Connection refused`);
  }
  async reconnect(): Promise<void> {}
  async close(): Promise<void> {}
  async exec(command: string, options?: ExecOptions): Promise<ExecResult> {
    if (this.world.unreachable.has(this.host)) throw new UnreachableError(this.host, "connection lost");
    const list = this.world.commands.get(this.host) ?? [];
    list.push({ command, options });
    this.world.commands.set(this.host, list);
    const kv = this.world.store.get(this.host) ?? new Map();
    this.world.store.set(this.host, kv);
    const [verb, key, ...rest] = command.split(" ");
    if (verb === "get") return kv.has(key) ? { rc: 0, stdout: kv.get(key)!, stderr: "" } : { rc: 1, stdout: "", stderr: "" };
    if (verb === "set") {
      kv.set(key, rest.join(" "));
      return { rc: 0, stdout: "", stderr: "" };
    }
    if (verb === "fail") return { rc: 2, stdout: "", stderr: "boom" };
    if (verb === "echo") return { rc: 0, stdout: [key, ...rest].join(" ") + "\n", stderr: "" };
    if (verb === "facts") return { rc: 0, stdout: "", stderr: "" };
    return { rc: 127, stdout: "", stderr: `unknown ${verb}` };
  }
}

/** fake_kv key=K value=V: sets K to V (idempotent: one `get` probe, one `set` to apply). */
export const fakeKv: ModuleDefinition<{ key: string; value: string }> = {
  name: "fake_kv",
  aliases: [],
  schema: { type: "object", additionalProperties: false, properties: { key: { type: "string" }, value: { type: "string" } }, required: ["key", "value"] },
  async plan(args, ctx) {
    const r = await ctx.run(`get ${args.key}`);
    if (r.rc === 0 && r.stdout === args.value) return { changed: false, reason: `${args.key} is ${args.value}`, result: { value: args.value } };
    return { changed: true, msg: `${args.key} set`, result: { value: args.value }, diff: [{ before: r.stdout, after: args.value }] };
  },
  async apply(_plan, args, ctx) {
    await ctx.run(`set ${args.key} ${args.value}`);
  },
};

/** fake_cmd cmd=...: runs the command (non-idempotent), rc != 0 fails. */
export const fakeCmd: ModuleDefinition<{ cmd: string }> = {
  name: "fake_cmd",
  aliases: [],
  nonIdempotent: true,
  schema: { type: "object", additionalProperties: false, properties: { cmd: { type: "string" } }, required: ["cmd"] },
  async plan(_args, ctx) {
    if (ctx.check) return { changed: false, skipped: "check mode: command not run" };
    return { changed: true, msg: "ran" };
  },
  async apply(_plan, args, ctx) {
    const r = await ctx.run(args.cmd);
    const result = { rc: r.rc, stdout: r.stdout.replace(/\n$/, ""), stderr: r.stderr };
    if (r.rc !== 0) throw new ModuleFailure("non-zero return code", result);
    return { result };
  },
};

registerModule(fakeKv);
registerModule(fakeCmd);

export function inventory(hosts: string[], vars: Record<string, Record<string, unknown>> = {}, groups: Record<string, string[]> = {}): Inventory {
  const all = { all: hosts, ungrouped: hosts.filter((h) => !Object.values(groups).some((g) => g.includes(h))), ...groups };
  return {
    hosts,
    groups: all,
    hostVars: (h) => ({ ...(vars[h] ?? {}) }),
    groupNames: (h) => Object.entries(groups).filter(([, hs]) => hs.includes(h)).map(([g]) => g).sort(),
    sources: [],
  };
}

let line = 0;
/** A task: t("fake_kv", {key, value}, {register: "r"}). */
export function t(module: string, args: Record<string, unknown> = {}, extra: Partial<Task> = {}): Task {
  // As the loader: a controller action's resolved name goes on the task.
  const action = getControllerAction(module)?.name;
  return { kind: "task", module, ...(action ? { action } : {}), args, tags: [], where: { file: "play.yml", line: ++line }, baseDir: "/nonexistent", name: extra.name ?? `${module} ${line}`, ...extra };
}

export function block(body: Item[], rescue: Item[] = [], always: Item[] = [], extra: Partial<Block> = {}): Block {
  return { kind: "block", block: body, rescue, always, tags: [], where: { file: "play.yml", line: ++line }, ...extra };
}

export function play(items: Item[], extra: Partial<Play> = {}): Play {
  return {
    name: "test play",
    hosts: "all",
    where: { file: "play.yml", line: 1 },
    vars: {},
    varsFiles: {},
    gatherFacts: false,
    anyErrorsFatal: false,
    tags: [],
    items,
    handlers: [],
    roles: [],
    baseDir: "/nonexistent",
    ...extra,
  };
}

export interface RunResult {
  summary: RunSummary;
  events: RunEvent[];
  world: FakeWorld;
  /** host-task-result events by task name (and host). */
  results(host: string): Array<{ name: string; status: string; data?: Record<string, unknown>; msg?: string; result: import("../../../scripts/lib/run/events.ts").TaskResult }>;
}

export async function run(plays: Play[] | Play, opts: Partial<RunOptions> & { hosts?: string[]; world?: FakeWorld } = {}): Promise<RunResult> {
  const world = opts.world ?? newWorld();
  const events: RunEvent[] = [];
  const pb: Playbook = { file: "/nonexistent/play.yml", plays: Array.isArray(plays) ? plays : [plays] };
  const options: RunOptions = {
    inventory: opts.inventory ?? inventory(opts.hosts ?? ["h1", "h2"]),
    check: false,
    diff: false,
    forks: 50,
    tags: { only: [], skip: [] },
    extraVars: {},
    connection: {},
    verbosity: 0,
    sink: (e) => events.push(e),
    loadIncludedTasks: () => [],
    loadIncludedRole: () => [],
    createTransport: (host) => new FakeTransport(host, world),
    gatherFacts: async (runCmd) => {
      await runCmd("facts");
      return { hostname: "fake", architecture: "aarch64" };
    },
    ...opts,
  };
  const summary = await runPlaybook(pb, options);
  return {
    summary,
    events,
    world,
    results: (host) =>
      events.flatMap((e) => (e.type === "host-task-result" && e.host === host ? [{ name: e.task.name ?? e.task.module, status: e.result.status, data: e.result.data, msg: e.result.msg, result: e.result }] : [])),
  };
}
