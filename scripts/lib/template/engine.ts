/**
 * The nunjucks environment, adjusted to behave like Jinja2 as Ansible uses it: Python truthiness
 * (empty list is false), Python ==/</in/+/*, str() of True/None/lists, strict undefined (using a
 * missing variable fails with its name, `default()`/`is defined` still work), Python methods on
 * strings, lists and dicts, lazy variable lookup through the active Templar, autoescape off,
 * trim_blocks on, lstrip_blocks off.
 *
 * nunjucks compiles templates to JavaScript calling `runtime.*` helpers; we replace a few of
 * those helpers and the compiler methods that emit JavaScript operators with Python semantics.
 */
import nunjucks from "nunjucks";
import { Secret } from "../shell/secret.ts";
import { isUndefined, TemplateError, Undefined, type Undefined as UndefinedT } from "./errors.ts";
import { isUnsafe } from "./unsafe.ts";
import {
  dictMethod, isMapping, listMethod, pyEquals, pyIn, pyLess, pyRepr, pyStr, stringMethod, truthy, typeName, unwrapSecret,
} from "./python.ts";

/** What the engine asks the active Templar: variables (lazily rendered) and nested values. */
export interface VariableSource {
  /** A variable by name, or an Undefined. */
  lookup(name: string): unknown;
  /** A value read from inside a variable (dict member, list item): templated strings render on read. */
  resolveMember(value: unknown, label: string): unknown;
  /** Reads a template file for include/import/extends. */
  loadTemplate(name: string): { src: string; path: string };
}

/** The Templar currently rendering (rendering is synchronous, nesting restores it). */
export const active: { source?: VariableSource } = {};

// deno-lint-ignore no-explicit-any
type Any = any;
const runtime = nunjucks.runtime as Any;
const nodes = (nunjucks as Any).nodes;
const Compiler = (nunjucks as Any).compiler.Compiler.prototype;

// Jinja's slices (`l[1:]`), installed first; the helpers below replace the rest of it.
(nunjucks as Any).installJinjaCompat();

// Jinja looks `d['items']` up as an item first and `d.items` as an attribute first; nunjucks
// parses both into the same lookup. A one-element `[...]` aggregate is a subscript (or a list
// literal, whose element is never a lookup key): its element is marked, and the lookup passes a
// third argument so the runtime prefers the item (kubectl's JSON has a key named "items").
const Parser = (nunjucks as Any).parser.Parser.prototype;
const jinjaParseAggregate = Parser.parseAggregate;
Parser.parseAggregate = function (this: Any) {
  const node = jinjaParseAggregate.call(this);
  if (node instanceof nodes.Array && node.children.length === 1) node.children[0].__subscript = true;
  return node;
};
const originalCompileLookupVal = Compiler.compileLookupVal;
Compiler.compileLookupVal = function (this: Any, node: Any, frame: Any) {
  if (!node.val?.__subscript || node.val.typename === "Slice") return originalCompileLookupVal.call(this, node, frame);
  this._emit("runtime.memberLookup((");
  this._compileExpression(node.target, frame);
  this._emit("),");
  this._compileExpression(node.val, frame);
  this._emit(',"subscript")');
};

// Jinja's conditional expression: the else branch is itself one (`a if b else c if d else e`);
// nunjucks parses only an `or` expression there. As Jinja's parse_condexpr.
Parser.parseInlineIf = function (this: Any) {
  let node = this.parseOr();
  while (this.skipSymbol("if")) {
    const inline = new nodes.InlineIf(node.lineno, node.colno);
    inline.body = node;
    inline.cond = this.parseOr();
    inline.else_ = this.skipSymbol("else") ? this.parseInlineIf() : null;
    node = inline;
  }
  return node;
};

