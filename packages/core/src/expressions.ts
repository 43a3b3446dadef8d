/**
 * The `${{ … }}` expression language of pipeline specs, and its evaluator.
 *
 * Specs come from other teams over the network, so expressions are parsed by a small
 * tokenizer and recursive-descent parser and evaluated by walking the AST: never `eval`,
 * never `Function`. The language has no calls, no assignment, and no way to reach a
 * prototype: path segments `__proto__`, `constructor` and `prototype` are refused at parse
 * time, and lookups read own properties only. Length and nesting are bounded so that one
 * hostile expression cannot exhaust the stack or the CPU.
 *
 * Grammar (lowest precedence first):
 * ```
 * or         := and ('||' and)*
 * and        := equality ('&&' equality)*
 * equality   := comparison (('==' | '!=') comparison)*
 * comparison := additive (('<' | '<=' | '>' | '>=') additive)*
 * additive   := multiplicative (('+' | '-') multiplicative)*
 * multiplicative := unary (('*' | '/') unary)*
 * unary      := ('!' | '-') unary | primary
 * primary    := number | string | 'true' | 'false' | 'null' | '(' or ')' | path
 * path       := identifier ('.' identifier | '[' (number | string) ']')*
 * ```
 */

/** Longest accepted source of one expression, in characters. @defaultValue 1000 */
export const MAX_EXPRESSION_LENGTH = 1_000;
/** Deepest accepted AST (nested parentheses, unary operators and operator chains). */
export const MAX_EXPRESSION_DEPTH = 32;

/** Segments that would reach an object's prototype machinery; refused everywhere. */
const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export type PathSegment = string | number;
export type UnaryOperator = '!' | '-';
export type BinaryOperator = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/';

/** A parsed expression. `pos` is the offset of the node in the expression source. */
export type ExpressionNode =
  | { kind: 'literal'; value: string | number | boolean | null; pos: number }
  | { kind: 'path'; segments: PathSegment[]; pos: number }
  | { kind: 'unary'; op: UnaryOperator; operand: ExpressionNode; pos: number }
  | { kind: 'binary'; op: BinaryOperator; left: ExpressionNode; right: ExpressionNode; pos: number };

/** Names an expression may read: `params`, `matrix`, `stages`, … mapped to plain data. */
export type ExpressionScope = Readonly<Record<string, unknown>>;

/**
 * A syntax or evaluation error. `position` is a character offset into the expression (or,
 * from `interpolate`/`parseTemplate`, into the whole string); `path` locates the string inside
 * the value given to `interpolate`.
 */
export class ExpressionError extends Error {
  readonly position: number;
  readonly path: PathSegment[];
  /** The message without the position suffix. */
  readonly reason: string;

  constructor(reason: string, position: number, path: PathSegment[] = []) {
    super(`${reason} (at position ${position})`);
    this.name = 'ExpressionError';
    this.reason = reason;
    this.position = position;
    this.path = path;
  }

