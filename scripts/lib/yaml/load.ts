/**
 * YAML loading as Ansible does it (YAML 1.1: `yes` is true, `0644` is octal), keeping where
 * every mapping, sequence and key came from so errors can say file:line:col.
 */
import { readFileSync, statSync } from "node:fs";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type ScalarTag, type Tags, type YAMLError } from "yaml";
import { UserError, type SourcePosition } from "../errors.ts";
import { isVaulted } from "../vault/format.ts";
import { decryptVaultText, registerVaultedValues, VaultedValue } from "../vault/keyring.ts";

// PyYAML (what Ansible uses) reads yes/no/on/off/true/false as booleans but, unlike the
// YAML 1.1 spec, leaves y/n as strings: `hosts: n` must stay a name.
const pyyamlBool: ScalarTag = {
  tag: "tag:yaml.org,2002:bool",
  default: true,
  test: /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  resolve: (s: string) => /^(?:yes|true|on)$/i.test(s),
  stringify: ({ value }) => (value ? "true" : "false"),
};

// PyYAML's floats: a dot is required and an exponent has a sign (`1.5e+3`), so `1e3`, `e1`
// and `1.5e3` stay strings; the yaml package's 1.1 floats read `e1` as NaN and `1e3` as 1000.
const pyyamlFloat: ScalarTag = {
  tag: "tag:yaml.org,2002:float",
  default: true,
  test: /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
  resolve: (s: string) => {
    const text = s.replace(/_/g, "").toLowerCase();
    const sign = text.startsWith("-") ? -1 : 1;
    const body = text.replace(/^[-+]/, "");
    if (body === ".inf") return sign * Infinity;
    if (body === ".nan") return NaN;
    // Sexagesimal (base 60), as PyYAML: 1:30.5 is 90.5.
    if (body.includes(":")) return sign * body.split(":").reduce((acc, part) => acc * 60 + Number(part), 0);
    return sign * Number(body);
  },
  stringify: ({ value }) => String(value),
};
const pyyamlScalars = (tags: Tags): Tags => [
  pyyamlBool,
  pyyamlFloat,
  ...tags.filter((t) => (t as ScalarTag).tag !== "tag:yaml.org,2002:bool" && (t as ScalarTag).tag !== "tag:yaml.org,2002:float"),
];

// `!vault |` values: kept as text by the parser; convert() makes them VaultedValues (decrypted on use).
const vaultTag: ScalarTag = { tag: "!vault", resolve: (s: string) => s };

/**
 * Bounds on what one input may cost. Aliases are expanded into copies (the data is templated
 * and merged later), so nested aliases multiply ("billion laughs"): a budget on the values
 * they produce stops that within milliseconds. Real Ansible data nests a few dozen levels
 * at most; the bound keeps every later recursive walk (templating, merging, reports) safe.
 * Files over the size bound would take many seconds and gigabytes to parse.
 */
export const MAX_ALIAS_VALUES = 100_000;
export const MAX_NESTING = 200;
export const MAX_INPUT_BYTES = 4 * 1024 * 1024;

const positions = new WeakMap<object, SourcePosition>();
const keyPositions = new WeakMap<object, Map<string, SourcePosition>>();
const itemPositions = new WeakMap<object, SourcePosition[]>();

/** Where a mapping or sequence loaded by this module starts, if known. */
export function positionOf(value: unknown): SourcePosition | undefined {
  return value !== null && typeof value === "object" ? positions.get(value) : undefined;
}

/** Where `key` of a loaded mapping is written (falls back to the mapping itself). */
export function positionOfKey(map: unknown, key: string): SourcePosition | undefined {
  if (map === null || typeof map !== "object") return undefined;
  return keyPositions.get(map)?.get(key) ?? positions.get(map);
}

/** Where item `index` of a loaded sequence is written (scalars too), falling back to the sequence. */
export function positionOfItem(list: unknown, index: number): SourcePosition | undefined {
  if (list === null || typeof list !== "object") return undefined;
  return itemPositions.get(list)?.[index] ?? positions.get(list);
}

