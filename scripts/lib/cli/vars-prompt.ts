/**
 * vars_prompt: each play's questions, asked on the terminal before the run starts (not when the
 * play starts: the live view then owns the terminal). As Ansible: a variable given with -e is
 * not asked; an empty answer takes the default; private answers are not echoed and are masked
 * in all output. Without a terminal the default is used, or the variable stays unset (the
 * playbook decides what that means; reset.yml refuses, naming -e).
 */
import { UserError } from "../errors.ts";
import type { Playbook } from "../playbook/types.ts";

export interface PromptTerminal {
  isTTY: boolean;
  readLine(prompt: string): Promise<string>;
  readSecretLine(prompt: string): Promise<string>;
  /** Registers an answer as a secret (masked wherever it would be printed). */
  registerSecret(value: string): void;
}

/** Asks every vars_prompt of the playbooks and sets the answers as play variables. */
export async function askVarsPrompts(playbooks: Playbook[], extraVars: Record<string, unknown>, terminal: PromptTerminal): Promise<void> {
  for (const play of playbooks.flatMap((pb) => pb.plays)) {
    for (const entry of play.varsPrompt ?? []) {
      if (entry.name in extraVars) continue;
      const hasDefault = entry.default !== undefined && entry.default !== null;
      if (!terminal.isTTY) {
        if (hasDefault) play.vars[entry.name] = entry.default;
        continue;
      }
      const question = `${entry.prompt}${hasDefault && !entry.private ? ` [${String(entry.default)}]` : ""}: `;
      const read = (q: string) => (entry.private ? terminal.readSecretLine(q) : terminal.readLine(q));
      const answer = await read(question);
      if (entry.confirm && answer !== (await read(`confirm ${question}`))) {
        throw new UserError(`The two answers to "${entry.prompt}" (${entry.name}) differ`, { where: entry.where, hint: "Run again and type the same value twice." });
      }
      if (answer === "" && hasDefault) play.vars[entry.name] = entry.default;
      else {
        if (entry.private && answer !== "") terminal.registerSecret(answer);
        play.vars[entry.name] = answer;
      }
    }
  }
}
