/**
 * YAML loading as Ansible does it (YAML 1.1: `yes` is true, `0644` is octal), keeping where
 * every mapping, sequence and key came from so errors can say file:line:col.
 */
import { readFileSync } from "node:fs";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type ScalarTag, type Tags } from "yaml";
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
const pyyamlBooleans = (tags: Tags): Tags => [
  pyyamlBool,
  ...tags.filter((t) => (t as ScalarTag).tag !== "tag:yaml.org,2002:bool"),
];

// `!vault |` values: kept as text by the parser; convert() makes them VaultedValues (decrypted on use).
const vaultTag: ScalarTag = { tag: "!vault", resolve: (s: string) => s };

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
  const doc = parseDocument(text, {
    version: "1.1",
    merge: true,
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    customTags: (tags: Tags) => [...pyyamlBooleans(tags), vaultTag],
  });
  const where = (offset: number | undefined): SourcePosition => {
    if (offset === undefined) return { file };
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  const problem = doc.errors[0];
  if (problem) {
    const message = problem.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    throw new UserError(`YAML syntax error: ${message}`, {
      where: where(problem.pos[0]),
      hint: "Check indentation and quoting around this line (values starting with { or : need quotes).",
    });
  }
  const convert = (node: Node | null | undefined): unknown => {
    if (!node) return null;
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const keys = new Map<string, SourcePosition>();
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        const key = isScalar(keyNode) ? String(keyNode.value) : String(convert(keyNode));
        if (isScalar(keyNode) && typeof keyNode.value === "symbol") {
          // A merge key (`<<: *defaults`): copy the referenced mapping(s) in, explicit keys win.
          const merged = convert(pair.value as Node);
          for (const m of Array.isArray(merged) ? merged : [merged]) {
            if (m && typeof m === "object") for (const [k, v] of Object.entries(m)) if (!(k in out)) out[k] = v;
          }
          continue;
        }
        out[key] = convert(pair.value as Node | null);
        keys.set(key, where(keyNode?.range?.[0]));
      }
      positions.set(out, where(node.range?.[0]));
      keyPositions.set(out, keys);
      return out;
    }
    if (isSeq(node)) {
      const out = node.items.map((item) => convert(item as Node));
      positions.set(out, where(node.range?.[0]));
      itemPositions.set(out, node.items.map((item) => where((item as Node | null)?.range?.[0])));
      return out;
    }
    if (isScalar(node)) {
      const v = node.value;
      if (node.tag === "!vault") return new VaultedValue(String(v), where(node.range?.[0]));
      return typeof v === "bigint" ? Number(v) : v instanceof Date ? node.source ?? v.toISOString() : v;
    }
    // Aliases resolve to the anchored node's value.
    return convert((node as unknown as { resolve(doc: unknown): Node }).resolve(doc));
  };
  return convert(doc.contents as Node);
}

/** Reads and parses a YAML file; a missing or unreadable file is a UserError naming it. */
export function loadYamlFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === "ENOENT" ? `File not found: ${file}` : `Cannot read ${file}: ${(e as Error).message}`, {
      where: { file },
    });
  }
  return parseYaml(text, file);
}
