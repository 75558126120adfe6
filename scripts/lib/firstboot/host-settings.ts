/**
 * The first-boot settings of one inventory host, from the variables the roles already use
 * (so the card and the later playbook run agree): the user the runner logs in as
 * (`ansible_user`, else `base_os_admin_user`), its keys (`base_os_admin_ssh_keys`, else the
 * `.pub` beside `ansible_ssh_private_key_file`), the hostname (`base_os_hostname`, else the
 * inventory name), `base_os_timezone`, the static-ip role's `static_ip_*`; and a few of our
 * own for what only the first boot needs: `firstboot_wifi_ssid`, `firstboot_wifi_country`,
 * `firstboot_wifi_hidden`, `firstboot_keyboard`, `firstboot_locale`. Command-line flags win.
 * Role defaults come from the roles' defaults/main.yml; values are rendered as templates.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { homedir } from "node:os";
import { ExitCode, UserError, didYouMean } from "../errors.ts";
import { REPO_ROOT } from "../repo-root.ts";
import { Secret } from "../shell/secret.ts";
import { loadYamlFile } from "../yaml/load.ts";
import { Templar } from "../template/templar.ts";
import type { Inventory } from "../inventory/inventory.ts";
import { invalid, invalidKey, type CheckKind, type FirstbootSettings } from "./settings.ts";

/** Everything but the secrets (the password hash and the Wi-Fi key are added by the caller). */
export type HostSettings = Omit<FirstbootSettings, "passwordHash" | "wifi"> & {
  wifi?: { ssid: string; country: string; hidden: boolean };
};

export interface Overrides {
  authorizedKeyFiles: string[];
  timezone?: string;
  keyboard?: string;
  locale?: string;
  wifiSsid?: string;
  wifiCountry?: string;
  wifiHidden?: boolean;
}

function roleDefaults(role: string): Record<string, unknown> {
  const file = join(REPO_ROOT, "roles", role, "defaults", "main.yml");
  const data = existsSync(file) ? loadYamlFile(file) : {};
  return data && typeof data === "object" ? (data as Record<string, unknown>) : {};
}

