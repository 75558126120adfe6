/**
 * A YAML file opened for editing: its text, its Document (comments, key order and quoting
 * kept by the yaml library) and the text after the edits, with the file's untouched lines
 * byte for byte (keep-format.ts).
 */
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node, type Pair, type YAMLMap } from "yaml";
import { UserError, type SourcePosition } from "../errors.ts";
import { applyRenderedChange } from "./keep-format.ts";

const RENDER = { lineWidth: 0, flowCollectionPadding: false, nullStr: "" } as const;
const PARSE = { version: "1.1", uniqueKeys: true, prettyErrors: false } as const;

export class YamlFile {
  readonly doc: Document;
  readonly #lines = new LineCounter();
  readonly #rendered: string;

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.doc = parseDocument(text, { ...PARSE, lineCounter: this.#lines });
    const problem = this.doc.errors[0];
    if (problem) {
      throw new UserError(`YAML syntax error: ${problem.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")}`, {
        where: this.where(problem.pos[0]),
        hint: "Fix the file first; nothing was changed.",
      });
    }
    this.#rendered = this.doc.toString(RENDER);
  }

  where(offset: number | undefined): SourcePosition {
    if (offset === undefined) return { file: this.file };
    const { line, col } = this.#lines.linePos(offset);
    return { file: this.file, line, col };
  }

  /** Where a node (or a pair's key) is written. */
  whereOf(node: Node | Pair | null | undefined): SourcePosition {
    const n = node && "key" in node ? (node.key as Node | null) : (node as Node | null | undefined);
    return this.where(n?.range?.[0]);
  }

  /** The file's text with the Document's changes applied and everything else as it was. */
  result(): string {
    const after = this.doc.toString(RENDER);
    // An empty file has no document to keep.
    if (this.text.trim() === "") return after;
    const merged = applyRenderedChange(this.text, this.#rendered, after);
    // The merged text must mean exactly what the edited Document means; if a layout ever
    // defeats the line merge, the library's own rendering is the safe answer.
    const meaning = (doc: Document) => JSON.stringify(doc.toJS({ maxAliasCount: -1 }));
    return meaning(parseDocument(merged, PARSE)) === meaning(this.doc) ? merged : after;
  }

  /** The top-level mapping, made when the file is empty; a non-mapping is an error. */
  topMap(what: string): YAMLMap {
    const top = this.doc.contents as Node | null;
    if (top === null || (isScalar(top) && top.value === null)) {
      this.doc.contents = this.doc.createNode({}) as unknown as typeof this.doc.contents;
      return this.doc.contents as unknown as YAMLMap;
    }
    if (!isMap(top)) throw new UserError(`${what} must be a mapping at the top level`, { where: this.whereOf(top) });
    return top;
  }
}

/** An empty `{}` about to receive entries is written as a block, as the rest of an inventory is. */
function blockWhenEmpty(map: YAMLMap): YAMLMap {
  if (map.flow && map.items.length === 0) map.flow = false;
  return map;
}

/** The mapping stored under `key` in `map`, created (empty) when missing or empty. */
export function childMap(file: YamlFile, map: YAMLMap, key: string, what: string): YAMLMap {
  const value = map.get(key, true) as Node | undefined;
  if (isMap(value)) return blockWhenEmpty(value);
  if (value === undefined || value === null || (isScalar(value) && value.value === null)) {
    const made = file.doc.createNode({}) as YAMLMap;
    map.set(key, made);
    return made;
  }
  throw new UserError(`${what} must be a mapping`, { where: file.whereOf(value), hint: "Fix it by hand first; nothing was changed." });
}

/** The mapping a pair holds as its value, made from an empty value. */
export function valueMap(file: YamlFile, pair: Pair, what: string): YAMLMap {
  const value = pair.value as Node | null;
  if (isMap(value)) return blockWhenEmpty(value);
  if (value === null || (isScalar(value) && value.value === null)) {
    const made = file.doc.createNode({}) as YAMLMap;
    pair.value = made;
    return made;
  }
  throw new UserError(`${what} must be a mapping`, { where: file.whereOf(value), hint: "Fix it by hand first; nothing was changed." });
}

export function keyName(pair: Pair): string {
  const key = pair.key as Node | null;
  return isScalar(key) ? String(key.value) : String(key);
}
