/** dns as Ansible's, from /etc/resolv.conf: nameservers, domain, search, sortlist, options (a flag is true). */
import { lines, type Fact } from "./types.ts";

export const dnsFact: Fact = {
  name: "dns",
  command: "cat /etc/resolv.conf",
  parse(output) {
    const dns: Record<string, unknown> = {};
    for (const line of lines(output)) {
      const [key, ...values] = line.replace(/[#;].*$/, "").trim().split(/\s+/);
      if (!key || values.length === 0) continue;
      if (key === "nameserver") ((dns.nameservers ??= []) as string[]).push(values[0]);
      else if (key === "domain") dns.domain = values[0];
      else if (key === "search" || key === "sortlist") dns[key] = values;
      else if (key === "options") {
        const options = (dns.options ??= {}) as Record<string, unknown>;
        for (const o of values) {
          const [k, v] = o.split(":");
          options[k] = v ?? true;
        }
      }
    }
    return { dns };
  },
};
