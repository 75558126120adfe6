/** set_fact: variables on the host, above task vars (cacheable is accepted and ignored). */
import { dropOmitted } from "../../template/templar.ts";
import { done } from "../outcome.ts";
import type { ControllerActionRunner } from "./types.ts";

export const setFact: ControllerActionRunner = async (tr) => {
  const { cacheable: _ignored, ...raw } = tr.task.args;
  const facts = dropOmitted(tr.templar.render(raw)) as Record<string, unknown>;
  const out = done(false, undefined, { ansible_facts: facts });
  out.hostVars = facts;
  return out;
};
