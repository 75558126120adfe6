/**
 * ansible.builtin.apt: packages present / absent / latest, cache refresh, a .deb from the
 * controller. ONE dpkg-query probe for every name (plus the cache age, plus candidates for
 * `latest`); the change is one apt-get run, non-interactive, keeping existing config files,
 * waiting up to 120 s for the dpkg lock.
 *
 * Deviation from Ansible, on purpose: when every package is already as wished, the cache is
 * not refreshed (Ansible refreshes it and reports ok anyway); `latest` compares against the
 * lists present on the target, which apply refreshes first when update_cache says so.
 */
import { basename } from "node:path";
import { readFileSync } from "node:fs";
import type { ModuleContext, ModuleDefinition, Plan } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { listArg, requireSuccess, schemaHeader, probeSection } from "./support/system.ts";
import { framedUpload, receiveToTemp } from "./support/upload.ts";
import { requireAptSuccess } from "./support/apt-errors.ts";
import { RULES, requireValues } from "./support/values.ts";

export interface AptArgs {
  name?: string | string[];
  state: "present" | "absent" | "latest" | "installed" | "removed" | "fixed";
  update_cache?: boolean;
  update_cache_retries?: number;
  cache_valid_time: number;
  install_recommends?: boolean;
  purge: boolean;
  autoremove: boolean;
  deb?: string;
  force_apt_get?: boolean;
  allow_downgrade?: boolean;
  dpkg_options: string;
  lock_timeout: number;
}

/** One wished package: "nginx", "nginx=1.22*". */
export interface WantedPackage {
  name: string;
  version?: string;
}

export interface InstalledPackage {
  installed: boolean;
  /** Only config files left (removed, not purged). */
  configFiles: boolean;
  version: string;
}

interface AptState {
  command: string;
  stdin?: Uint8Array;
  updateCache: boolean;
  packages: string[];
}

const schema = {
  ...schemaHeader("apt", "Manages apt packages (Debian, Raspberry Pi OS)."),
  properties: {
    name: { type: ["string", "array"], items: { type: "string" }, aliases: ["pkg", "package"], description: "Package name(s), optionally `name=version` (version may end with *)." },
    state: { type: "string", enum: ["present", "absent", "latest", "installed", "removed", "fixed"], default: "present" },
    update_cache: { type: "boolean", description: "Run apt-get update first (when older than cache_valid_time)." },
    update_cache_retries: { type: "integer", description: "Accepted for compatibility." },
    cache_valid_time: { type: "integer", minimum: 0, default: 0, description: "Seconds the cache counts as fresh." },
    install_recommends: { type: "boolean", description: "Install recommended packages (apt's default when unset)." },
    purge: { type: "boolean", default: false, description: "With state absent: remove config files too." },
    autoremove: { type: "boolean", default: false, description: "Remove packages no longer needed." },
    deb: { type: "string", description: "A .deb on the controller (role files/ or a path) to install." },
    force_apt_get: { type: "boolean", description: "Ignored (apt-get is always used)." },
    allow_downgrade: { type: "boolean", description: "Allow installing an older version." },
    dpkg_options: { type: "string", default: "force-confdef,force-confold", description: "Comma-separated dpkg options." },
    lock_timeout: { type: "integer", default: 120, description: "Seconds to wait for the dpkg lock." },
  },
  not: { required: ["name", "deb"] },
};

/** "nginx=1.22*" -> { name, version }. */
export function parseWanted(spec: string): WantedPackage {
  const eq = spec.indexOf("=");
  if (eq <= 0) return { name: spec.replace(/:[a-z0-9]+$/, "") };
  return { name: spec.slice(0, eq).replace(/:[a-z0-9]+$/, ""), version: spec.slice(eq + 1) };
}

/** Parses `dpkg-query -W -f='${Package}\t${Status}\t${Version}\n'`. Pure. */
export function parseDpkgQuery(stdout: string): Map<string, InstalledPackage> {
  const out = new Map<string, InstalledPackage>();
  for (const line of stdout.split("\n")) {
    const [name, status, version] = line.split("\t");
    if (!name || status === undefined) continue;
    const words = status.trim().split(/\s+/);
    const current = words[words.length - 1];
    out.set(name, { installed: current === "installed", configFiles: current === "config-files", version: version?.trim() ?? "" });
  }
  return out;
}

