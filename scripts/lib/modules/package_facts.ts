/**
 * ansible.builtin.package_facts: the installed packages as ansible_facts.packages, name -> list
 * of { name, version, arch, category, source: "apt" } (a list: a name may be installed for
 * several architectures). Read from dpkg's database with dpkg-query, which is what apt reports
 * as installed; `origin` (the archive a version came from, which Ansible reads through
 * python3-apt) is not given. Read-only; one round trip.
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { requireSuccess, schemaHeader, listArg } from "./support/system.ts";

interface PackageFactsArgs {
  manager: string | string[];
  strategy: "first" | "all";
}

export interface PackageFact {
  name: string;
  version: string;
  arch: string;
  category: string;
  source: "apt";
}

const MANAGERS = ["auto", "apt", "rpm", "yum", "dnf", "dnf5", "zypper", "portage", "pkg", "pacman", "apk", "pkg_info"];

const PROBE = "LC_ALL=C dpkg-query -W -f '${db:Status-Abbrev}\\t${binary:Package}\\t${Version}\\t${Architecture}\\t${Section}\\n'";

/** dpkg-query lines "<status>\t<name>\t<version>\t<arch>\t<section>": the installed ones. */
export function parseDpkgQuery(text: string): Record<string, PackageFact[]> {
  const packages: Record<string, PackageFact[]> = {};
  for (const line of text.split("\n")) {
    const [status, qualified, version, arch, category = ""] = line.split("\t");
    // Installed means dpkg has a current version: not "n" (not installed) nor "c" (config files only).
    if (!status || !version || "nc".includes(status[1] ?? "n")) continue;
    // Ansible (python-apt) keys a package by its name without the ":arch" dpkg adds to foreign ones.
    const name = qualified.replace(/:[^:]+$/, "");
    (packages[name] ??= []).push({ name, version, arch, category, source: "apt" });
  }
  return packages;
}

export const packageFacts: ModuleDefinition<PackageFactsArgs> = {
  name: "package_facts",
  aliases: [],
  schema: {
    ...schemaHeader("package_facts", "Returns the installed packages as ansible_facts.packages."),
    properties: {
      manager: {
        type: ["string", "array"],
        items: { type: "string", enum: MANAGERS },
        default: ["auto"],
        description: "Package managers to ask; this runner reads apt (dpkg), which auto picks on Debian and Raspberry Pi OS.",
      },
      strategy: { type: "string", enum: ["first", "all"], default: "first", description: "Stop at the first manager found, or ask all." },
    },
  },
  async plan(args, ctx) {
    const managers = listArg(args.manager);
    const unknown = managers.filter((m) => !MANAGERS.includes(m));
    if (unknown.length) throw new ModuleFailure(`package_facts: manager "${unknown[0]}" is not a package manager Ansible knows (allowed: ${MANAGERS.join(", ")})`);
    if (!managers.some((m) => m === "auto" || m === "apt")) {
      throw new ModuleFailure(`package_facts: manager ${managers.map((m) => `"${m}"`).join(", ")} is not supported by this runner; it reads apt (dpkg) packages: use manager: auto or apt`);
    }
    const r = await ctx.run(PROBE, { become: false });
    if (r.rc === 127) throw new ModuleFailure("package_facts: dpkg-query was not found on this host; this runner reads only apt (dpkg) packages", { rc: r.rc });
    const packages = parseDpkgQuery(requireSuccess(r, "Cannot list the installed packages").stdout);
    return { changed: false, reason: `${Object.keys(packages).length} packages`, result: { ansible_facts: { packages } } };
  },
};
