/**
 * gather_facts / setup: the facts of a host with ONE remote command, once per run (cached on
 * the host), exposed as ansible_facts and ansible_* top-level aliases.
 */
import { gatherFacts as gatherWithCommand } from "../../facts/gather.ts";
import { done } from "../outcome.ts";
import { invalidateBases } from "../vars.ts";
import type { ControllerActionRunner } from "./types.ts";

export const gatherFacts: ControllerActionRunner = async (tr) => {
  const state = tr.hp.state;
  if (!state.facts) {
    const transport = await tr.transport();
    const gather = tr.ps.run.options.gatherFacts ?? gatherWithCommand;
    state.facts = await gather((command) => transport.exec(command));
    invalidateBases(tr.hp);
  }
  return done(false, undefined, { ansible_facts: state.facts });
};
