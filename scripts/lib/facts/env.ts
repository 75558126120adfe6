/** env as Ansible's: the environment the login shell gives commands (NUL-separated, so values may hold newlines). */
import type { Fact } from "./types.ts";

export const envFact: Fact = {
  name: "env",
  // The newline keeps the next section marker on its own line.
  command: "env -0; echo",
  parse(output) {
    const env: Record<string, string> = {};
    for (const entry of output.replace(/\n$/, "").split("\0")) {
      const eq = entry.indexOf("=");
      if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    return { env };
  },
};
