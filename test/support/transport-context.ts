/**
 * A real ModuleContext over any Transport, for end-to-end module tests: commands go to the
 * target, controller files are looked up under `baseDir` (files/, templates/, or as given),
 * templates render with nunjucks and the given vars.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import nunjucks from "nunjucks";
import type { ModuleContext, RunOptions } from "../../scripts/lib/modules/types.ts";
import type { ExecResult, Transport } from "../../scripts/lib/transport/types.ts";
import { UserError } from "../../scripts/lib/errors.ts";

export interface TransportContextOptions {
  check?: boolean;
  diff?: boolean;
  vars?: Record<string, unknown>;
  /** Controller directory holding files/ and templates/. */
  baseDir: string;
}

export class TransportContext implements ModuleContext {
  readonly host: string;
  readonly check: boolean;
  readonly diff: boolean;
  readonly vars: Record<string, unknown>;
  readonly warnings: string[] = [];
  /** Number of commands run (round trips). */
  commandCount = 0;

  constructor(private readonly transport: Transport, private readonly options: TransportContextOptions) {
    this.host = transport.host;
    this.check = options.check ?? false;
    this.diff = options.diff ?? true;
    this.vars = { inventory_hostname: transport.host, ...(options.vars ?? {}) };
  }

  run(command: string, options: RunOptions = {}): Promise<ExecResult> {
    this.commandCount++;
    return this.transport.exec(command, { stdin: options.stdin, timeoutMs: options.timeoutMs, env: options.env });
  }

  findFile(kind: "files" | "templates" | "vars", path: string): string {
    const candidates = [join(this.options.baseDir, kind, path), join(this.options.baseDir, path)];
    const found = candidates.find((c) => existsSync(c));
    if (!found) throw new UserError(`Could not find ${path} in ${kind}/`, { hint: `searched ${candidates.join(", ")}` });
    return found;
  }

  renderTemplate(text: string): string {
    return new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true }).renderString(text, { ...this.vars });
  }

  reconnect(options?: { address?: string; timeoutMs?: number }): Promise<void> {
    return this.transport.reconnect(options);
  }

  warn(message: string): void {
    this.warnings.push(message);
  }
}
