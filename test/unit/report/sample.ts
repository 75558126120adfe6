/** A tiny fake run (events as the executor emits them) for report tests. */
import type { Play, Task } from "../../../scripts/lib/playbook/types.ts";
import type { RunEvent } from "../../../scripts/lib/run/events.ts";

export const cwd = "/repo";
const role = { name: "ntp", path: "/repo/roles/ntp", defaults: {}, vars: {} };

export const task: Task = {
  kind: "task",
  module: "copy",
  args: {},
  name: "Ensure NTP server is set",
  tags: ["ntp"],
  where: { file: "/repo/roles/ntp/tasks/main.yml", line: 3, col: 3 },
  baseDir: "/repo/playbooks",
  role,
};
export const loopTask: Task = { ...task, name: "Install packages", module: "apt", where: { file: "/repo/roles/ntp/tasks/main.yml", line: 9, col: 3 } };

export const play: Play = {
  name: "Configure the cluster",
  hosts: "pis",
  where: { file: "/repo/playbooks/site.yml", line: 1, col: 3 },
  vars: {},
  varsFiles: {},
  gatherFacts: false,
  anyErrorsFatal: false,
  tags: [],
  items: [task, loopTask],
  handlers: [],
  roles: [role],
  baseDir: "/repo/playbooks",
};

const zero = { ok: 0, changed: 0, failures: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 };

export const events: RunEvent[] = [
  { type: "play-start", play, hosts: ["pi-1", "pi-2"] },
  { type: "task-start", play, task, hosts: ["pi-1", "pi-2"], isHandler: false },
  { type: "host-task-result", host: "pi-1", task, isHandler: false, result: { status: "ok", msg: "drop-in present", durationMs: 5 } },
  {
    type: "host-task-result",
    host: "pi-2",
    task,
    isHandler: false,
    result: {
      status: "changed",
      msg: "file written",
      durationMs: 7,
      diff: [{ before: "server a\n", after: "server b\n", before_header: "/etc/ntp.conf", after_header: "/etc/ntp.conf" }],
      data: { dest: "/etc/ntp.conf" },
    },
  },
  { type: "task-start", play, task: loopTask, hosts: ["pi-1", "pi-2"], isHandler: false },
  {
    type: "host-task-result",
    host: "pi-1",
    task: loopTask,
    isHandler: false,
    result: {
      status: "changed",
      durationMs: 9,
      items: [
        { label: "vim", result: { status: "ok", msg: "installed", durationMs: 4 } },
        { label: "git", result: { status: "changed", msg: "git installed", durationMs: 5 } },
      ],
    },
  },
  { type: "host-task-result", host: "pi-2", task: loopTask, isHandler: false, result: { status: "failed", msg: "apt failed\nE: no space left", durationMs: 3 } },
  { type: "play-end", play },
  {
    type: "recap",
    stats: {
      "pi-2": { ...zero, ok: 1, changed: 1, failures: 1 },
      "pi-1": { ...zero, ok: 2, changed: 1 },
    },
  },
];