/** Marks a value built in code (e.g. a synthetic task) as coming from `where`. */
export function setPosition(value: object, where: SourcePosition): void {
  positions.set(value, where);
}

/** Parses YAML text; `file` is only used for positions and messages. */
export function parseYaml(text: string, file: string): unknown {
  if (isVaulted(text)) {
    // A vault-encrypted file (vars, inventory, -e @file, playbook): decrypted in memory only.
    const data = parseYaml(decryptVaultText(text, { file }), file);
    registerVaultedValues(data);
    return data;
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text.startsWith("\uFEFF") ? text.slice(1) : text, {
    version: "1.1",
    merge: true,
    lineCounter,
    prettyErrors: false,
    // Duplicates are reported by convert() below, which knows the key and where it sits.
    uniqueKeys: false,
    customTags: (tags: Tags) => [...pyyamlScalars(tags), vaultTag],
  });
  const where = (offset: number | undefined): SourcePosition => {
    if (offset === undefined) return { file };
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  const problem = doc.errors[0];
  if (problem) throw syntaxError(doc, problem, where);

  let aliasValues = 0;
  const path: string[] = []; // keys from the top to the node being converted, for messages
  // `alias` is where the outermost alias being expanded is written (undefined outside one).
  const convert = (node: Node | null | undefined, alias: SourcePosition | undefined): unknown => {
    if (!node) return null;
    if (alias && ++aliasValues > MAX_ALIAS_VALUES) {
      throw new UserError(`YAML aliases expand to more than ${MAX_ALIAS_VALUES} values here`, {
        where: alias,
        hint: "Aliases of aliases multiply (a \"billion laughs\"); write the data out or reference it fewer times.",
      });
    }
    if (path.length > MAX_NESTING) throw nestingError(where(node.range?.[0]));
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const keys = new Map<string, SourcePosition>();
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        const key = isScalar(keyNode) ? String(keyNode.value) : String(convert(keyNode, alias));
        if (isScalar(keyNode) && typeof keyNode.value === "symbol") {
          // A merge key (`<<: *defaults`): copy the referenced mapping(s) in, explicit keys win.
          const merged = convert(pair.value as Node, alias);
          for (const m of Array.isArray(merged) ? merged : [merged]) {
            if (m && typeof m === "object") for (const [k, v] of Object.entries(m)) if (!(k in out)) out[k] = v;
          }
          continue;
        }
        const here = where(keyNode?.range?.[0]);
        const first = keys.get(key);
        if (first) throw duplicateKeyError(key, path, first, here);
        path.push(key);
        out[key] = convert(pair.value as Node | null, alias);
        path.pop();
        keys.set(key, here);
      }
      positions.set(out, where(node.range?.[0]));
      keyPositions.set(out, keys);
      return out;
    }
    if (isSeq(node)) {
      const out = node.items.map((item, i) => {
        path.push(`[${i}]`);
        const value = convert(item as Node, alias);
        path.pop();
        return value;
      });
      positions.set(out, where(node.range?.[0]));
      itemPositions.set(out, node.items.map((item) => where((item as Node | null)?.range?.[0])));
      return out;
    }
    if (isScalar(node)) {
      const v = node.value;
      if (node.tag === "!vault") return new VaultedValue(String(v), where(node.range?.[0]));
      return typeof v === "bigint" ? Number(v) : v instanceof Date ? node.source ?? v.toISOString() : v;
    }
    // Aliases resolve to the anchored node's value, converted again as a copy.
    const target = (node as unknown as { resolve(doc: unknown): Node }).resolve(doc);
    return convert(target, alias ?? where(node.range?.[0]));
  };
  return convert(doc.contents as Node, undefined);
}