/** `apt-cache policy` -> package -> candidate version. Pure. */
export function parseCandidates(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  let current: string | undefined;
  for (const line of stdout.split("\n")) {
    const head = /^(\S+):$/.exec(line);
    if (head) current = head[1];
    const cand = /^\s+Candidate:\s*(\S+)/.exec(line);
    if (cand && current && cand[1] !== "(none)") out.set(current, cand[1]);
  }
  return out;
}

/** Does an installed version match a wished one (Ansible: fnmatch, `1.2*`)? */
export function versionMatches(installed: string, wanted: string): boolean {
  const re = new RegExp(`^${wanted.replace(/[.+^${}()|[\]\\?]/g, "\\$&").replace(/\*/g, ".*")}$`);
  return re.test(installed);
}

/** The apt-get command; `operands` (package names, already shell words) follow a `--`. */
function aptGetCommand(args: AptArgs, verb: string, operands: string): string {
  const options = [
    "-y",
    "-q",
    `-o DPkg::Lock::Timeout=${Math.floor(args.lock_timeout)}`,
    ...listArg(args.dpkg_options).map((o) => sh`-o Dpkg::Options::=${`--${o.replace(/^--/, "")}`}`),
  ];
  if (args.install_recommends === false) options.push("--no-install-recommends");
  if (args.install_recommends === true) options.push("-o APT::Install-Recommends=true");
  if (args.allow_downgrade) options.push("--allow-downgrades");
  if (verb === "remove" && args.purge) options.push("--purge");
  if (args.autoremove) options.push("--auto-remove");
  return `DEBIAN_FRONTEND=noninteractive apt-get ${options.join(" ")} ${verb}${operands ? ` -- ${operands}` : ""}`;
}

const UPDATE = "DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120 update";

function cacheAgeScript(): string {
  // apt's own success stamp, else the lists directory (touched by every update).
  return "now=$(date +%s); m=$(stat -c %Y /var/lib/apt/periodic/update-success-stamp 2>/dev/null || stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0); echo \"cache_age=$((now - m))\"";
}

function cacheNeedsUpdate(args: AptArgs, stdout: string): boolean {
  if (!args.update_cache) return false;
  if (args.cache_valid_time <= 0) return true;
  const age = Number(/cache_age=(-?\d+)/.exec(stdout)?.[1] ?? "NaN");
  return !Number.isFinite(age) || age > args.cache_valid_time;
}