// Jinja's loop filter `{% for x in y if cond(x) %}`: nunjucks parses `y if cond(x)` as a
// conditional expression evaluated before the loop (x undefined). A bare, else-less one after
// `in` is the filter: marked here, compiled in compileInlineIf with the loop names bound.
const jinjaParseFor = Parser.parseFor;
Parser.parseFor = function (this: Any) {
  const node = jinjaParseFor.call(this);
  if (node.arr instanceof nodes.InlineIf && node.arr.else_ === null) node.arr.__loopNames = node.name;
  return node;
};

// Jinja balances braces inside an expression, so `{{ {'a': {'b': 1}} }}` is one dict; nunjucks
// would end the tag at the first "}}". Count open dict braces and split such a "}}" in two.
const lexer = (nunjucks as Any).lexer;
const Tokenizer = Object.getPrototypeOf(lexer.lex(""));
const originalNextToken = Tokenizer.nextToken;
Tokenizer.nextToken = function (this: Any) {
  if (this.in_code && this.__braces > 0 && this.str.startsWith("}}", this.index)) {
    const tok = { type: lexer.TOKEN_RIGHT_CURLY, value: "}", lineno: this.lineno, colno: this.colno };
    this.forward();
    this.__braces--;
    return tok;
  }
  // `list.0` and `item.0.name` (Jinja's attribute-style index): the digits after a dot are a
  // name; taken here, before nunjucks would read `0.name` as the float `0.`.
  const digits = this.in_code && this.__lastValue === "." ? /^\d+/.exec(this.str.slice(this.index, this.index + 20)) : null;
  if (digits) {
    const tok = { type: lexer.TOKEN_SYMBOL, value: digits[0], lineno: this.lineno, colno: this.colno };
    for (let i = 0; i < digits[0].length; i++) this.forward();
    this.__lastValue = tok.value;
    return tok;
  }
  const tok = originalNextToken.call(this);
  if (tok?.type === lexer.TOKEN_VARIABLE_START) this.__inVariable = true;
  else if (tok?.type === lexer.TOKEN_BLOCK_START || tok?.type === lexer.TOKEN_VARIABLE_END) this.__inVariable = false;
  if (tok && tok.type !== lexer.TOKEN_WHITESPACE) this.__lastValue = tok.value;
  if (tok?.type === lexer.TOKEN_LEFT_CURLY) this.__braces = (this.__braces ?? 0) + 1;
  else if (tok?.type === lexer.TOKEN_RIGHT_CURLY) this.__braces = Math.max(0, (this.__braces ?? 0) - 1);
  else if (tok?.type === lexer.TOKEN_VARIABLE_END || tok?.type === lexer.TOKEN_BLOCK_END) this.__braces = 0;
  // Jinja's trim_blocks removes the newline after a comment tag too (nunjucks only after blocks).
  else if (tok?.type === lexer.TOKEN_COMMENT && this.trimBlocks) {
    if (this.str.startsWith("\n", this.index)) this.forward();
    else if (this.str.startsWith("\r\n", this.index)) (this.forward(), this.forward());
  }
  return tok;
};