  /** The same error, located `offset` characters further and at `path`. */
  relocate(offset: number, path: PathSegment[]): ExpressionError {
    return new ExpressionError(this.reason, this.position + offset, path);
  }
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

type Token =
  | { t: 'num'; value: number; pos: number }
  | { t: 'str'; value: string; pos: number }
  | { t: 'ident'; value: string; pos: number }
  | { t: 'punct'; value: string; pos: number }
  | { t: 'eof'; pos: number };

const TWO_CHAR_PUNCT: ReadonlySet<string> = new Set(['&&', '||', '==', '!=', '<=', '>=']);
// ',' is no operator; it is a token only so that `f(a, b)` is reported as a call.
const ONE_CHAR_PUNCT: ReadonlySet<string> = new Set(['!', '<', '>', '+', '-', '*', '/', '(', ')', '[', ']', '.', ',']);
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r' };

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}
function isIdentStart(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_');
}
function isIdentPart(c: string | undefined): boolean {
  return isIdentStart(c) || isDigit(c);
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (isDigit(c)) {
      while (isDigit(src[i])) i++;
      if (src[i] === '.' && isDigit(src[i + 1])) {
        i++;
        while (isDigit(src[i])) i++;
      }
      if (src[i] === 'e' || src[i] === 'E') {
        let j = i + 1;
        if (src[j] === '+' || src[j] === '-') j++;
        if (!isDigit(src[j])) throw new ExpressionError('malformed number exponent', start);
        i = j;
        while (isDigit(src[i])) i++;
      }
      if (isIdentStart(src[i])) throw new ExpressionError(`unexpected character '${src[i]}' after number`, i);
      const value = Number(src.slice(start, i));
      if (!Number.isFinite(value)) throw new ExpressionError('number out of range', start);
      tokens.push({ t: 'num', value, pos: start });
      continue;
    }
    if (c === "'" || c === '"') {
      i++;
      let value = '';
      for (;;) {
        const d = src[i];
        if (d === undefined) throw new ExpressionError('unterminated string', start);
        if (d === c) {
          i++;
          break;
        }
        if (d === '\\') {
          const e = src[i + 1];
          const mapped = e === undefined ? undefined : ESCAPES[e];
          if (mapped === undefined) throw new ExpressionError(`unknown escape '\\${e ?? ''}' in string`, i);
          value += mapped;
          i += 2;
          continue;
        }
        value += d;
        i++;
      }
      tokens.push({ t: 'str', value, pos: start });
      continue;
    }
    if (isIdentStart(c)) {
      while (isIdentPart(src[i])) i++;
      tokens.push({ t: 'ident', value: src.slice(start, i), pos: start });
      continue;
    }
    const two = src.slice(i, i + 2);
    if (TWO_CHAR_PUNCT.has(two)) {
      tokens.push({ t: 'punct', value: two, pos: start });
      i += 2;
      continue;
    }
    if (ONE_CHAR_PUNCT.has(c)) {
      tokens.push({ t: 'punct', value: c, pos: start });
      i++;
      continue;
    }
    if (c === '=') throw new ExpressionError("unexpected '='; use '==' to compare", start);
    if (c === '&' || c === '|') throw new ExpressionError(`unexpected '${c}'; use '${c}${c}'`, start);
    throw new ExpressionError(`unexpected character '${c}'`, start);
  }
  tokens.push({ t: 'eof', pos: src.length });
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Parser

const BINARY_LEVELS: readonly (readonly BinaryOperator[])[] = [
  ['||'],
  ['&&'],
  ['==', '!='],
  ['<', '<=', '>', '>='],
  ['+', '-'],
  ['*', '/'],
];

function describe(token: Token): string {
  switch (token.t) {
    case 'eof':
      return 'end of expression';
    case 'str':
      return `string ${JSON.stringify(token.value)}`;
    case 'num':
      return `number ${token.value}`;
    default:
      return `'${token.value}'`;
  }
}

class Parser {
  private index = 0;
  /** AST depth of each node built so far; bounds evaluation recursion as well as parsing. */
  private readonly depth = new Map<ExpressionNode, number>();

  constructor(private readonly tokens: Token[]) {}

  parse(): ExpressionNode {
    const node = this.parseLevel(0, 0);
    const next = this.peek();
    if (next.t !== 'eof') {
      if (next.t === 'punct' && next.value === '(') {
        throw new ExpressionError('function calls are not allowed', next.pos);
      }
      throw new ExpressionError(`unexpected ${describe(next)}`, next.pos);
    }
    return node;
  }

  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private next(): Token {
    const token = this.tokens[this.index] as Token;
    if (token.t !== 'eof') this.index++;
    return token;
  }

  private isPunct(value: string): boolean {
    const token = this.peek();
    return token.t === 'punct' && token.value === value;
  }

