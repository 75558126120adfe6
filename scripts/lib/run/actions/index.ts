/**
 * The runner of every controller action, by the canonical name the loader resolved
 * (Task.action). Typed by ControllerActionName: every action of playbook/actions.ts has exactly
 * one runner here.
 */
import type { ControllerActionName } from "../../playbook/actions.ts";
import type { ControllerActionRunner } from "./types.ts";
import { setFact } from "./set-fact.ts";
import { debug } from "./debug.ts";
import { assertAction } from "./assert.ts";
import { fail } from "./fail.ts";
import { meta } from "./meta.ts";
import { includeVars } from "./include-vars.ts";
import { pause } from "./pause.ts";
import { includeTasks } from "./include-tasks.ts";
import { includeRole } from "./include-role.ts";
import { waitForConnection } from "./wait-for-connection.ts";
import { gatherFacts } from "./gather-facts.ts";
import { addHost } from "./add-host.ts";
import { groupBy } from "./group-by.ts";
import { doctor } from "./doctor.ts";

export const CONTROLLER_ACTION_RUNNERS: Record<ControllerActionName, ControllerActionRunner> = {
  set_fact: setFact,
  debug,
  assert: assertAction,
  fail,
  meta,
  include_vars: includeVars,
  pause,
  include_tasks: includeTasks,
  import_tasks: includeTasks,
  include_role: includeRole,
  import_role: includeRole,
  wait_for_connection: waitForConnection,
  gather_facts: gatherFacts,
  setup: gatherFacts,
  add_host: addHost,
  group_by: groupBy,
  doctor,
};