// String literals. Jinja decodes them as Python's unicode-escape does: known escapes (\n, \t,
// \\, \x41, octal \1, ...) become characters and any other backslash stays (`'\d+'` is the
// regex \d+); nunjucks dropped such backslashes. And Ansible doubles the backslashes of the
// string literals inside `{{ }}` of a playbook's strings before Jinja reads them (its
// _escape_backslashes), so there they are taken as written: `regex_replace('(\w+)', '\1')`.
// Template files and conditions (`when:`, `{% %}`) get Jinja's decoding.
const originalLex = lexer.lex;
lexer.lex = function (this: Any, src: string, opts: Any) {
  const tokenizer = originalLex.call(this, src, opts);
  tokenizer.__verbatimVariableStrings = opts?.verbatimVariableStrings === true;
  return tokenizer;
};
const SIMPLE_ESCAPES: Record<string, string> = { "\\": "\\", "'": "'", '"': '"', a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\n": "" };
Tokenizer._parseString = function (this: Any, delimiter: string) {
  const verbatim = this.__verbatimVariableStrings && this.__inVariable;
  this.forward();
  let str = "";
  while (!this.isFinished() && this.current() !== delimiter) {
    const cur = this.current();
    this.forward();
    if (cur !== "\\" || this.isFinished()) {
      str += cur;
      continue;
    }
    const next = this.current();
    this.forward();
    if (verbatim) str += next === delimiter ? next : `\\${next}`;
    else if (next in SIMPLE_ESCAPES) str += SIMPLE_ESCAPES[next];
    else if (/[0-7]/.test(next)) {
      let digits = next;
      while (digits.length < 3 && /[0-7]/.test(this.current())) (digits += this.current(), this.forward());
      str += String.fromCharCode(parseInt(digits, 8));
    } else if (next === "x" || next === "u" || next === "U") {
      const width = next === "x" ? 2 : next === "u" ? 4 : 8;
      const hex = this.str.slice(this.index, this.index + width);
      if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(hex)) throw new Error(`A string has a truncated \\${next}${"X".repeat(width)} escape`);
      for (let i = 0; i < width; i++) this.forward();
      str += String.fromCodePoint(parseInt(hex, 16));
    } else str += `\\${next}`;
  }
  this.forward();
  return str;
};

runtime.__truthy = truthy;
runtime.__and = (left: unknown, right: () => unknown) => (truthy(left) ? right() : left);
runtime.__or = (left: unknown, right: () => unknown) => (truthy(left) ? left : right());
runtime.__cmp = (...xs: unknown[]) => {
  for (let i = 0; i + 2 < xs.length; i += 2) if (!compareOnce(xs[i], xs[i + 1] as string, xs[i + 2])) return false;
  return true;
};
runtime.__add = (a: unknown, b: unknown) => {
  a = unwrapSecret(a);
  b = unwrapSecret(b);
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  if (typeof a === "string" && typeof b === "string") return a + b;
  if (isNumeric(a) && isNumeric(b)) return Number(a) + Number(b);
  throw new TemplateError(`Cannot add ${typeName(a)} and ${typeName(b)} with +`, { hint: "Use ~ to join as text, or convert with | int / | string." });
};
runtime.__mul = (a: unknown, b: unknown) => {
  if (typeof a === "string" && typeof b === "number") return a.repeat(Math.max(0, b));
  if (typeof b === "string" && typeof a === "number") return b.repeat(Math.max(0, a));
  if (Array.isArray(a) && typeof b === "number") return Array.from({ length: Math.max(0, b) }, () => a).flat(1);
  if (isNumeric(a) && isNumeric(b)) return Number(a) * Number(b);
  throw new TemplateError(`Cannot multiply ${typeName(a)} and ${typeName(b)}`);
};
runtime.__mod = (a: unknown, b: unknown) => {
  if (typeof a === "string") return percentFormat(a, b);
  if (isNumeric(a) && isNumeric(b)) return ((Number(a) % Number(b)) + Number(b)) % Number(b);
  throw new TemplateError(`Cannot use % on ${typeName(a)}`);
};
runtime.__concat = (a: unknown, b: unknown) => pyStr(a) + pyStr(b);

function isNumeric(v: unknown): boolean {
  return typeof v === "number" || typeof v === "boolean";
}

function compareOnce(a: unknown, op: string, b: unknown): boolean {
  switch (op) {
    case "==":
    case "===":
      return pyEquals(a, b);
    case "!=":
    case "!==":
      return !pyEquals(a, b);
    case "<":
      return pyLess(a, b);
    case ">":
      return pyLess(b, a);
    case "<=":
      return !pyLess(b, a);
    case ">=":
      return !pyLess(a, b);
  }
  throw new TemplateError(`Unknown comparison ${op}`);
}

