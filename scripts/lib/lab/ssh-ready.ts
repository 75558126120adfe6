/** Waiting for a node's sshd: a TCP connect that receives the "SSH-2.0" banner. */
import { connect } from "node:net";
import { sleep } from "./exec.ts";

/** True when sshd at host:22 sends its banner within `timeoutMs`. */
export function sshBanner(host: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port: 22 });
    let data = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on("data", (d) => {
      data += d.toString("latin1");
      if (data.startsWith("SSH-")) done(true);
    });
    socket.on("error", () => done(false));
    socket.on("close", () => done(data.startsWith("SSH-")));
  });
}

/** Polls until sshd answers; false after `timeoutMs` or as soon as `running()` says false. */
export async function waitForSsh(host: string, timeoutMs: number, running: () => boolean = () => true): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && running()) {
    if (await sshBanner(host)) return true;
    await sleep(250);
  }
  return false;
}
