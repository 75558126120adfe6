/** Running a command on a node with the plain `ssh` client and the lab key (checks and tests). */
import { run, type CommandResult } from "./exec.ts";

/** The ssh argv for `command` on `address` as root, host keys checked against the lab's file. */
export function sshArgv(opts: { keyFile: string; knownHostsFile: string; address: string; connectTimeout?: number }, command: string): string[] {
  return [
    "ssh",
    "-i", opts.keyFile,
    "-o", `UserKnownHostsFile=${opts.knownHostsFile}`,
    "-o", "StrictHostKeyChecking=yes",
    "-o", "IdentitiesOnly=yes",
    "-o", "BatchMode=yes",
    "-o", `ConnectTimeout=${opts.connectTimeout ?? 5}`,
    "-o", "LogLevel=ERROR",
    `root@${opts.address}`,
    "--",
    command,
  ];
}

/** Runs `command` on a node; never throws for a non-zero exit (rc 255 = ssh itself failed). */
export function sshRun(opts: { keyFile: string; knownHostsFile: string; address: string; connectTimeout?: number }, command: string): Promise<CommandResult> {
  return run(sshArgv(opts, command), { check: false });
}