/** Python's `"%s-%d" % (a, b)`: %s, %d, %i, %f (with precision), %r, %%. */
function percentFormat(format: string, args: unknown): string {
  const values = Array.isArray(args) ? args : [args];
  let i = 0;
  return format.replace(/%(?:\(([^)]+)\))?([-+ 0#]*)(\d+)?(?:\.(\d+))?([sdifrx%])/g, (_m, key: string | undefined, flags: string, width: string | undefined, precision: string | undefined, conv: string) => {
    if (conv === "%") return "%";
    const v = key !== undefined && isMapping(args) ? args[key] : values[i++];
    let s: string;
    if (conv === "s") s = pyStr(v);
    else if (conv === "r") s = pyRepr(v);
    else if (conv === "d" || conv === "i") s = String(Math.trunc(Number(v)));
    else if (conv === "x") s = Math.trunc(Number(v)).toString(16);
    else s = Number(v).toFixed(precision === undefined ? 6 : Number(precision));
    if (width) s = flags.includes("-") ? s.padEnd(Number(width)) : s.padStart(Number(width), flags.includes("0") && conv !== "s" ? "0" : " ");
    return s;
  });
}

runtime.suppressValue = (val: unknown) => {
  if (val === undefined) return "";
  if (val instanceof runtime.SafeString) return String(val);
  return pyStr(val);
};

runtime.inOperator = (item: unknown, container: unknown) => pyIn(item, container);

runtime.callWrap = (obj: unknown, name: string, context: unknown, args: unknown[]) => {
  if (isUndefined(obj)) (obj as UndefinedT).fail();
  if (typeof obj !== "function") throw new TemplateError(`"${name}" is not callable (it is ${typeName(obj)})`);
  return (obj as (...a: unknown[]) => unknown).apply(context, args);
};

const originalFromIterator = runtime.fromIterator;
runtime.fromIterator = (value: unknown) => {
  if (isUndefined(value)) (value as UndefinedT).fail();
  if (value instanceof Secret) return unwrapSecret(value);
  return originalFromIterator(value);
};

runtime.contextOrFrameLookup = (context: Any, frame: Any, name: string) => {
  const fromFrame = frame.lookup(name);
  if (fromFrame !== undefined) return fromFrame;
  if (Object.hasOwn(context.ctx, name)) return context.ctx[name];
  if (active.source) return active.source.lookup(name);
  return context.lookup(name);
};

runtime.memberLookup = function (obj: unknown, key: unknown, stop?: unknown, step?: unknown) {
  if (arguments.length === 4) return sliceLookup(obj, key, stop, step);
  return memberLookup(obj, key, stop === "subscript" ? "subscript" : false);
};

/** Python's obj[start:stop:step] for lists and strings. */
function sliceLookup(obj: unknown, start: unknown, stop: unknown, step: unknown): unknown {
  if (isUndefined(obj)) (obj as UndefinedT).fail();
  obj = unwrapSecret(obj);
  const seq = typeof obj === "string" ? [...obj] : Array.isArray(obj) ? obj : undefined;
  if (!seq) throw new TemplateError(`Cannot slice ${typeName(obj)}`);
  const n = seq.length;
  const s = step === null || step === undefined ? 1 : Number(step);
  if (s === 0) throw new TemplateError("slice step cannot be zero");
  const norm = (v: unknown, dflt: number) => {
    if (v === null || v === undefined) return dflt;
    let i = Number(v);
    if (i < 0) i += n;
    return s > 0 ? Math.min(Math.max(i, 0), n) : Math.min(Math.max(i, -1), n - 1);
  };
  const from = norm(start, s > 0 ? 0 : n - 1);
  const to = norm(stop, s > 0 ? n : -1);
  const out: unknown[] = [];
  for (let i = from; s > 0 ? i < to : i > to; i += s) out.push(seq[i]);
  return typeof obj === "string" ? out.join("") : out;
}

/**
 * `obj.key` as Jinja: methods first (`d.items`), then items; missing gives Undefined.
 * `preferItem` true (filters' attribute=, as Ansible's item[key]): keys only, so a key named
 * `keys` is the value; "subscript" (`obj['key']`): the key first, then the method, as Jinja.
 */
