/**
 * rpi_eeprom (ours): settings of a Raspberry Pi 4/5 bootloader (BOOT_ORDER, TFTP_PREFIX, ...),
 * e.g. to let a Pi that still boots from its SD card try the network. Reads the config with
 * `rpi-eeprom-config` (no arguments: read-only) and, when an update is already staged
 * (pieeprom.upd in the boot folder), the staged image's config, since that is what the next
 * reboot flashes. Only when a wanted value differs is a new config staged with
 * `rpi-eeprom-config --apply FILE`; the result says `reboot_required` (the EEPROM is written by
 * the bootloader at the next boot, never by this module). A host without rpi-eeprom-config is
 * skipped (not a Pi 4/5 with Raspberry Pi OS).
 *
 * Every value is checked against the bootloader's grammar (BOOT_ORDER: "0x" and up to 8 boot
 * modes 0-7, e, f) and goes into the config file sent on stdin, never into a command.
 */
import type { ModuleDefinition, Probe } from "./types.ts";
import { readProbe } from "./probe.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { contentDiff } from "./support/file-diff.ts";
import { probeSection, probeValues, requireSuccess, schemaHeader } from "./support/system.ts";
import { RULES, requireValue, schemaPattern, type ValueRule } from "./support/values.ts";
import { editConfig } from "./rpi_config.ts";

interface EepromArgs {
  boot_order?: string | number;
  tftp_prefix?: number;
  tftp_prefix_str?: string;
  tftp_ip?: string;
  settings?: Record<string, string | number>;
}

interface EepromState {
  content: string;
}

/** Where rpi-eeprom-update stages the image flashed at the next boot (bookworm, then older). */
export const STAGED_IMAGES = ["/boot/firmware/pieeprom.upd", "/boot/pieeprom.upd"];

export const EEPROM_RULES = {
  /** Boot modes, read right to left: 0-7 (SD detect, SD, network, RPIBOOT, USB, BCM-USB, NVMe, HTTP), e stop, f restart. */
  bootOrder: {
    what: "a BOOT_ORDER",
    allowed: '"0x" followed by 1 to 8 boot modes, each 0-7, e or f (e.g. 0xf21: SD card, then network, then restart)',
    pattern: "^0x[0-7eEfF]{1,8}$",
  },
  settingName: {
    what: "a bootloader setting name",
    allowed: 'capital letters, digits and "_", starting with a letter (e.g. DHCP_TIMEOUT)',
    pattern: "^[A-Z][A-Z0-9_]*$",
  },
  /** A value of boot.conf: one word, no "=" (the key ends at the first one). */
  settingValue: {
    what: "a bootloader setting value",
    allowed: 'letters, digits, "_", ".", ":", "/" and "-", at most 64 characters',
    pattern: "^[A-Za-z0-9_.:/-]{0,64}$",
  },
  tftpPrefixStr: {
    what: "a TFTP_PREFIX_STR",
    allowed: 'at most 32 letters, digits, "_", ".", "/" and "-"',
    pattern: "^[A-Za-z0-9_./-]{1,32}$",
  },
} satisfies Record<string, ValueRule>;

/**
 * The settings that apply on every board: those before any [section] and in [all] sections
 * (the last occurrence wins, as in the bootloader). Pure.
 */
export function readEepromConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let section: string | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) { section = header[1].trim(); continue; }
    if (line === "" || line.startsWith("#") || (section !== undefined && section !== "all")) continue;
    const eq = line.indexOf("=");
    if (eq > 0) out.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return out;
}

/** Two values of `key` mean the same to the bootloader (hex numbers compared as numbers). */
function sameValue(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const hex = /^0x[0-9a-f]+$/i;
  if (hex.test(a) && hex.test(b)) return parseInt(a, 16) === parseInt(b, 16);
  return a === b;
}