  private track(node: ExpressionNode, depth: number): ExpressionNode {
    if (depth > MAX_EXPRESSION_DEPTH) {
      throw new ExpressionError(`expression nested deeper than ${MAX_EXPRESSION_DEPTH} levels`, node.pos);
    }
    this.depth.set(node, depth);
    return node;
  }

  private depthOf(node: ExpressionNode): number {
    return this.depth.get(node) ?? 1;
  }

  /** `nesting` counts open parentheses and unary operators, so the parser's own stack is bounded. */
  private parseLevel(level: number, nesting: number): ExpressionNode {
    if (level >= BINARY_LEVELS.length) return this.parseUnary(nesting);
    const ops = BINARY_LEVELS[level] as readonly BinaryOperator[];
    let left = this.parseLevel(level + 1, nesting);
    for (;;) {
      const token = this.peek();
      if (token.t !== 'punct' || !(ops as readonly string[]).includes(token.value)) return left;
      this.next();
      const right = this.parseLevel(level + 1, nesting);
      const node: ExpressionNode = { kind: 'binary', op: token.value as BinaryOperator, left, right, pos: token.pos };
      left = this.track(node, Math.max(this.depthOf(left), this.depthOf(right)) + 1);
    }
  }

  private parseUnary(nesting: number): ExpressionNode {
    const token = this.peek();
    if (token.t === 'punct' && (token.value === '!' || token.value === '-')) {
      if (nesting >= MAX_EXPRESSION_DEPTH) {
        throw new ExpressionError(`expression nested deeper than ${MAX_EXPRESSION_DEPTH} levels`, token.pos);
      }
      this.next();
      const operand = this.parseUnary(nesting + 1);
      const node: ExpressionNode = { kind: 'unary', op: token.value, operand, pos: token.pos };
      return this.track(node, this.depthOf(operand) + 1);
    }
    return this.parsePrimary(nesting);
  }

  private parsePrimary(nesting: number): ExpressionNode {
    const token = this.next();
    switch (token.t) {
      case 'num':
        return this.track({ kind: 'literal', value: token.value, pos: token.pos }, 1);
      case 'str':
        return this.track({ kind: 'literal', value: token.value, pos: token.pos }, 1);
      case 'ident': {
        if (token.value === 'true' || token.value === 'false') {
          return this.track({ kind: 'literal', value: token.value === 'true', pos: token.pos }, 1);
        }
        if (token.value === 'null') return this.track({ kind: 'literal', value: null, pos: token.pos }, 1);
        return this.parsePath(token.value, token.pos);
      }
      case 'punct': {
        if (token.value === '(') {
          if (nesting >= MAX_EXPRESSION_DEPTH) {
            throw new ExpressionError(`expression nested deeper than ${MAX_EXPRESSION_DEPTH} levels`, token.pos);
          }
          const inner = this.parseLevel(0, nesting + 1);
          const close = this.next();
          if (close.t !== 'punct' || close.value !== ')') {
            throw new ExpressionError(`expected ')' but found ${describe(close)}`, close.pos);
          }
          return inner;
        }
        throw new ExpressionError(`unexpected ${describe(token)}`, token.pos);
      }
      case 'eof':
        throw new ExpressionError('unexpected end of expression', token.pos);
    }
  }