export function memberLookup(obj: unknown, key: unknown, preferItem: boolean | "subscript" = false): unknown {
  if (isUndefined(obj)) return obj; // Ansible keeps the first undefined: a.b.c | default(1) works
  if (obj instanceof Secret) obj = unwrapSecret(obj);
  // A module's result (unsafe.ts) is data: its strings are never rendered.
  const resolve = (v: unknown, label: string) => (active.source && !isUnsafe(obj) ? active.source.resolveMember(v, label) : v);
  if (obj === null || obj === undefined) return new Undefined(String(key), `"None" has no attribute "${String(key)}"`);
  if (typeof obj === "string") {
    if (typeof key === "number") return obj.at(key) ?? new Undefined(String(key), `string index ${key} out of range`);
    if (typeof key === "string") {
      const m = stringMethod(obj, key);
      if (m) return m;
    }
    return new Undefined(String(key), `'str object' has no attribute "${String(key)}"`);
  }
  if (Array.isArray(obj)) {
    if (typeof key === "number" || (typeof key === "string" && /^-?\d+$/.test(key))) {
      const i = Number(key);
      const at = i < 0 ? obj.length + i : i;
      if (at < 0 || at >= obj.length) return new Undefined(String(key), `list index ${key} out of range (length ${obj.length})`);
      return resolve(obj[at], `[${at}]`);
    }
    const m = listMethod(obj, String(key));
    if (m) return m;
    return new Undefined(String(key), `'list object' has no attribute "${String(key)}"`);
  }
  if (typeof obj === "object") {
    const o = obj as Record<string, unknown>;
    const k = String(key);
    if (isMapping(o) && Object.getPrototypeOf(o) === Object.prototype || Object.getPrototypeOf(o) === null) {
      if (preferItem === "subscript" && Object.hasOwn(o, k)) return resolve(o[k], `.${k}`);
      if (preferItem === true) {
        return Object.hasOwn(o, k) ? resolve(o[k], `.${k}`) : new Undefined(k, `Undefined attribute "${k}" (the dict has no key "${k}")`);
      }
      const m = dictMethod(o, k, (name) => resolve(o[name], `.${name}`));
      if (m) return m;
      if (Object.hasOwn(o, k)) return resolve(o[k], `.${k}`);
      return new Undefined(k, `Undefined attribute "${k}" (the dict has no key "${k}")`);
    }
    // Class instances and proxies (e.g. a lazy hostvars): properties and methods as they are.
    if (k in o) {
      const v = o[k];
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(o) : resolve(v, `.${k}`);
    }
    return new Undefined(k, `Undefined attribute "${k}"`);
  }
  return new Undefined(String(key), `'${typeName(obj)} object' has no attribute "${String(key)}"`);
}

// Compiler: emit Python semantics instead of JavaScript operators.
Compiler.compileOr = function (this: Any, node: Any, frame: Any) {
  this._emit("runtime.__or(");
  this.compile(node.left, frame);
  this._emit(", function() { return ");
  this.compile(node.right, frame);
  this._emit("; })");
};
Compiler.compileAnd = function (this: Any, node: Any, frame: Any) {
  this._emit("runtime.__and(");
  this.compile(node.left, frame);
  this._emit(", function() { return ");
  this.compile(node.right, frame);
  this._emit("; })");
};
Compiler.compileNot = function (this: Any, node: Any, frame: Any) {
  this._emit("!runtime.__truthy(");
  this.compile(node.target, frame);
  this._emit(")");
};
Compiler.compileInlineIf = function (this: Any, node: Any, frame: Any) {
  if (node.__loopNames) return compileLoopFilter.call(this, node, frame);
  this._emit("(runtime.__truthy(");
  this.compile(node.cond, frame);
  this._emit(") ? ");
  this.compile(node.body, frame);
  this._emit(" : ");
  if (node.else_ !== null) this.compile(node.else_, frame);
  else this._emit('""');
  this._emit(")");
};
/**
 * The kept items of a filtered loop, as a list (so loop.index/length/else count only those):
 * `runtime.__loopFilter(items, names, function(item) { var x = item; return cond; })`, the
 * names bound only inside the condition.
 */
