/**
 * gather_facts / setup: the facts of a host with ONE remote command, exposed as ansible_facts and
 * ansible_* top-level aliases. The plays' implicit gathering runs once per run (cached on the
 * host: a no-op re-run pays one command per host); a task that asks for them explicitly
 * (`setup`, `gather_facts`) gathers again, as in Ansible, so a role can see what an earlier
 * task changed (a disk just mounted).
 */
import { gatherFacts as gatherWithCommand } from "../../facts/gather.ts";
import { done } from "../outcome.ts";
import { invalidateBases } from "../vars.ts";
import type { ControllerActionRunner } from "./types.ts";

export const gatherFacts: ControllerActionRunner = async (tr) => {
  const state = tr.hp.state;
  if (!state.facts || !tr.task.implicit) {
    const transport = await tr.transport();
    const gather = tr.ps.run.options.gatherFacts ?? gatherWithCommand;
    state.facts = await gather((command) => transport.exec(command));
    // Newly gathered facts win over older ones a module returned under the same name, as in Ansible's merge.
    for (const k of Object.keys(state.moduleFacts ?? {})) if ((k.startsWith("ansible_") ? k.slice(8) : k) in state.facts) delete state.moduleFacts![k];
    invalidateBases(tr.hp);
  }
  return done(false, undefined, { ansible_facts: state.facts });
};