  private parsePath(root: string, pos: number): ExpressionNode {
    checkSegment(root, pos);
    const segments: PathSegment[] = [root];
    for (;;) {
      if (this.isPunct('.')) {
        this.next();
        const name = this.next();
        if (name.t !== 'ident') throw new ExpressionError(`expected a name after '.' but found ${describe(name)}`, name.pos);
        checkSegment(name.value, name.pos);
        segments.push(name.value);
        continue;
      }
      if (this.isPunct('[')) {
        this.next();
        const key = this.next();
        if (key.t === 'num') {
          if (!Number.isSafeInteger(key.value) || key.value < 0) {
            throw new ExpressionError('an index must be a non-negative integer', key.pos);
          }
          segments.push(key.value);
        } else if (key.t === 'str') {
          checkSegment(key.value, key.pos);
          segments.push(key.value);
        } else {
          throw new ExpressionError(`an index must be a number or string literal, found ${describe(key)}`, key.pos);
        }
        const close = this.next();
        if (close.t !== 'punct' || close.value !== ']') {
          throw new ExpressionError(`expected ']' but found ${describe(close)}`, close.pos);
        }
        continue;
      }
      if (this.isPunct('(')) throw new ExpressionError('function calls are not allowed', this.peek().pos);
      return this.track({ kind: 'path', segments, pos }, 1);
    }
  }
}

function checkSegment(segment: string, pos: number): void {
  if (FORBIDDEN_SEGMENTS.has(segment)) throw new ExpressionError(`'${segment}' may not be accessed`, pos);
}

/** Parses one expression (the text between `${{` and `}}`). Throws ExpressionError. */
export function parseExpression(src: string): ExpressionNode {
  if (src.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionError(`expression longer than ${MAX_EXPRESSION_LENGTH} characters`, 0);
  }
  const tokens = tokenize(src);
  if (tokens.length === 1) throw new ExpressionError('empty expression', 0);
  return new Parser(tokens).parse();
}

// ---------------------------------------------------------------------------------------------
// Evaluation

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** JavaScript truthiness, restricted to JSON values: false, null, 0, NaN and '' are false. */
export function isTruthy(value: unknown): boolean {
  return Boolean(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

function resolvePath(segments: readonly PathSegment[], scope: ExpressionScope): unknown {
  let current: unknown = scope;
  for (const segment of segments) {
    if (Array.isArray(current)) {
      current = typeof segment === 'number' && segment < current.length ? current[segment] : undefined;
    } else if (isRecord(current)) {
      const key = String(segment);
      current = Object.hasOwn(current, key) ? current[key] : undefined;
    } else {
      return null;
    }
  }
  // Functions never leave the evaluator: nothing in the language could call them anyway.
  return current === undefined || typeof current === 'function' ? null : current;
}

function evaluate(node: ExpressionNode, scope: ExpressionScope): unknown {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'path':
      return resolvePath(node.segments, scope);
    case 'unary': {
      const operand = evaluate(node.operand, scope);
      if (node.op === '!') return !isTruthy(operand);
      if (typeof operand !== 'number') throw new ExpressionError(`cannot negate ${typeName(operand)}`, node.pos);
      return -operand;
    }
    case 'binary':
      return evaluateBinary(node.op, node.left, node.right, node.pos, scope);
  }
}

function evaluateBinary(
  op: BinaryOperator,
  leftNode: ExpressionNode,
  rightNode: ExpressionNode,
  pos: number,
  scope: ExpressionScope,
): unknown {
  const left = evaluate(leftNode, scope);
  // Short-circuit like JavaScript: `params.label || 'default'` returns the operand.
  if (op === '&&') return isTruthy(left) ? evaluate(rightNode, scope) : left;
  if (op === '||') return isTruthy(left) ? left : evaluate(rightNode, scope);
  const right = evaluate(rightNode, scope);
  switch (op) {
    case '==':
      return deepEqual(left, right);
    case '!=':
      return !deepEqual(left, right);
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const bothNumbers = typeof left === 'number' && typeof right === 'number';
      const bothStrings = typeof left === 'string' && typeof right === 'string';
      if (!bothNumbers && !bothStrings) {
        throw new ExpressionError(`cannot compare ${typeName(left)} with ${typeName(right)} using '${op}'`, pos);
      }
      const l = left as number | string;
      const r = right as number | string;
      return op === '<' ? l < r : op === '<=' ? l <= r : op === '>' ? l > r : l >= r;
    }
    case '+': {
      if (typeof left === 'number' && typeof right === 'number') return finite(left + right, pos);
      if ((typeof left === 'string' || typeof right === 'string') && concatenable(left) && concatenable(right)) {
        return String(left) + String(right);
      }
      throw new ExpressionError(`cannot add ${typeName(left)} and ${typeName(right)}`, pos);
    }
    case '-':
    case '*':
    case '/': {
      if (typeof left !== 'number' || typeof right !== 'number') {
        throw new ExpressionError(`'${op}' needs two numbers, got ${typeName(left)} and ${typeName(right)}`, pos);
      }
      if (op === '/' && right === 0) throw new ExpressionError('division by zero', pos);
      return finite(op === '-' ? left - right : op === '*' ? left * right : left / right, pos);
    }
  }
}