function compileLoopFilter(this: Any, node: Any, frame: Any) {
  const names: Any[] = node.__loopNames instanceof nodes.Array ? node.__loopNames.children : [node.__loopNames];
  const item = this._tmpid();
  const inner = frame.push();
  this._emit("runtime.__loopFilter(");
  this.compile(node.body, frame);
  this._emit(`, ${names.length}, function(${item}) { `);
  names.forEach((name, u) => {
    const id = this._tmpid();
    this._emit(`var ${id} = ${names.length > 1 ? `${item}[${u}]` : item}; `);
    inner.set(name.value, id);
  });
  this._emit("return runtime.__truthy(");
  this.compile(node.cond, inner);
  this._emit("); })");
}
runtime.__loopFilter = (value: unknown, names: number, keep: (item: unknown) => boolean) => {
  if (isUndefined(value)) (value as UndefinedT).fail();
  value = unwrapSecret(value);
  if (value === null || value === undefined) return [];
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (typeof value === "string") items = [...value];
  else if (isMapping(value)) items = names > 1 ? Object.entries(value) : Object.keys(value);
  else throw new TemplateError(`Cannot loop over ${typeName(value)}`);
  return items.filter(keep);
};
const binary = (helper: string) =>
  function (this: Any, node: Any, frame: Any) {
    this._emit(`runtime.${helper}(`);
    this.compile(node.left, frame);
    this._emit(", ");
    this.compile(node.right, frame);
    this._emit(")");
  };
Compiler.compileAdd = binary("__add");
Compiler.compileMul = binary("__mul");
Compiler.compileMod = binary("__mod");
Compiler.compileConcat = binary("__concat");
Compiler.compileCompare = function (this: Any, node: Any, frame: Any) {
  this._emit("runtime.__cmp(");
  this.compile(node.expr, frame);
  for (const op of node.ops) {
    this._emit(`, ${JSON.stringify(op.type)}, `);
    this.compile(op.expr, frame);
  }
  this._emit(")");
};
// nunjucks emits a test's arguments without commas between them (`is version('1', 'ge')`).
Compiler.compileIs = function (this: Any, node: Any, frame: Any) {
  const name = dottedName(node.right.args ? node.right.name : node.right);
  this._emit(`env.getTest(${JSON.stringify(name)}).call(context, `);
  this.compile(node.left, frame);
  for (const arg of node.right.args?.children ?? []) {
    this._emit(", ");
    this.compile(arg, frame);
  }
  this._emit(") === true");
};
/** `match` or `ansible.builtin.match` from the parsed test name. */
function dottedName(node: Any): string {
  if (node instanceof nodes.LookupVal) return `${dottedName(node.target)}.${node.val.value}`;
  return String(node.value);
}
// Jinja tuples: `('a', 1)` is a list here (nunjucks would emit JavaScript's comma operator).
const originalCompileGroup = Compiler.compileGroup;
Compiler.compileGroup = function (this: Any, node: Any, frame: Any) {
  if (node.children.length > 1) return this._compileAggregate(node, frame, "[", "]");
  return originalCompileGroup.call(this, node, frame);
};
// `{% for k in mapping %}` iterates keys as in Jinja (nunjucks would iterate nothing).
const originalCompileFor = Compiler.compileFor;
Compiler.compileFor = function (this: Any, node: Any, frame: Any) {
  if (!(node.name instanceof nodes.Array) && !node.__pyKeys) {
    node.__pyKeys = true;
    node.arr = new nodes.FunCall(node.lineno, node.colno, new nodes.Symbol(node.lineno, node.colno, "__iterable"), new nodes.NodeList(node.lineno, node.colno, [node.arr]));
  }
  return originalCompileFor.call(this, node, frame);
};
const originalCompileIf = Compiler.compileIf;
Compiler.compileIf = function (this: Any, node: Any, frame: Any, async: boolean) {
  // Wrap the condition in a call to __truthy by rewriting the node (once).
  if (!node.__pyTruth) {
    node.__pyTruth = true;
    node.cond = new nodes.FunCall(node.lineno, node.colno, new nodes.Symbol(node.lineno, node.colno, "__truthy"), new nodes.NodeList(node.lineno, node.colno, [node.cond]));
  }
  return originalCompileIf.call(this, node, frame, async);
};

