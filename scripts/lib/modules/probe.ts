/**
 * Reading remote state through a named probe (Probe in types.ts: a command and its parser
 * under a name): readProbe(ctx, PROBE, input). The name lets the module fixtures answer a
 * probe with its parsed state instead of scripting the command's text
 * (test/unit/modules/fixtures.test.ts); test/e2e/probes.test.ts runs every probe of
 * ALL_PROBES (probes.ts) on a real shell, so a command and its parser cannot drift apart.
 */
import type { ModuleContext, Probe, RunOptions } from "./types.ts";

export type { Probe } from "./types.ts";

/** Runs a probe in one round trip and parses its output (or takes the context's own answer). */
export async function readProbe<Input, State>(ctx: ModuleContext, probe: Probe<Input, State>, input: Input, options?: RunOptions): Promise<State> {
  const command = probe.command(input);
  if (ctx.answerProbe) {
    const answer = await ctx.answerProbe(probe, input, command, options);
    if (answer !== undefined) return answer.state as State;
  }
  return probe.parse(await ctx.run(command, options), input);
}