function nestingError(where: SourcePosition): UserError {
  return new UserError(`YAML data is nested more than ${MAX_NESTING} levels deep`, {
    where,
    hint: "Flatten the structure; nothing Ansible reads needs that depth.",
  });
}

function duplicateKeyError(key: string, path: string[], first: SourcePosition, here: SourcePosition): UserError {
  // Under `hosts:` (an inventory group) the keys are host names: say so.
  const what = path.at(-1) === "hosts" && path.length > 1 ? "host" : "key";
  const under = path.length > 0 ? ` in ${path.join(".").replace(/\.\[/g, "[")}` : "";
  return new UserError(`Duplicate ${what} ${JSON.stringify(key)}${under} (first at line ${first.line})`, {
    where: here,
    hint: `Keep one ${JSON.stringify(key)}; YAML allows each key once per mapping.`,
  });
}

/**
 * The library reports an unclosed quote or bracket where it gave up (often the end of the
 * file); like PyYAML, point at where the quote or bracket opens instead.
 */
function syntaxError(doc: Document, problem: YAMLError, where: (offset: number | undefined) => SourcePosition): UserError {
  const hint = "Check indentation and quoting around this line (values starting with { or : need quotes).";
  if (/Maximum call stack/.test(problem.message)) return nestingError(where(problem.pos[0]));
  const message = problem.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
  const quote = problem.code === "MISSING_CHAR" && /closing (["'])quote/.exec(message)?.[1];
  const flow = /^Flow (sequence|map) /.exec(message)?.[1];
  if (quote || flow) {
    let opening: Node | undefined;
    visit(doc, {
      Node(_, node) {
        const n = node as Node & { type?: string; flow?: boolean };
        const kind = quote ? n.type === (quote === '"' ? "QUOTE_DOUBLE" : "QUOTE_SINGLE") : n.flow && (flow === "map" ? isMap(n) : isSeq(n));
        // The innermost one still open where the library gave up.
        if (kind && n.range && n.range[0] < problem.pos[0] && n.range[1] >= problem.pos[0]) opening = n;
      },
    });
    if (opening?.range) {
      const opened = where(opening.range[0]);
      const stopped = where(problem.pos[0]).line;
      const mark = quote || (flow === "map" ? "{" : "[");
      const close = quote || (flow === "map" ? "}" : "]");
      return new UserError(`YAML syntax error: this ${mark} is not closed (the ${close} is still missing at line ${stopped})`, {
        where: opened,
        hint: quote ? `Close the quote on this value, or escape a ${quote} inside it.` : `Close it with ${close}, or quote the value if it is text.`,
      });
    }
  }
  return new UserError(`YAML syntax error: ${message}`, { where: where(problem.pos[0]), hint });
}

/** Throws a UserError when `file` is over MAX_INPUT_BYTES (and fs errors, e.g. ENOENT, as they are). */
export function refuseOversizedInput(file: string): void {
  const size = statSync(file).size;
  if (size > MAX_INPUT_BYTES) {
    throw new UserError(`File is too large to load (${(size / 1048576).toFixed(1)} MB; the limit is ${MAX_INPUT_BYTES / 1048576} MB)`, {
      where: { file },
      hint: "Playbooks, inventories and variables files are small; keep large data in files that copy or template reads.",
    });
  }
}

/**
 * Reads a user's input file as text: refuses one too large to load safely and drops a UTF-8
 * byte order mark (Windows editors write one). A missing or unreadable file is a UserError.
 */
export function readInputFile(file: string): string {
  try {
    refuseOversizedInput(file);
    const text = readFileSync(file, "utf8");
    return text.startsWith("\uFEFF") ? text.slice(1) : text;
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === "ENOENT" ? `File not found: ${file}` : `Cannot read ${file}: ${(e as Error).message}`, {
      where: { file },
    });
  }
}

/** Reads and parses a YAML file; a missing or unreadable file is a UserError naming it. */
export function loadYamlFile(file: string): unknown {
  return parseYaml(readInputFile(file), file);
}