export const apt: ModuleDefinition<AptArgs, AptState> = {
  name: "apt",
  aliases: [],
  schema,
  async plan(args, ctx) {
    const specs = requireValues("apt", "name", listArg(args.name), RULES.debianPackage);
    requireValues("apt", "dpkg_options", listArg(args.dpkg_options), RULES.dpkgOption);
    const state = args.state === "installed" ? "present" : args.state === "removed" ? "absent" : args.state === "fixed" ? "present" : args.state;
    if (args.deb) return planDeb(args, ctx);
    const wanted = specs.map(parseWanted);
    const names = wanted.map((w) => w.name);
    if (names.length === 0 && !args.update_cache && !args.autoremove) {
      // An empty list (a role's empty package variable) is a no-op, as in Ansible.
      if (args.name !== undefined) return { changed: false, reason: "no packages given" };
      throw new ModuleFailure("apt needs name, deb, update_cache or autoremove");
    }
    const parts = [cacheAgeScript()];
    if (names.length) {
      parts.push("echo @@dpkg", sh`dpkg-query -W -f='\${Package}\t\${Status}\t\${Version}\n' -- ${names} 2>/dev/null; :`);
      if (state === "latest") parts.push("echo @@policy", sh`LC_ALL=C apt-cache policy -- ${names} 2>/dev/null; :`);
    }
    const r = requireSuccess(await ctx.run(parts.join("\n"), { become: false }), "Cannot query dpkg");
    const updateCache = cacheNeedsUpdate(args, r.stdout);
    const installed = parseDpkgQuery(probeSection(r.stdout, "dpkg"));
    const candidates = parseCandidates(probeSection(r.stdout, "policy"));

    let todo: string[] = [];
    let verb = "install";
    if (state === "absent") {
      verb = args.purge ? "purge" : "remove";
      // Want gone but have (or, with purge, config files left)?
      todo = names.filter((n) => installed.get(n)?.installed || (args.purge && installed.get(n)?.configFiles));
    } else {
      todo = wanted
        .filter((w) => {
          const have = installed.get(w.name);
          if (!have?.installed) return true;
          if (w.version) return !versionMatches(have.version, w.version);
          if (state === "latest") {
            const candidate = candidates.get(w.name);
            return candidate !== undefined && candidate !== have.version;
          }
          return false;
        })
        .map((w) => specs[wanted.indexOf(w)]);
    }
    const result = { cache_updated: false, packages: todo };
    if (todo.length === 0 && !args.autoremove) {
      if (names.length === 0) {
        return updateCache
          ? { changed: true, msg: "cache updated", state: { command: UPDATE, updateCache: true, packages: [] }, result: { cache_updated: true } }
          : { changed: false, reason: `cache is fresh (valid for ${args.cache_valid_time}s)`, result };
      }
      const how = state === "absent" ? "absent" : state === "latest" ? "at the candidate version" : "installed";
      return { changed: false, reason: `${names.length === 1 ? `${names[0]} is` : `all ${names.length} packages are`} ${how}`, result };
    }
    if (todo.length === 0 && args.autoremove) {
      // autoremove alone: ask apt whether anything would go (simulation is read-only).
      const sim = await ctx.run("LC_ALL=C apt-get -s autoremove 2>/dev/null | grep -c '^Remv' || :");
      const n = Number.parseInt(sim.stdout.trim(), 10) || 0;
      if (n === 0) return { changed: false, reason: names.length ? "packages as wished, nothing to autoremove" : "nothing to autoremove", result };
      return { changed: true, msg: `${n} packages autoremoved`, state: { command: aptGetCommand(args, "autoremove", ""), updateCache: false, packages: [] }, result };
    }
    const command = aptGetCommand({ ...args, purge: false }, verb, sh`${todo}`);
    const msg = state === "absent" ? `${todo.join(", ")} removed${args.purge ? " (purged)" : ""}` : `${todo.join(", ")} ${state === "latest" ? "installed or upgraded" : "installed"}`;
    return { changed: true, msg, state: { command, updateCache: updateCache && state !== "absent", packages: todo }, result: { ...result, cache_updated: updateCache } };
  },
  async apply(plan, args, ctx) {
    const s = plan.state!;
    if (s.updateCache) requireAptSuccess(await ctx.run(UPDATE, { timeoutMs: 15 * 60_000 }), "apt-get update", ctx.host, { update: true });
    if (s.command === UPDATE) return { msg: plan.msg };
    const r = requireAptSuccess(await ctx.run(s.command, { stdin: s.stdin, timeoutMs: 60 * 60_000 }), "apt-get", ctx.host);
    return { msg: plan.msg, result: { stdout: r.stdout, stderr: r.stderr } };
  },
};

/** deb: the package file travels on stdin; dpkg-deb reads its name/version; compare with dpkg. */
async function planDeb(args: AptArgs, ctx: ModuleContext): Promise<Plan<AptState>> {
  const local = ctx.findFile("files", args.deb!);
  const bytes = readFileSync(local);
  const probe = [
    receiveToTemp("mktemp --suffix=.deb"),
    `n=$(dpkg-deb -f "$t" Package) || exit 3; v=$(dpkg-deb -f "$t" Version)`,
    `echo "deb=$n $v"; dpkg-query -W -f='\${Status}\\t\${Version}\\n' "$n" 2>/dev/null || :`,
  ].join("\n");
  const r = requireSuccess(await ctx.run(probe, { stdin: framedUpload(bytes), become: false }), `Cannot read ${basename(local)} on the target`);
  const m = /^deb=(\S+) (\S+)$/m.exec(r.stdout);
  if (!m) throw new ModuleFailure(`${args.deb} is not a Debian package`);
  const [, name, version] = m;
  const status = /^(.*installed)\t(\S+)$/m.exec(r.stdout);
  if (status && /\binstalled$/.test(status[1]) && !/not-installed/.test(status[1]) && status[2] === version) {
    return { changed: false, reason: `${name} ${version} is installed`, result: { packages: [] } };
  }
  const command = [
    // The package lands whole before dpkg sees it (support/upload.ts).
    `${receiveToTemp("mktemp --suffix=.deb")}
chmod 0644 "$t"`,
    aptGetCommand(args, "install", '"$t"'),
  ].join("\n");
  return { changed: true, msg: `${name} ${version} installed from ${basename(local)}`, state: { command, stdin: framedUpload(bytes), updateCache: false, packages: [name] }, result: { packages: [name] } };
}
