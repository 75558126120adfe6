/**
 * python and python_version as Ansible's, from `python3 --version` (no interpreter start-up
 * with imports): executable, version {major, minor, micro, releaselevel, serial}, version_info.
 */
import { lines, type Fact } from "./types.ts";

const LEVELS: Record<string, string> = { a: "alpha", b: "beta", rc: "candidate" };

export const pythonFact: Fact = {
  name: "python",
  command: "command -v python3 && python3 --version",
  parse(output) {
    const [executable, versionLine] = lines(output);
    const m = /^Python (\d+)\.(\d+)\.(\d+)(?:(a|b|rc)(\d+))?/.exec(versionLine ?? "");
    if (!executable || !m) return { python: {} };
    const [major, minor, micro] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const releaselevel = m[4] ? LEVELS[m[4]] : "final";
    const serial = m[5] ? Number(m[5]) : 0;
    return {
      python: { executable, type: "cpython", version: { major, minor, micro, releaselevel, serial }, version_info: [major, minor, micro, releaselevel, serial] },
      python_version: `${major}.${minor}.${micro}`,
    };
  },
};
