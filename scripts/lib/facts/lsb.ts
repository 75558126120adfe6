/**
 * lsb as Ansible's {id, description, release, codename, major_release}: /etc/lsb-release where
 * it exists (Ubuntu), else the same values from os-release (what lsb_release prints on Debian
 * and Raspberry Pi OS), without running the lsb_release script.
 */
import { keyValues, type Fact } from "./types.ts";

export const lsbFact: Fact = {
  name: "lsb",
  command: "cat /etc/lsb-release || cat /etc/os-release",
  parse(output) {
    const kv = keyValues(output, /=/);
    const value = (key: string) => (kv.get(key) ?? "").replace(/^"(.*)"$/, "$1").replace(/^'(.*)'$/, "$1");
    const fromFile = kv.has("DISTRIB_ID");
    const id = fromFile ? value("DISTRIB_ID") : value("ID");
    if (!id) return { lsb: {} };
    const release = fromFile ? value("DISTRIB_RELEASE") : value("VERSION_ID");
    return {
      lsb: {
        id: fromFile ? id : id[0].toUpperCase() + id.slice(1),
        description: fromFile ? value("DISTRIB_DESCRIPTION") : value("PRETTY_NAME"),
        release,
        codename: fromFile ? value("DISTRIB_CODENAME") : value("VERSION_CODENAME"),
        major_release: release.split(".")[0],
      },
    };
  },
};