/** YAML reads an unquoted `0xf21` as the number 3873: a BOOT_ORDER is written back in hex. */
function hexIfNumber(v: string | number): string {
  return typeof v === "number" ? `0x${v.toString(16)}` : v;
}

/** The wanted settings from the arguments, every name and value checked. */
export function wantedSettings(args: EepromArgs): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(args.settings ?? {})) {
    requireValue("rpi_eeprom", "settings", k, EEPROM_RULES.settingName);
    out.set(k, requireValue("rpi_eeprom", `settings.${k}`, k === "BOOT_ORDER" ? hexIfNumber(v) : String(v), EEPROM_RULES.settingValue));
  }
  if (args.boot_order !== undefined) out.set("BOOT_ORDER", requireValue("rpi_eeprom", "boot_order", hexIfNumber(args.boot_order), EEPROM_RULES.bootOrder).toLowerCase());
  if (args.tftp_prefix !== undefined) out.set("TFTP_PREFIX", String(args.tftp_prefix));
  if (args.tftp_prefix_str !== undefined) out.set("TFTP_PREFIX_STR", requireValue("rpi_eeprom", "tftp_prefix_str", args.tftp_prefix_str, EEPROM_RULES.tftpPrefixStr));
  if (args.tftp_ip !== undefined) out.set("TFTP_IP", requireValue("rpi_eeprom", "tftp_ip", args.tftp_ip, RULES.ipv4));
  if (out.get("BOOT_ORDER") !== undefined) requireValue("rpi_eeprom", "settings.BOOT_ORDER", out.get("BOOT_ORDER")!, EEPROM_RULES.bootOrder);
  return out;
}

/** The new config text, or undefined when every wanted value is already there. Pure. */
export function editEepromConfig(text: string, wanted: Map<string, string>): { content: string; changes: string[] } | undefined {
  const have = readEepromConfig(text);
  const changes = [...wanted].filter(([k, v]) => !sameValue(have.get(k), v)).map(([k, v]) => `${k} ${have.get(k) ?? "(unset)"} -> ${v}`);
  if (changes.length === 0) return undefined;
  const lines = [...wanted].filter(([k, v]) => !sameValue(have.get(k), v)).map(([k, v]) => `${k}=${v}`);
  // rpi-eeprom-config prints its settings under [all]; a file without sections gets them at the top.
  const section = /^\s*\[all\]\s*$/m.test(text) ? "all" : undefined;
  return { content: editConfig(text, lines, section), changes };
}

/** What BOOTLOADER_PROBE reads. */
export interface BootloaderConfig {
  /** rpi-eeprom-config is installed (else nothing else is read). */
  tool: boolean;
  /** The config of the EEPROM as it is. */
  current: string;
  /** The update image staged for the next boot, and its config. */
  staged?: string;
  stagedConfig?: string;
}

/** The bootloader's config, and the staged update's when there is one. */
export const BOOTLOADER_PROBE: Probe<undefined, BootloaderConfig> = {
  name: "bootloader-config",
  command: () => [
    "command -v rpi-eeprom-config >/dev/null 2>&1 || { echo tool=no; exit 0; }",
    "echo tool=yes",
    `for f in ${STAGED_IMAGES.map((p) => sh`${p}`).join(" ")}; do if [ -f "$f" ]; then staged=$f; echo "staged=$f"; break; fi; done`,
    "echo @@current",
    "rpi-eeprom-config || exit $?",
    'if [ -n "${staged:-}" ]; then echo @@staged; rpi-eeprom-config -- "$staged" || exit $?; fi',
    "echo @@end",
  ].join("\n"),
  parse(r) {
    requireSuccess(r, "Cannot read the bootloader config (rpi-eeprom-config)");
    const head = r.stdout.indexOf("@@current");
    const v = probeValues(head < 0 ? r.stdout : r.stdout.slice(0, head));
    if (v.get("tool") !== "yes") return { tool: false, current: "" };
    const found: BootloaderConfig = { tool: true, current: probeSection(r.stdout, "current") };
    const staged = v.get("staged");
    if (staged) {
      found.staged = staged;
      found.stagedConfig = probeSection(r.stdout, "staged");
    }
    return found;
  },
};