function concatenable(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** Results must stay JSON-representable: Infinity and NaN would not survive storage. */
function finite(value: number, pos: number): number {
  if (!Number.isFinite(value)) throw new ExpressionError('arithmetic result is not a finite number', pos);
  return value;
}

/**
 * Evaluates a parsed expression against plain data. A path that does not exist yields null;
 * a type error (comparing a string with a number, dividing by zero) throws ExpressionError.
 */
export function evaluateExpression(ast: ExpressionNode, scope: ExpressionScope): unknown {
  return evaluate(ast, scope);
}

/** Every path the expression reads, e.g. `[['params', 'testSize'], ['stages', 'eval', 'metrics', 'f1']]`. */
export function referencedPaths(ast: ExpressionNode): PathSegment[][] {
  const paths: PathSegment[][] = [];
  const pending: ExpressionNode[] = [ast];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    switch (node.kind) {
      case 'path':
        paths.push([...node.segments]);
        break;
      case 'unary':
        pending.push(node.operand);
        break;
      case 'binary':
        pending.push(node.right, node.left);
        break;
      case 'literal':
        break;
    }
  }
  return paths;
}

// ---------------------------------------------------------------------------------------------
// Templates: strings with embedded `${{ … }}`

/** A string split into literal text and parsed expressions; `pos` is the offset of `${{`. */
export type TemplatePart =
  | { kind: 'text'; value: string }
  | { kind: 'expression'; source: string; ast: ExpressionNode; pos: number };

const OPEN = '${{';
const CLOSE = '}}';

/** Whether a string contains an expression at all; the cheap test before `parseTemplate`. */
export function hasExpression(text: string): boolean {
  return text.includes(OPEN);
}

/**
 * Splits a string into text and `${{ … }}` expressions. The closing `}}` is the first one
 * outside a quoted string, so `${{ '}}' }}` works. Throws ExpressionError with a position in
 * `text`.
 */
export function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let cursor = 0;
  for (;;) {
    const open = text.indexOf(OPEN, cursor);
    if (open === -1) {
      if (cursor < text.length) parts.push({ kind: 'text', value: text.slice(cursor) });
      return parts;
    }
    if (open > cursor) parts.push({ kind: 'text', value: text.slice(cursor, open) });
    const bodyStart = open + OPEN.length;
    const close = findClose(text, bodyStart);
    if (close === -1) throw new ExpressionError("'${{' without a matching '}}'", open);
    const source = text.slice(bodyStart, close);
    let ast: ExpressionNode;
    try {
      ast = parseExpression(source);
    } catch (error) {
      if (error instanceof ExpressionError) throw error.relocate(bodyStart, []);
      throw error;
    }
    parts.push({ kind: 'expression', source, ast, pos: open });
    cursor = close + CLOSE.length;
  }
}

function findClose(text: string, from: number): number {
  let quote: string | undefined;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '}' && text[i + 1] === '}') {
      return i;
    }
  }
  return -1;
}

/** How an expression's value reads inside a longer string: strings as-is, the rest as JSON. */
function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value ?? null);
}