export function hostSettings(inventory: Inventory, host: string, overrides: Overrides, cwd: string): HostSettings {
  const where = inventory.sources.length === 1 ? { file: inventory.sources[0] } : undefined;
  if (!inventory.hosts.includes(host)) {
    const guess = didYouMean(host, inventory.hosts);
    throw new UserError(`Host ${JSON.stringify(host)} is not in the inventory${guess ? `; did you mean ${JSON.stringify(guess)}?` : ""}`, {
      where,
      exitCode: ExitCode.badOptions,
      hint: `The inventory has ${inventory.hosts.length} host(s); add this one first (the card is prepared from its variables).`,
    });
  }
  const vars: Record<string, unknown> = {
    ...roleDefaults("base-os"),
    ...roleDefaults("static-ip"),
    ...inventory.hostVars(host),
    inventory_hostname: host,
    inventory_hostname_short: host.split(".")[0],
    group_names: inventory.groupNames(host),
    groups: inventory.groups,
  };
  const templar = new Templar(vars, { where: `host ${host}` });
  const bad = (message: string, hint?: string) => new UserError(`host ${host}: ${message}`, { where, exitCode: ExitCode.unreachableOrParse, hint });
  const value = (name: string): unknown => {
    const v = templar.render(vars[name]);
    return v instanceof Secret ? v.reveal() : v;
  };
  const text = (name: string): string => {
    const v = value(name);
    if (v === undefined || v === null) return "";
    if (typeof v !== "string" && typeof v !== "number") throw bad(`${name} must be a string, got ${JSON.stringify(v)}`);
    return String(v).trim();
  };
  const checked = (kind: CheckKind, v: string, from: string): string => {
    const problem = invalid(kind, v);
    if (problem) throw bad(`${from}: ${problem}`);
    return v;
  };
  const list = (name: string, separator: RegExp): string[] => {
    const v = value(name);
    if (v === undefined || v === null || v === "") return [];
    if (typeof v === "string") return v.split(separator).map((x) => x.trim()).filter(Boolean);
    if (!Array.isArray(v)) throw bad(`${name} must be a list, got ${JSON.stringify(v)}`);
    return v.map((x) => String(x).trim()).filter(Boolean);
  };

  const hostname = checked("hostname", text("base_os_hostname") || host, text("base_os_hostname") ? "base_os_hostname" : "the inventory name");
  const userVar = text("ansible_user") ? "ansible_user" : "base_os_admin_user";
  const user = text(userVar);
  if (!user) throw bad("no user to create: set ansible_user (the user the runner logs in as) or base_os_admin_user");
  checked("user", user, userVar);
  if (user === "root") throw bad(`${userVar} is root: the first boot creates an ordinary user (the runner becomes root with sudo)`);

  const keys = authorizedKeys(overrides.authorizedKeyFiles, list("base_os_admin_ssh_keys", /\n/), text("ansible_ssh_private_key_file") || text("ansible_private_key_file"), cwd, bad);

  const timezone = overrides.timezone ?? text("base_os_timezone");
  const keyboard = overrides.keyboard ?? text("firstboot_keyboard");
  const locale = overrides.locale ?? text("firstboot_locale");
  const ssid = overrides.wifiSsid ?? text("firstboot_wifi_ssid");
  const country = (overrides.wifiCountry ?? text("firstboot_wifi_country")).toUpperCase();
  const settings: HostSettings = {
    hostname,
    user,
    authorizedKeys: keys,
    ...(timezone ? { timezone: checked("timezone", timezone, overrides.timezone ? "--timezone" : "base_os_timezone") } : {}),
    ...(keyboard ? { keyboard: checked("keyboard", keyboard, overrides.keyboard ? "--keyboard" : "firstboot_keyboard") } : {}),
    ...(locale ? { locale: checked("locale", locale, overrides.locale ? "--locale" : "firstboot_locale") } : {}),
  };
  if (ssid) {
    if (!country) throw bad("Wi-Fi needs a country (Raspberry Pi OS keeps Wi-Fi blocked until it has one): set firstboot_wifi_country or --wifi-country");
    settings.wifi = {
      ssid: checked("ssid", ssid, "firstboot_wifi_ssid"),
      country: checked("country", country, "firstboot_wifi_country"),
      hidden: overrides.wifiHidden ?? value("firstboot_wifi_hidden") === true,
    };
  }
  const address = text("static_ip_address");
  if (address) {
    const gateway = text("static_ip_gateway");
    settings.staticIp = {
      interface: checked("interface", text("static_ip_interface") || "eth0", "static_ip_interface"),
      address: checked("address", address, "static_ip_address"),
      gateway: gateway ? checked("ip", gateway, "static_ip_gateway") : "",
      dns: list("static_ip_dns", /[\s,]+/).map((d) => checked("ip", d, "static_ip_dns")),
    };
  }
  return settings;
}

function authorizedKeys(files: string[], fromVars: string[], privateKey: string, cwd: string, bad: (m: string, h?: string) => UserError): string[] {
  const expand = (p: string) => resolve(cwd, p.replace(/^~(?=\/|$)/, homedir()));
  let keys: string[];
  if (files.length > 0) {
    keys = files.flatMap((f) => {
      const path = expand(f);
      if (!existsSync(path)) throw new UserError(`--authorized-key: ${JSON.stringify(f)} does not exist`, { exitCode: ExitCode.badOptions });
      return readFileSync(path, "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
    });
  } else if (fromVars.length > 0) {
    keys = fromVars;
  } else if (privateKey && existsSync(`${expand(privateKey)}.pub`)) {
    keys = [readFileSync(`${expand(privateKey)}.pub`, "utf8").trim()];
  } else {
    throw bad("no SSH key to authorize: set base_os_admin_ssh_keys, or pass --authorized-key ~/.ssh/id_ed25519.pub", "Without a key the runner could not log in after the first boot.");
  }
  for (const k of keys) {
    const problem = invalidKey(k);
    if (problem) throw bad(problem);
  }
  return keys.map((k) => k.trim().split(/\s+/).join(" "));
}