export const rpiEeprom: ModuleDefinition<EepromArgs, EepromState> = {
  name: "rpi_eeprom",
  aliases: [],
  schema: {
    ...schemaHeader("rpi_eeprom", "Sets Raspberry Pi 4/5 bootloader (EEPROM) settings with rpi-eeprom-config, only when they differ; the new config is flashed at the next reboot."),
    properties: {
      boot_order: { type: ["string", "integer"], ...schemaPattern(EEPROM_RULES.bootOrder), description: "BOOT_ORDER, e.g. 0xf21 (SD card, then network, then restart); an unquoted 0xf21 (a number to YAML) is taken as that hex." },
      tftp_prefix: { type: "integer", enum: [0, 1, 2], description: "TFTP_PREFIX: 0 serial folder, 1 TFTP_PREFIX_STR, 2 MAC folder." },
      tftp_prefix_str: { type: "string", ...schemaPattern(EEPROM_RULES.tftpPrefixStr), description: "TFTP_PREFIX_STR (with tftp_prefix: 1)." },
      tftp_ip: { type: "string", ...schemaPattern(RULES.ipv4), description: "TFTP_IP: the TFTP server, instead of the DHCP answer's." },
      settings: {
        type: "object",
        propertyNames: schemaPattern(EEPROM_RULES.settingName),
        additionalProperties: { type: ["string", "integer"], ...schemaPattern(EEPROM_RULES.settingValue) },
        description: "Other settings by their bootloader name, e.g. {DHCP_TIMEOUT: 45000}.",
      },
    },
    anyOf: [{ required: ["boot_order"] }, { required: ["tftp_prefix"] }, { required: ["tftp_prefix_str"] }, { required: ["tftp_ip"] }, { required: ["settings"] }],
  },
  async plan(args, ctx) {
    const wanted = wantedSettings(args);
    if (wanted.size === 0) throw new ModuleFailure("rpi_eeprom: no setting given (boot_order, tftp_prefix, tftp_prefix_str, tftp_ip or settings)");
    const found = await readProbe(ctx, BOOTLOADER_PROBE, undefined);
    if (!found.tool) {
      return { changed: false, skipped: "no rpi-eeprom-config (not a Raspberry Pi 4/5 with Raspberry Pi OS)", reason: "no rpi-eeprom-config" };
    }
    const { current, staged } = found;
    // What the next boot uses: the staged image's config when there is one.
    const effective = staged ? found.stagedConfig ?? "" : current;
    const edit = editEepromConfig(effective, wanted);
    const shown = [...wanted].map(([k, val]) => `${k}=${val}`).join(", ");
    if (!edit) {
      const pending = staged !== undefined && editEepromConfig(current, wanted) !== undefined;
      return {
        changed: false,
        reason: pending ? `${shown} staged in ${staged}, flashed at the next reboot` : `bootloader has ${shown}`,
        result: { config: effective, staged: staged ?? null, reboot_required: pending },
      };
    }
    return {
      changed: true,
      msg: `${edit.changes.join(", ")}: staged, flashed at the next reboot`,
      diff: [contentDiff(effective, edit.content, "bootloader config (rpi-eeprom-config)")],
      state: { content: edit.content },
      result: { config: edit.content, staged: staged ?? null, reboot_required: true },
    };
  },
  async apply(plan, _args, ctx) {
    // The new config goes on stdin into a temp file; --apply stages it (pieeprom.upd).
    const script = 'f=$(mktemp) || exit 1\ntrap \'rm -f -- "$f"\' EXIT\ncat > "$f" && rpi-eeprom-config --apply "$f"';
    requireSuccess(await ctx.run(script, { stdin: plan.state!.content }), "rpi-eeprom-config --apply failed");
    return { msg: plan.msg };
  },
};
