/** Host, group and variable names an edit may write: plain names only, never something that reads as YAML or a pattern. */
import { UsageError } from "../cli/args.ts";

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?|[0-9a-fA-F:]+:[0-9a-fA-F:.]*)$/;
const GROUP = /^[A-Za-z_][A-Za-z0-9_]*$/;
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function checkHostName(name: string): string {
  if (!HOST.test(name)) throw new UsageError(`Invalid host name "${name}"`, "Use letters, digits, dots and dashes (a hostname or an address), e.g. pi-5.");
  return name;
}

export function checkGroupName(name: string): string {
  if (!GROUP.test(name)) throw new UsageError(`Invalid group name "${name}"`, "Use letters, digits and underscores, starting with a letter (Ansible rejects dashes in group names by default), e.g. new_workers.");
  return name;
}

export function checkVariableName(name: string): string {
  if (!VARIABLE.test(name)) throw new UsageError(`Invalid variable name "${name}"`, "Variable names are letters, digits and underscores, not starting with a digit.");
  return name;
}
