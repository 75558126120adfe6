/**
 * The keywords a task, block, play or role entry may use. Anything else on a task is taken
 * for a module name (and rejected with "did you mean" when it is neither).
 */

/** Keywords shared by tasks and blocks. */
export const COMMON_KEYWORDS = [
  "name",
  "when",
  "tags",
  "become",
  "become_user",
  "become_method",
  "vars",
  "environment",
  "ignore_errors",
  "ignore_unreachable",
  "no_log",
  "run_once",
  "delegate_to",
  "check_mode",
  "diff",
  "any_errors_fatal",
  "collections",
] as const;

/** Loop lookups converted to `loop` (with_items flattens one level, as Ansible). */
export const WITH_LOOKUPS = ["with_items", "with_list", "with_dict", "with_fileglob", "with_first_found", "with_flattened", "with_indexed_items", "with_sequence", "with_together", "with_nested", "with_subelements", "with_random_choice", "with_lines"] as const;
export const SUPPORTED_WITH = new Set(["with_items", "with_list", "with_dict", "with_fileglob", "with_first_found", "with_subelements"]);

export const TASK_ONLY_KEYWORDS = [
  "action",
  "local_action",
  "args",
  "loop",
  "loop_control",
  "register",
  "notify",
  "listen",
  "changed_when",
  "failed_when",
  "until",
  "retries",
  "delay",
] as const;

export const TASK_KEYWORDS = new Set<string>([...COMMON_KEYWORDS, ...TASK_ONLY_KEYWORDS, ...WITH_LOOKUPS]);
export const BLOCK_KEYWORDS = new Set<string>([...COMMON_KEYWORDS, "block", "rescue", "always", "notify"]);

/** Ansible keywords this runner does not implement: a clear error instead of "unknown". */
export const UNSUPPORTED_KEYWORDS: Record<string, string> = {
  async: "async tasks are not supported; run the command in the background with shell instead",
  poll: "async tasks are not supported",
  throttle: "throttle is not supported; use serial on the play",
  timeout: "task timeouts are not supported",
  remote_user: "set ansible_user in the inventory or pass -u instead",
  port: "set ansible_port in the inventory instead",
  connection: "set connection on the play or ansible_connection in the inventory instead",
  become_flags: "become_flags is not supported",
  become_exe: "become_exe is not supported",
  delegate_facts: "delegate_facts is not supported",
  module_defaults: "module_defaults is not supported",
  debugger: "the task debugger is not supported",
  vars_prompt: "vars_prompt belongs to a play, not a task",
};

/** Keywords of a role entry in `roles:` (other keys are role variables, as Ansible). */
export const ROLE_ENTRY_KEYWORDS = new Set<string>(["role", "name", "vars", ...COMMON_KEYWORDS]);
