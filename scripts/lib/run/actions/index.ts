/** The controller-side actions by canonical name. */
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

const ACTIONS: Record<string, ControllerActionRunner> = {
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

/** The runner for a task's module name (short or ansible.builtin./ansible.legacy.), if it is a controller action. */
export function controllerAction(name: string): ControllerActionRunner | undefined {
  const short = name.replace(/^ansible\.(builtin|legacy)\./, "");
  return Object.hasOwn(ACTIONS, short) ? ACTIONS[short] : undefined;
}
