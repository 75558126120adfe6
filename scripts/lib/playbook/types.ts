/**
 * A playbook after loading: plain data the executor walks. The loader resolves roles,
 * static imports and module names; dynamic includes (include_tasks/include_role) stay as
 * tasks the executor expands per host at run time through `loadIncludedTasks`.
 */
import type { SourcePosition } from "../errors.ts";
import type { ControllerActionName } from "./actions.ts";

/**
 * A yes/no keyword as written: a boolean, or a template (`"{{ ansible_check_mode }}"`) the
 * executor renders per host when the task runs, as Ansible templates keywords.
 */
export type BoolKeyword = boolean | string;

/** Keywords shared by tasks and blocks (and inherited from blocks/roles/plays into tasks). */
export interface TaskKeywords {
  name?: string;
  /** Conditions, all must hold (Jinja2 expressions without braces, or booleans). */
  when?: Array<string | boolean>;
  tags: string[];
  /**
   * Names of the roles around (and of an include_role's role): `--tags ntp` selects the ntp
   * role, a convenience of this runner. Never listed: Ansible gives a role's tasks no tags.
   */
  roleTags?: string[];
  become?: BoolKeyword;
  becomeUser?: string;
  /** Per-item or block-level variables (task vars). */
  vars?: Record<string, unknown>;
  environment?: Record<string, unknown>;
  ignoreErrors?: BoolKeyword;
  noLog?: BoolKeyword;
  runOnce?: BoolKeyword;
  delegateTo?: string;
  checkMode?: BoolKeyword;
  diff?: BoolKeyword;
  anyErrorsFatal?: BoolKeyword;
}

export interface RoleContext {
  name: string;
  /** Absolute path of roles/<name>. */
  path: string;
  /** defaults/main.yml (lowest precedence). */
  defaults: Record<string, unknown>;
  /** vars/main.yml (above play vars). */
  vars: Record<string, unknown>;
}

export interface Task extends TaskKeywords {
  kind: "task";
  /** Canonical module name ("copy", "include_tasks", "meta", ...). */
  module: string;
  /** Set when the module is a controller action (playbook/actions.ts): its canonical name, resolved once by the loader. */
  action?: ControllerActionName;
  /** Arguments as written (templated later, per host and loop item). */
  args: Record<string, unknown>;
  where: SourcePosition;
  loop?: unknown;
  loopControl?: { loopVar?: string; indexVar?: string; label?: string; pause?: number; extended?: boolean };
  register?: string;
  notify?: string[];
  /** Handlers only: topics this handler also answers to. */
  listen?: string[];
  changedWhen?: Array<string | boolean>;
  failedWhen?: Array<string | boolean>;
  until?: Array<string | boolean>;
  retries?: number;
  delay?: number;
  role?: RoleContext;
  /** Directory to resolve relative files against when there is no role (the playbook's). */
  baseDir: string;
  /**
   * The loop was written as a `with_*` lookup (the loader turned it into `loop`): for
   * "with_items" the executor flattens the rendered list one level, for "with_fileglob" it
   * expands the rendered patterns on the controller (role files/, then baseDir/files, then
   * baseDir), for "with_first_found" it runs the first_found lookup on the rendered terms (role
   * templates/ for template tasks, vars/ for include_vars, else files/, as Ansible's `_subdir`),
   * for "with_subelements" the subelements lookup on the rendered terms.
   * Literal with_items/with_dict lists are converted at load time already.
   */
  loopFrom?: "with_items" | "with_list" | "with_dict" | "with_fileglob" | "with_first_found" | "with_subelements";
  /** Added by the loader, not written by the user (the flush_handlers between play sections). */
  implicit?: boolean;
  ignoreUnreachable?: BoolKeyword;
}

export interface Block extends TaskKeywords {
  kind: "block";
  block: Item[];
  rescue: Item[];
  always: Item[];
  where: SourcePosition;
  role?: RoleContext;
  /** Why the loader made this block: a role of the play, a static import, or written `block:`. */
  origin?: "block" | "role" | "import_tasks" | "import_role" | "include_role" | "included";
  /**
   * Handlers that come with this block: set on role blocks loaded at run time (include_role
   * through loadIncludedRole); the executor adds them to the play's handlers.
   * Roles loaded with the play put their handlers in Play.handlers instead.
   */
  handlers?: Task[];
  /** Handlers notified when any task of the block changes (Ansible allows notify on blocks). */
  notify?: string[];
}

export type Item = Task | Block;

/** One vars_prompt entry of a play. */
export interface VarsPrompt {
  name: string;
  prompt: string;
  private: boolean;
  default?: unknown;
  confirm: boolean;
  where: SourcePosition;
}

export interface Play {
  name: string;
  /** Host pattern as written (may contain a template). */
  hosts: string;
  where: SourcePosition;
  vars: Record<string, unknown>;
  /** vars_files already loaded, in order (later wins). */
  varsFiles: Record<string, unknown>;
  /** vars_prompt entries; scripts/lib/cli/vars-prompt.ts asks them and sets play vars. */
  varsPrompt?: VarsPrompt[];
  become?: boolean;
  becomeUser?: string;
  gatherFacts: boolean;
  /** serial as written: numbers or "30%" strings, a list means batches growing. */
  serial?: Array<number | string>;
  anyErrorsFatal: boolean;
  maxFailPercentage?: number;
  connection?: "ssh" | "local";
  checkMode?: boolean;
  tags: string[];
  /** pre_tasks, roles, tasks, post_tasks in order, each role's tasks wrapped in a Block. */
  items: Item[];
  handlers: Task[];
  /** remote_user: the SSH user for this play (wins over -u; ansible_user from the inventory wins over it, as Ansible). */
  remoteUser?: string;
  /** The roles of the play (for role defaults/vars layering). */
  roles: RoleContext[];
  baseDir: string;
}

export interface Playbook {
  file: string;
  plays: Play[];
}
