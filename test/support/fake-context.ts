/**
 * A ModuleContext for unit tests: a named probe (modules/probe.ts) is answered with the
 * parsed state given for its name, any other command from a scripted list of responses;
 * every command is recorded, and an unanswered one throws (failing the test) with the
 * command printed. Controller files (for copy/template src) live in a temp dir made from a map.
 */
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import nunjucks from "nunjucks";
import type { ModuleContext, Probe, RunOptions } from "../../scripts/lib/modules/types.ts";
import type { ExecResult } from "../../scripts/lib/transport/types.ts";
import { UserError } from "../../scripts/lib/errors.ts";
import { EXPAND_STATE } from "./probe-states.ts";

export interface ScriptedResponse {
  /** A substring of the command, or "/regex/flags". */
  match: string;
  rc?: number;
  stdout?: string;
  stderr?: string;
  /** Answer only once (default: answers any number of times, but unused ones are preferred). */
  once?: boolean;
}

export interface IssuedCommand {
  command: string;
  stdin?: string | Uint8Array;
  options?: RunOptions;
}

export interface FakeContextOptions {
  host?: string;
  check?: boolean;
  diff?: boolean;
  vars?: Record<string, unknown>;
  responses?: ScriptedResponse[];
  /**
   * Named probes' answers: probe name -> its state as probe-states.ts expands it, or
   * {"$result": {"rc": 1, "stderr": "..."}} for what the command returned (then parsed).
   */
  state?: Record<string, unknown>;
  /** Controller files: relative path (e.g. "roles/x/files/a") -> content ("base64:..." for bytes). */
  files?: Record<string, string>;
}

/**
 * Turns "/re/flags" into a RegExp; anything else matches as a substring. Only the flags
 * d g i m s u y count, so a path like "/tmp/x in /opt" stays literal text.
 */
export function matcher(pattern: string): (text: string) => boolean {
  const m = /^\/(.*)\/([dgimsuy]*)$/s.exec(pattern);
  if (m) {
    const re = new RegExp(m[1], m[2]);
    return (text) => re.test(text);
  }
  return (text) => text.includes(pattern);
}

export class FakeContext implements ModuleContext {
  readonly host: string;
  readonly check: boolean;
  readonly diff: boolean;
  readonly vars: Record<string, unknown>;
  /** Every command run, in order. */
  readonly commands: IssuedCommand[] = [];
  readonly warnings: string[] = [];
  readonly reconnects: Array<{ address?: string; timeoutMs?: number } | undefined> = [];
  /** The temp dir holding the controller files (removed by cleanup()). */
  readonly root: string;
  private readonly fileNames: string[];
  private readonly responses: Array<ScriptedResponse & { used: number; test: (s: string) => boolean }>;
  private readonly state: Record<string, unknown>;

  constructor(options: FakeContextOptions = {}) {
    this.host = options.host ?? "testhost";
    this.check = options.check ?? false;
    this.diff = options.diff ?? true;
    this.vars = { inventory_hostname: this.host, ...(options.vars ?? {}) };
    this.responses = (options.responses ?? []).map((r) => ({ ...r, used: 0, test: matcher(r.match) }));
    this.state = options.state ?? {};
    const unknown = Object.keys(this.state).filter((name) => !EXPAND_STATE[name]);
    if (unknown.length > 0) throw new Error(`FakeContext: no probe named ${unknown.join(", ")} (known: ${Object.keys(EXPAND_STATE).join(", ")})`);
    this.root = mkdtempSync(join(tmpdir(), "fake-ctx-"));
    this.fileNames = Object.keys(options.files ?? {});
    for (const [path, content] of Object.entries(options.files ?? {})) {
      const full = join(this.root, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content.startsWith("base64:") ? Buffer.from(content.slice(7), "base64") : content);
    }
  }

  async run(command: string, options?: RunOptions): Promise<ExecResult> {
    this.commands.push({ command, stdin: options?.stdin, options });
    const candidates = this.responses.filter((r) => r.test(command) && !(r.once && r.used > 0));
    // Prefer a response not used yet, so a list can script "first probe, then second probe".
    const response = candidates.find((r) => r.used === 0) ?? candidates[candidates.length - 1];
    if (!response) {
      throw new Error(`FakeContext: no scripted response matches this command:\n${command}\n`);
    }
    response.used++;
    return { rc: response.rc ?? 0, stdout: response.stdout ?? "", stderr: response.stderr ?? "" };
  }

  /** A named probe is answered from `state` only, never by its command's wording. */
  async answerProbe(probe: Probe<unknown, unknown>, input: unknown, command: string, options?: RunOptions): Promise<{ state: unknown }> {
    this.commands.push({ command, stdin: options?.stdin, options });
    if (!(probe.name in this.state)) {
      throw new Error(`FakeContext: the case gives no state for the probe "${probe.name}", which ran:\n${command}\n`);
    }
    const given = this.state[probe.name] as { $result?: Partial<ExecResult> };
    if (given && typeof given === "object" && given.$result) return { state: probe.parse({ rc: 0, stdout: "", stderr: "", ...given.$result }, input) };
    return { state: EXPAND_STATE[probe.name](given, input) };
  }

  findFile(kind: "files" | "templates" | "vars", path: string): string {
    const candidates = [
      path,
      join(kind, path),
      ...this.listFiles().filter((f) => f.endsWith(`/${kind}/${path}`)),
    ];
    for (const c of candidates) {
      const full = join(this.root, c);
      if (existsSync(full)) return full;
    }
    throw new UserError(`Could not find ${path} in ${kind}/`, { hint: `searched ${candidates.join(", ")}` });
  }

  renderTemplate(text: string, _sourceName: string): string {
    const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
    return env.renderString(text, { ...this.vars });
  }

  async reconnect(options?: { address?: string; timeoutMs?: number }): Promise<void> {
    this.reconnects.push(options);
  }

  warn(message: string): void {
    this.warnings.push(message);
  }

  /** Removes the controller-file temp dir. */
  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }

  private listFiles(): string[] {
    return this.fileNames;
  }
}