/** Loads include/import/extends targets through the active Templar's search paths. */
class ActiveLoader extends (nunjucks.Loader as Any) {
  getSource(name: string) {
    if (!active.source) throw new TemplateError(`Cannot include "${name}": no template search path`);
    const { src, path } = active.source.loadTemplate(name);
    return { src, path, noCache: true };
  }
}

/**
 * Templates nested in one another (include, extends). A template that includes itself would
 * recurse until the stack overflows, and every level would add its path to the message (megabytes);
 * a bound stops it early with the chain of names.
 */
export const MAX_TEMPLATE_NESTING = 50;
const rendering: string[] = [];
const TemplateProto = (nunjucks as Any).Template.prototype;
const originalRender = TemplateProto.render;
TemplateProto.render = function (this: Any, ctx: Any, parentFrame: Any, cb: Any) {
  const name = String(this.path ?? this.tmplName ?? "template");
  if (rendering.length >= MAX_TEMPLATE_NESTING) {
    const chain = [...rendering, name];
    const shown = [...chain.slice(0, 3), `… ${chain.length - 6} more …`, ...chain.slice(-3)];
    const err = new TemplateError(`Templates nested more than ${MAX_TEMPLATE_NESTING} deep: ${shown.join(" → ")}`, {
      hint: "A template that includes itself (directly or through others) needs a condition that ends it.",
    });
    const callback = typeof parentFrame === "function" ? parentFrame : cb;
    if (callback) return callback(err);
    throw err;
  }
  rendering.push(name);
  try {
    return originalRender.call(this, ctx, parentFrame, cb);
  } finally {
    rendering.pop();
  }
};

/** The one environment: autoescape off, trim_blocks on, lstrip_blocks off, as Ansible's template module. */
export const environment: Any = new nunjucks.Environment(new ActiveLoader() as Any, {
  autoescape: false,
  trimBlocks: true,
  lstripBlocks: false,
  throwOnUndefined: false,
  dev: true,
});
environment.addGlobal("__truthy", truthy);
environment.addGlobal("__iterable", (v: unknown) => {
  if (isUndefined(v)) (v as UndefinedT).fail();
  if (v instanceof Secret) return unwrapSecret(v);
  return isMapping(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null) ? Object.keys(v) : v;
});

/** Compiled templates by environment (its options) and source text. */
const compiledBy = new Map<Any, Map<string, Any>>();

// Jinja's test arguments without parentheses (`x is in list`, `n is divisibleby 3`), which nunjucks
// cannot parse: rewritten to the call form.
const BARE_TEST_ARGUMENT =
  /\bis(\s+not)?\s+(?!not\b)([A-Za-z_]\w*)\s+(?!(?:and|or|if|else|is|not)\b)('[^']*'|"[^"]*"|-?\d+(?:\.\d+)?|\[[^\]]*\]|[A-Za-z_][\w.]*(?:\[[^\]]*\])*)/g;

/** Applies `fn` to the inside of each `{{ }}` and `{% %}` tag only (never to the template's text). */
function inCode(source: string, fn: (code: string) => string): string {
  return source.replace(/(\{\{|\{%)([\s\S]*?)(\}\}|%\})/g, (_m, open: string, code: string, close: string) => open + fn(code) + close);
}

/**
 * Brackets nested in one expression. nunjucks' parser takes exponential time once a deeply
 * nested expression overflows its stack (hundreds of levels), so such a template is refused first.
 */
