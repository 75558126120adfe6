/**
 * Yes/no keywords written as templates (`ignore_errors: "{{ ansible_check_mode }}"`), rendered
 * for one host when its task runs, as Ansible templates keywords before it runs a task.
 */
import { UserError, type SourcePosition } from "../errors.ts";
import { toBool } from "../playbook/task.ts";
import type { BoolKeyword } from "../playbook/types.ts";
import type { Templar } from "../template/templar.ts";
import { plainValue } from "../shell/secret.ts";

/** The keyword's value for this host: a boolean as written, or its template rendered. */
export function keywordBool(value: BoolKeyword | undefined, key: string, templar: () => Templar, where: SourcePosition): boolean | undefined {
  if (typeof value !== "string") return value;
  const rendered = plainValue(templar().render(value));
  if (typeof rendered === "string" && rendered.includes("{{")) {
    throw new UserError(`"${key}: ${value}" rendered to ${JSON.stringify(rendered)}, which is not yes or no`, { where });
  }
  return toBool(typeof rendered === "string" ? rendered.trim() : rendered, key, where);
}
