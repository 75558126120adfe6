/**
 * The grammars of the names and values that modules hand to programs on the target, or write
 * as lines of a configuration file. A playbook or inventory value never becomes a command-line
 * option or an extra line: a name must match its program's own grammar (which never lets it
 * start with "-"), and a value written into a line-based file must be one line.
 *
 * Each rule has a `pattern` (for the module's JSON Schema, so editors and the load-time check
 * see it too: use `schemaPattern`) and a `test` used at plan time, where templated values and
 * comma-separated lists arrive. Failures name the module, the option, the value and what is
 * allowed.
 */
import { isIP } from "node:net";
import { ModuleFailure } from "../types.ts";

export interface ValueRule {
  /** What the value is, after "is not": "a Debian package name". */
  what: string;
  /** What is allowed, in words. */
  allowed: string;
  /** An ECMAScript regex source for the JSON Schema (anchored). */
  pattern: string;
  /** Extra checks the pattern cannot say (e.g. a real IP address). */
  test?: (value: string) => boolean;
}

const IPV4 = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}";

export const RULES = {
  /** Debian policy 5.6.1 (name), 5.6.12 (version); `:arch` as apt takes it. */
  debianPackage: {
    what: "a Debian package name",
    allowed: 'lowercase letters, digits, "+", "-" and ".", starting with a letter or digit, optionally followed by ":arch" and "=version"',
    pattern: "^[a-z0-9][a-z0-9+.-]+(:[a-z0-9][a-z0-9-]*)?(=[A-Za-z0-9.+~:*-]+)?$",
  },
  /** dpkg's --force-<thing> names, with an optional =value (apt's Dpkg::Options). */
  dpkgOption: {
    what: "a dpkg option",
    allowed: 'a dpkg option name such as "force-confold" (letters, digits and "-", optionally "=value" without spaces)',
    pattern: "^(--)?[a-z][a-z0-9-]*(=[^\\s]+)?$",
  },
  /** shadow's useradd/groupadd: never "-", "+" or "~" first, no ":", ",", "/" or whitespace. */
  accountName: {
    what: "a user or group name",
    allowed: 'letters, digits, "_", "." and "-", not starting with "-", at most 32 characters (a trailing "$" is allowed for machine accounts)',
    pattern: "^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,30}\\$?$",
  },
  /** A user or group as chown/find take it: a name or a numeric id. */
  owner: {
    what: "a user or group name or id",
    allowed: 'a number, or letters, digits, "_", "." and "-" not starting with "-"',
    pattern: "^([0-9]+|[A-Za-z0-9_.][A-Za-z0-9_.-]{0,30}\\$?)$",
  },
  /** systemd.unit(5) names; also SysV init script names (no "/", never "-" first). */
  serviceName: {
    what: "a service name",
    allowed: 'letters, digits, ":", "_", ".", "@", "\\" and "-", starting with a letter, digit, "_" or "@"',
    pattern: "^[A-Za-z0-9_@][A-Za-z0-9:_.@\\\\-]{0,254}$",
  },
  /** Linux dev_valid_name (IFNAMSIZ 16: at most 15 bytes, no "/", ":" or whitespace), and no shell characters. */
  interfaceName: {
    what: "a network interface name",
    allowed: 'at most 15 letters, digits, "_", ".", "+" and "-", starting with a letter, digit or "_"',
    pattern: "^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,14}$",
  },
  ipv4: {
    what: "an IPv4 address",
    allowed: "four numbers 0-255 separated by dots, e.g. 10.0.0.1",
    pattern: `^${IPV4}$`,
    test: (v: string) => isIP(v) === 4,
  },
  ipAddress: {
    what: "an IP address",
    allowed: "an IPv4 address such as 10.0.0.1 or an IPv6 address such as fd00::1",
    pattern: "^[0-9A-Fa-f:.]+$",
    test: (v: string) => isIP(v) !== 0,
  },
  /** What wait_for can connect to: an IP address or a DNS name (RFC 1123 labels). */
  host: {
    what: "a host name or IP address",
    allowed: 'an IP address, or a DNS name of letters, digits, "-", "_" and "." starting with a letter, digit or "_"',
    pattern: "^([A-Za-z0-9_][A-Za-z0-9_.-]{0,252}|[0-9A-Fa-f:.]+)$",
    test: (v: string) => isIP(v) !== 0 || /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/.test(v),
  },
  /** sysctl(8) keys, dotted or slashed, with systemd-sysctl's "*" globs. */
  sysctlKey: {
    what: "a sysctl key",
    allowed: 'letters, digits, "_", "-", "+", ":", "@", "*", "." and "/", starting with a letter, digit, "_" or "*"',
    pattern: "^[A-Za-z0-9_*][A-Za-z0-9_.\\/:@+*-]*$",
  },
  /** modprobe(8) module names. */
  kernelModule: {
    what: "a kernel module name",
    allowed: 'letters, digits, "_" and "-", not starting with "-"',
    pattern: "^[A-Za-z0-9_][A-Za-z0-9_-]*$",
  },
  /** One module parameter: name or name=value (modprobe.d "options" words). */
  kernelModuleParam: {
    what: "a kernel module parameter",
    allowed: 'name=value, the name of letters, digits and "_", the value without spaces',
    pattern: "^[A-Za-z0-9_][A-Za-z0-9_.-]*(=\\S*)?$",
  },
  /** A device or image the disk modules are given: always an absolute path. */
  devicePath: {
    what: "an absolute device path",
    allowed: 'an absolute path such as /dev/sda or /dev/disk/by-id/..., without whitespace',
    pattern: "^/\\S*$",
  },
  /** An HTTP header field name (RFC 9110 token). */
  httpHeaderName: {
    what: "an HTTP header name",
    allowed: "letters, digits and !#$%&'*+.^_`|~-",
    pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$",
  },
  /** A checksum as sha256sum prints it. */
  hexDigest: {
    what: "a hexadecimal checksum",
    allowed: "the digits 0-9 and letters a-f",
    pattern: "^[0-9A-Fa-f]+$",
  },
  /** One line of a line-based file: no newline or carriage return. */
  singleLine: {
    what: "a single line",
    allowed: "text without newlines (\\n) or carriage returns (\\r)",
    pattern: "^[^\\n\\r]*$",
  },
  /** A word of a line-based file (fstab fields): no whitespace at all. */
  word: {
    what: "a single word",
    allowed: "text without spaces, tabs or newlines",
    pattern: "^\\S+$",
  },
  /** A path on the target that programs get as an operand: absolute, so never an option. */
  absolutePath: {
    what: "an absolute path",
    allowed: 'starting with "/"',
    pattern: "^/",
  },
} satisfies Record<string, ValueRule>;