export const MAX_EXPRESSION_NESTING = 100;

function checkExpressionNesting(source: string): void {
  let opening = 0;
  for (let i = 0; i < source.length && opening <= MAX_EXPRESSION_NESTING; i++) if ("[({".includes(source[i])) opening++;
  if (opening <= MAX_EXPRESSION_NESTING) return; // cannot nest that deep: the usual case
  inCode(source, (code) => {
    let depth = 0;
    for (const c of code) {
      if (c === "[" || c === "(" || c === "{") depth++;
      else if (c === "]" || c === ")" || c === "}") depth--;
      if (depth > MAX_EXPRESSION_NESTING) {
        throw new TemplateError(`Template expression nested more than ${MAX_EXPRESSION_NESTING} levels deep`, {
          hint: "Nothing needs that depth in a template: build the data in YAML (vars) instead.",
        });
      }
    }
    return code;
  });
}

/** Jinja's block whitespace options (the template module's trim_blocks/lstrip_blocks, a `#jinja2:` header). */
export interface BlockWhitespace {
  trimBlocks: boolean;
  lstripBlocks: boolean;
}

/** How a template is compiled: its whitespace options, and whether it is a playbook's string (see _parseString). */
export interface CompileOptions extends BlockWhitespace {
  verbatimVariableStrings?: boolean;
}

const DEFAULT_WHITESPACE: BlockWhitespace = { trimBlocks: true, lstripBlocks: false };
const environments = new Map<string, Any>();

/**
 * The environment with other options: nunjucks reads them from env.opts when it compiles, so
 * a child of the one environment (same filters, tests, globals) with its own opts.
 */
function environmentFor(o: CompileOptions): Any {
  const verbatim = o.verbatimVariableStrings === true;
  if (o.trimBlocks === DEFAULT_WHITESPACE.trimBlocks && o.lstripBlocks === DEFAULT_WHITESPACE.lstripBlocks && !verbatim) return environment;
  const key = `${o.trimBlocks}/${o.lstripBlocks}/${verbatim}`;
  let env = environments.get(key);
  if (!env) {
    env = Object.create(environment);
    env.opts = { ...environment.opts, trimBlocks: o.trimBlocks, lstripBlocks: o.lstripBlocks, verbatimVariableStrings: verbatim };
    environments.set(key, env);
  }
  return env;
}

/** Compiles (once per distinct source text and options) a template. */
export function compile(source: string, name: string, options: CompileOptions = DEFAULT_WHITESPACE): Any {
  const env = environmentFor(options);
  let compiled = compiledBy.get(env);
  if (!compiled) compiledBy.set(env, (compiled = new Map()));
  let t = compiled.get(source);
  if (!t) {
    checkExpressionNesting(source);
    // Jinja's lstrip_blocks strips before a comment tag too; nunjucks only before a block tag.
    const stripped = options.lstripBlocks ? source.replace(/^[ \t]+(?=\{#(?!\+))/gm, "") : source;
    const text = /\bis\s/.test(stripped) ? inCode(stripped, (code) => code.replace(BARE_TEST_ARGUMENT, (_m, not: string | undefined, test: string, arg: string) => `is${not ?? ""} ${test}(${arg})`)) : stripped;
    t = new nunjucks.Template(text, env, name, true);
    if (compiled.size > 20000) compiled.clear();
    compiled.set(source, t);
  }
  return t;
}

/** The user-facing error inside a nunjucks error (ours are kept as they are). */
export function unwrapError(e: unknown): Error {
  let cur: unknown = e;
  // Each nested template wraps the error once more (bounded by MAX_TEMPLATE_NESTING).
  for (let depth = 0; cur && depth < 4 * MAX_TEMPLATE_NESTING; depth++) {
    if (cur instanceof TemplateError) return cur;
    if (cur instanceof Error && cur.name === "UserError") return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return e as Error;
}
