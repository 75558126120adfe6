/** A controller-side action (set_fact, debug, ...): runs on the controller, per host and item. */
import type { StepOutcome } from "../outcome.ts";
import type { TaskRun } from "../task-run.ts";

export type ControllerActionRunner = (tr: TaskRun) => Promise<StepOutcome>;