const compiled = new WeakMap<ValueRule, RegExp>();

/** Does `value` follow `rule`? */
export function follows(rule: ValueRule, value: string): boolean {
  let re = compiled.get(rule);
  if (!re) compiled.set(rule, (re = new RegExp(rule.pattern)));
  return re.test(value) && (rule.test?.(value) ?? true);
}

/**
 * The value, or a ModuleFailure such as: apt: name "-oDPkg::Pre-Invoke::=touch /tmp/x" is not
 * a Debian package name (allowed: lowercase letters, ...).
 */
export function requireValue(module: string, option: string, value: string, rule: ValueRule, options: { secret?: boolean } = {}): string {
  if (!follows(rule, value)) {
    // A secret's value is never shown (and its quoted form would escape the masking).
    const shown = options.secret ? "(a secret value)" : JSON.stringify(value);
    throw new ModuleFailure(`${module}: ${option} ${shown} is not ${rule.what} (allowed: ${rule.allowed})`, { invalid_option: option });
  }
  return value;
}

/** requireValue for each value of a list option. */
export function requireValues(module: string, option: string, values: readonly string[], rule: ValueRule): string[] {
  for (const v of values) requireValue(module, option, v, rule);
  return [...values];
}

/** A JSON Schema fragment for a string option following `rule` (the load-time check). */
export function schemaPattern(rule: ValueRule, options: { orEmpty?: boolean } = {}): { pattern: string; patternErrorMessage: string } {
  // patternErrorMessage is what YAML language servers show; validate-args.ts shows it too.
  if (options.orEmpty) return { pattern: `^$|${rule.pattern}`, patternErrorMessage: `must be empty or ${rule.what} (${rule.allowed})` };
  return { pattern: rule.pattern, patternErrorMessage: `must be ${rule.what} (${rule.allowed})` };
}