/**
 * Parsed templates by source text. A large pipeline repeats the same few strings
 * (`${{ params.seed }}` in every stage), so each is parsed once. The parts are frozen because
 * they are shared; the cache is dropped whole when full, which bounds its memory.
 */
const templateCache = new Map<string, readonly TemplatePart[]>();
const TEMPLATE_CACHE_SIZE = 1_000;

/** `parseTemplate`, memoized; the result is shared and must not be changed. */
export function parseTemplateCached(text: string): readonly TemplatePart[] {
  let parts = templateCache.get(text);
  if (parts === undefined) {
    parts = Object.freeze(parseTemplate(text));
    if (templateCache.size >= TEMPLATE_CACHE_SIZE) templateCache.clear();
    templateCache.set(text, parts);
  }
  return parts;
}

function evaluateTemplate(text: string, scope: ExpressionScope, path: PathSegment[]): unknown {
  let parts: readonly TemplatePart[];
  try {
    parts = parseTemplateCached(text);
  } catch (error) {
    if (error instanceof ExpressionError) throw error.relocate(0, path);
    throw error;
  }
  const only = parts[0];
  // Exactly one expression and nothing else: keep its type, so `"${{ params.testSize }}"` is 0.3.
  if (parts.length === 1 && only !== undefined && only.kind === 'expression') return evaluatePart(only, scope, path);
  let out = '';
  for (const part of parts) out += part.kind === 'text' ? part.value : stringify(evaluatePart(part, scope, path));
  return out;
}

function evaluatePart(part: TemplatePart & { kind: 'expression' }, scope: ExpressionScope, path: PathSegment[]): unknown {
  try {
    return evaluate(part.ast, scope);
  } catch (error) {
    if (error instanceof ExpressionError) throw error.relocate(part.pos + OPEN.length, path);
    throw error;
  }
}

/** Sets a key without ever invoking the `__proto__` setter of a plain object. */
function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * Resolves every `${{ … }}` in a JSON-like value. A string that is exactly one expression
 * becomes the expression's value (any type); a string with embedded expressions becomes a
 * string; arrays and plain objects are copied with their members resolved; anything else is
 * returned unchanged. Throws ExpressionError whose `path` locates the failing string.
 */
export function interpolate(value: unknown, scope: ExpressionScope): unknown {
  return interpolateAt(value, scope, [], 0);
}

/** JSON from a parsed document is finite, but a cyclic object handed in by code must not hang. */
const MAX_VALUE_DEPTH = 100;

function interpolateAt(value: unknown, scope: ExpressionScope, path: PathSegment[], depth: number): unknown {
  if (typeof value === 'string') return hasExpression(value) ? evaluateTemplate(value, scope, path) : value;
  if (depth > MAX_VALUE_DEPTH) throw new ExpressionError(`value nested deeper than ${MAX_VALUE_DEPTH} levels`, 0, path);
  if (Array.isArray(value)) return value.map((item, i) => interpolateAt(item, scope, [...path, i], depth + 1));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      defineOwn(out, key, interpolateAt(value[key], scope, [...path, key], depth + 1));
    }
    return out;
  }
  return value;
}

/**
 * Parses a condition such as `when`: either exactly one `${{ … }}` (whitespace around it is
 * allowed) or a bare expression without the braces.
 */
export function parseCondition(text: string): ExpressionNode {
  if (!hasExpression(text)) return parseExpression(text);
  const parts = parseTemplate(text).filter((part) => part.kind === 'expression' || part.value.trim() !== '');
  const only = parts[0];
  if (parts.length !== 1 || only === undefined || only.kind !== 'expression') {
    throw new ExpressionError('a condition must be a single ${{ … }} expression', 0);
  }
  return only.ast;
}

/** Evaluates a condition (see `parseCondition`) to a boolean by truthiness. */
export function evaluateCondition(text: string, scope: ExpressionScope): boolean {
  return isTruthy(evaluateExpression(parseCondition(text), scope));
}
