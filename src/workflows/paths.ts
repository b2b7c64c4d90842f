/**
 * @module
 * JSONPath as the States language uses it. Parses a path once into segments, evaluates it
 * against the state input (`$`), the context object (`$$`) or a workflow variable (`$name`),
 * and implements Reference Paths — the restricted form used by ResultPath, which must name a
 * single node and can write into a document, creating intermediate objects.
 *
 * Supported syntax (what AWS's JSONPath accepts in practice): dot and bracket children,
 * array indexes (negative counts from the end), `*` wildcards, `..` deep scan, unions
 * `[0,2]` / `['a','b']`, slices `[start:end:step]` and filters `[?(@.price < 10 && @.x)]`
 * with == != < <= > >= =~ /regex/ ! && || and parentheses.
 *
 * A *definite* path (no wildcard, scan, union, slice or filter) yields one value; an indefinite
 * one yields an array of every match, which may be empty — the convention of the Jayway library
 * AWS's engine is built on.
 */

import { isJsonObject, jsonEqual } from './json.ts';

export type PathRoot =
  | { kind: 'input' }
  | { kind: 'context' }
  | { kind: 'variable'; name: string }
  | { kind: 'current' };

export type Segment =
  | { kind: 'child'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'wildcard' }
  | { kind: 'union'; keys: Array<string | number> }
  | { kind: 'slice'; start: number | undefined; end: number | undefined; step: number | undefined }
  | { kind: 'filter'; expr: FilterExpr }
  | { kind: 'scan'; inner: Segment };

export type FilterExpr =
  | { kind: 'or'; left: FilterExpr; right: FilterExpr }
  | { kind: 'and'; left: FilterExpr; right: FilterExpr }
  | { kind: 'not'; expr: FilterExpr }
  | { kind: 'compare'; op: CompareOp; left: FilterOperand; right: FilterOperand }
  | { kind: 'exists'; operand: FilterOperand };

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | '=~';

export type FilterOperand =
  | { kind: 'path'; path: ParsedPath }
  | { kind: 'literal'; value: unknown }
  | { kind: 'regex'; regex: RegExp };

export interface ParsedPath {
  readonly source: string;
  readonly root: PathRoot;
  readonly segments: readonly Segment[];
  /** True when the path can only ever select a single node. */
  readonly definite: boolean;
}

/** A path that does not parse. */
export class PathSyntaxError extends Error {
  constructor(source: string, reason: string) {
    super(`Invalid JSONPath '${source}': ${reason}`);
    this.name = 'PathSyntaxError';
  }
}

/** Evaluation found nothing at a definite path. */
export class PathNotFoundError extends Error {
  readonly path: string;
  constructor(path: string, reason = 'no value at that path') {
    super(`The JSONPath '${path}' could not be found in the input: ${reason}`);
    this.name = 'PathNotFoundError';
    this.path = path;
  }
}

/** Where a path reads from: the effective input, the context object, workflow variables. */
export interface PathScope {
  input: unknown;
  context?: unknown;
  variables?: ReadonlyMap<string, unknown> | Record<string, unknown>;
}

const cache = new Map<string, ParsedPath>();

/** Parses (and memoizes) a path. Throws {@link PathSyntaxError}. */
export function parsePath(source: string): ParsedPath {
  const hit = cache.get(source);
  if (hit !== undefined) return hit;
  const cursor = { text: source, pos: 0 };
  const parsed = readPath(cursor, false);
  skipSpaces(cursor);
  if (cursor.pos !== source.length) {
    throw new PathSyntaxError(source, `unexpected '${source.slice(cursor.pos)}'`);
  }
  if (cache.size > 2000) cache.clear();
  cache.set(source, parsed);
  return parsed;
}

/** True when `source` is a syntactically valid path (any root). */
export function isValidPath(source: string): boolean {
  try {
    parsePath(source);
    return true;
  } catch {
    return false;
  }
}

/**
 * True for a Reference Path: rooted at `$` (or a variable), made only of children and plain
 * indexes, so it names exactly one node.
 */
export function isReferencePath(source: string): boolean {
  try {
    const parsed = parsePath(source);
    return (
      (parsed.root.kind === 'input' || parsed.root.kind === 'variable') &&
      parsed.segments.every((s) => s.kind === 'child' || (s.kind === 'index' && s.index >= 0))
    );
  } catch {
    return false;
  }
}

/** Evaluates a path. Definite paths throw {@link PathNotFoundError} when nothing matches. */
export function evaluatePath(path: string | ParsedPath, scope: PathScope): unknown {
  const parsed = typeof path === 'string' ? parsePath(path) : path;
  const start = rootValue(parsed, scope);
  if (start === MISSING) {
    throw new PathNotFoundError(parsed.source, parsed.root.kind === 'variable' ? `variable '${parsed.root.name}' is not defined` : 'no value');
  }
  const matches = applySegments([start], parsed.segments, scope);
  if (parsed.definite) {
    const first = matches[0];
    if (matches.length === 0) throw new PathNotFoundError(parsed.source);
    return first;
  }
  return matches;
}

/** Like {@link evaluatePath} but answers whether anything is there instead of throwing. */
export function pathExists(path: string | ParsedPath, scope: PathScope): boolean {
  try {
    const value = evaluatePath(path, scope);
    const parsed = typeof path === 'string' ? parsePath(path) : path;
    return parsed.definite || (Array.isArray(value) && value.length > 0);
  } catch (error) {
    if (error instanceof PathNotFoundError) return false;
    throw error;
  }
}

/**
 * Writes `value` at a Reference Path inside a copy of `target` and returns the copy.
 * Intermediate objects are created where keys are missing; walking through a non-object, or an
 * index past an array's end, throws {@link PathNotFoundError} (the caller turns that into
 * States.ResultPathMatchFailure).
 */
export function setReferencePath(target: unknown, path: string, value: unknown): unknown {
  if (!isReferencePath(path)) throw new PathSyntaxError(path, 'not a reference path');
  const parsed = parsePath(path);
  if (parsed.segments.length === 0) return value;
  const root: unknown = structuredClone(target);
  if (!isJsonObject(root) && !Array.isArray(root)) {
    throw new PathNotFoundError(path, 'the input is not an object, so nothing can be placed inside it');
  }
  let node: Record<string, unknown> | unknown[] = root;
  parsed.segments.forEach((segment, i) => {
    const last = i === parsed.segments.length - 1;
    if (segment.kind === 'child') {
      if (!isJsonObject(node)) throw new PathNotFoundError(path, `cannot set field '${segment.name}' on a non-object`);
      if (last) {
        node[segment.name] = value;
        return;
      }
      const next = node[segment.name];
      if (next === undefined) {
        const created: Record<string, unknown> = {};
        node[segment.name] = created;
        node = created;
      } else if (isJsonObject(next) || Array.isArray(next)) {
        node = next;
      } else {
        throw new PathNotFoundError(path, `field '${segment.name}' is not an object`);
      }
    } else if (segment.kind === 'index') {
      if (!Array.isArray(node) || segment.index >= node.length) {
        throw new PathNotFoundError(path, `index ${segment.index} is not inside an array`);
      }
      if (last) {
        node[segment.index] = value;
        return;
      }
      const next: unknown = node[segment.index];
      if (isJsonObject(next) || Array.isArray(next)) node = next;
      else throw new PathNotFoundError(path, `element ${segment.index} is not an object`);
    }
  });
  return root;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

const MISSING: unique symbol = Symbol('missing');

function rootValue(parsed: ParsedPath, scope: PathScope): unknown {
  switch (parsed.root.kind) {
    case 'input':
    case 'current':
      return scope.input;
    case 'context':
      return scope.context === undefined ? MISSING : scope.context;
    case 'variable': {
      const vars = scope.variables;
      if (vars === undefined) return MISSING;
      const name = parsed.root.name;
      if (vars instanceof Map) return vars.has(name) ? vars.get(name) : MISSING;
      const record = vars as Record<string, unknown>;
      return Object.hasOwn(record, name) ? record[name] : MISSING;
    }
  }
}

function applySegments(nodes: unknown[], segments: readonly Segment[], scope: PathScope): unknown[] {
  let current = nodes;
  for (const segment of segments) {
    const next: unknown[] = [];
    for (const node of current) applySegment(node, segment, next, scope);
    current = next;
  }
  return current;
}

function applySegment(node: unknown, segment: Segment, out: unknown[], scope: PathScope): void {
  switch (segment.kind) {
    case 'child':
      if (isJsonObject(node) && Object.hasOwn(node, segment.name)) out.push(node[segment.name]);
      return;
    case 'index': {
      if (!Array.isArray(node)) return;
      const i = segment.index < 0 ? node.length + segment.index : segment.index;
      if (i >= 0 && i < node.length) out.push(node[i]);
      return;
    }
    case 'wildcard':
      if (Array.isArray(node)) out.push(...node);
      else if (isJsonObject(node)) out.push(...Object.values(node));
      return;
    case 'union':
      for (const key of segment.keys) {
        applySegment(node, typeof key === 'number' ? { kind: 'index', index: key } : { kind: 'child', name: key }, out, scope);
      }
      return;
    case 'slice': {
      if (!Array.isArray(node)) return;
      const len = node.length;
      const step = segment.step ?? 1;
      if (step === 0) return;
      const norm = (v: number | undefined, dflt: number): number => {
        if (v === undefined) return dflt;
        const n = v < 0 ? len + v : v;
        return Math.max(step > 0 ? 0 : -1, Math.min(n, step > 0 ? len : len - 1));
      };
      if (step > 0) {
        for (let i = norm(segment.start, 0); i < norm(segment.end, len); i += step) out.push(node[i]);
      } else {
        for (let i = norm(segment.start, len - 1); i > norm(segment.end, -1); i += step) out.push(node[i]);
      }
      return;
    }
    case 'filter': {
      const candidates = Array.isArray(node) ? node : isJsonObject(node) ? [node] : [];
      for (const candidate of candidates) {
        if (testFilter(segment.expr, candidate, scope)) out.push(candidate);
      }
      return;
    }
    case 'scan': {
      const visit = (value: unknown): void => {
        applySegment(value, segment.inner, out, scope);
        if (Array.isArray(value)) value.forEach(visit);
        else if (isJsonObject(value)) Object.values(value).forEach(visit);
      };
      visit(node);
      return;
    }
  }
}

function operandValue(operand: FilterOperand, current: unknown, scope: PathScope): { found: boolean; value: unknown } {
  if (operand.kind === 'literal') return { found: true, value: operand.value };
  if (operand.kind === 'regex') return { found: true, value: operand.regex };
  const path = operand.path;
  const start = path.root.kind === 'current' ? current : rootValue(path, scope);
  if (start === MISSING) return { found: false, value: undefined };
  const matches = applySegments([start], path.segments, scope);
  if (path.definite) return matches.length === 0 ? { found: false, value: undefined } : { found: true, value: matches[0] };
  return { found: matches.length > 0, value: matches };
}

function testFilter(expr: FilterExpr, current: unknown, scope: PathScope): boolean {
  switch (expr.kind) {
    case 'or':
      return testFilter(expr.left, current, scope) || testFilter(expr.right, current, scope);
    case 'and':
      return testFilter(expr.left, current, scope) && testFilter(expr.right, current, scope);
    case 'not':
      return !testFilter(expr.expr, current, scope);
    case 'exists': {
      const { found, value } = operandValue(expr.operand, current, scope);
      return found && value !== false && value !== null;
    }
    case 'compare': {
      const left = operandValue(expr.left, current, scope);
      const right = operandValue(expr.right, current, scope);
      if (!left.found || !right.found) return expr.op === '!=' && left.found !== right.found;
      const a = left.value;
      const b = right.value;
      switch (expr.op) {
        case '==':
          return jsonEqual(a, b);
        case '!=':
          return !jsonEqual(a, b);
        case '=~':
          return typeof a === 'string' && b instanceof RegExp && b.test(a);
        default:
          return compareOrdered(expr.op, a, b);
      }
    }
  }
}

function compareOrdered(op: '<' | '<=' | '>' | '>=', a: unknown, b: unknown): boolean {
  if (!((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string'))) {
    return false;
  }
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing

interface Cursor {
  text: string;
  pos: number;
}

const NAME_STOP = new Set(['.', '[', ']', ' ', '\t', '\n', '\r', '(', ')', ',', '=', '!', '<', '>', '&', '|', "'", '"']);

function skipSpaces(c: Cursor): void {
  while (c.pos < c.text.length && /\s/.test(c.text.charAt(c.pos))) c.pos++;
}

function fail(c: Cursor, reason: string): never {
  throw new PathSyntaxError(c.text, `${reason} at position ${c.pos}`);
}

function readPath(c: Cursor, inFilter: boolean): ParsedPath {
  const begin = c.pos;
  let root: PathRoot;
  if (c.text.startsWith('$$', c.pos)) {
    root = { kind: 'context' };
    c.pos += 2;
  } else if (c.text.charAt(c.pos) === '$') {
    c.pos++;
    const name = readName(c);
    root = name === '' ? { kind: 'input' } : { kind: 'variable', name };
  } else if (inFilter && c.text.charAt(c.pos) === '@') {
    root = { kind: 'current' };
    c.pos++;
  } else {
    fail(c, "a path must start with '$'");
  }
  const segments: Segment[] = [];
  let definite = true;
  for (;;) {
    const ch = c.text.charAt(c.pos);
    if (ch === '.') {
      if (c.text.charAt(c.pos + 1) === '.') {
        c.pos += 2;
        const inner = c.text.charAt(c.pos) === '[' ? readBracket(c) : readDotSegment(c);
        segments.push({ kind: 'scan', inner });
        definite = false;
        continue;
      }
      c.pos++;
      const segment = readDotSegment(c);
      if (segment.kind !== 'child') definite = false;
      segments.push(segment);
      continue;
    }
    if (ch === '[') {
      const segment = readBracket(c);
      if (segment.kind !== 'child' && segment.kind !== 'index') definite = false;
      segments.push(segment);
      continue;
    }
    break;
  }
  return { source: c.text.slice(begin, c.pos), root, segments, definite };
}

function readName(c: Cursor): string {
  const begin = c.pos;
  while (c.pos < c.text.length && !NAME_STOP.has(c.text.charAt(c.pos))) c.pos++;
  return c.text.slice(begin, c.pos);
}

function readDotSegment(c: Cursor): Segment {
  if (c.text.charAt(c.pos) === '*') {
    c.pos++;
    return { kind: 'wildcard' };
  }
  const name = readName(c);
  if (name === '') fail(c, 'expected a field name');
  return { kind: 'child', name };
}

function readQuoted(c: Cursor): string {
  const quote = c.text.charAt(c.pos);
  c.pos++;
  let out = '';
  while (c.pos < c.text.length) {
    const ch = c.text.charAt(c.pos);
    if (ch === '\\') {
      const next = c.text.charAt(c.pos + 1);
      out += next;
      c.pos += 2;
      continue;
    }
    if (ch === quote) {
      c.pos++;
      return out;
    }
    out += ch;
    c.pos++;
  }
  fail(c, 'unterminated string');
}

function readInteger(c: Cursor): number | undefined {
  skipSpaces(c);
  const match = /^-?\d+/.exec(c.text.slice(c.pos));
  if (match === null) return undefined;
  c.pos += match[0].length;
  skipSpaces(c);
  return Number(match[0]);
}

function expect(c: Cursor, token: string): void {
  skipSpaces(c);
  if (!c.text.startsWith(token, c.pos)) fail(c, `expected '${token}'`);
  c.pos += token.length;
}

function readBracket(c: Cursor): Segment {
  expect(c, '[');
  skipSpaces(c);
  const ch = c.text.charAt(c.pos);
  if (ch === '*') {
    c.pos++;
    expect(c, ']');
    return { kind: 'wildcard' };
  }
  if (ch === '?') {
    c.pos++;
    expect(c, '(');
    const expr = readOr(c);
    expect(c, ')');
    expect(c, ']');
    return { kind: 'filter', expr };
  }
  if (ch === "'" || ch === '"') {
    const keys: string[] = [readQuoted(c)];
    skipSpaces(c);
    while (c.text.charAt(c.pos) === ',') {
      c.pos++;
      skipSpaces(c);
      const q = c.text.charAt(c.pos);
      if (q !== "'" && q !== '"') fail(c, 'expected a quoted name');
      keys.push(readQuoted(c));
      skipSpaces(c);
    }
    expect(c, ']');
    const only = keys[0];
    return keys.length === 1 && only !== undefined ? { kind: 'child', name: only } : { kind: 'union', keys };
  }
  // Index, union of indexes, or slice.
  const first = readInteger(c);
  if (c.text.charAt(c.pos) === ':') {
    c.pos++;
    const end = readInteger(c);
    let step: number | undefined;
    if (c.text.charAt(c.pos) === ':') {
      c.pos++;
      step = readInteger(c);
    }
    expect(c, ']');
    return { kind: 'slice', start: first, end, step };
  }
  if (first === undefined) fail(c, 'expected an index, a quoted name, * or a filter');
  const indexes: number[] = [first];
  while (c.text.charAt(c.pos) === ',') {
    c.pos++;
    const next = readInteger(c);
    if (next === undefined) fail(c, 'expected an index');
    indexes.push(next);
  }
  expect(c, ']');
  return indexes.length === 1 ? { kind: 'index', index: first } : { kind: 'union', keys: indexes };
}

function readOr(c: Cursor): FilterExpr {
  let left = readAnd(c);
  for (;;) {
    skipSpaces(c);
    if (!c.text.startsWith('||', c.pos)) return left;
    c.pos += 2;
    left = { kind: 'or', left, right: readAnd(c) };
  }
}

function readAnd(c: Cursor): FilterExpr {
  let left = readUnary(c);
  for (;;) {
    skipSpaces(c);
    if (!c.text.startsWith('&&', c.pos)) return left;
    c.pos += 2;
    left = { kind: 'and', left, right: readUnary(c) };
  }
}

function readUnary(c: Cursor): FilterExpr {
  skipSpaces(c);
  if (c.text.charAt(c.pos) === '!' && c.text.charAt(c.pos + 1) !== '=') {
    c.pos++;
    return { kind: 'not', expr: readUnary(c) };
  }
  if (c.text.charAt(c.pos) === '(') {
    c.pos++;
    const inner = readOr(c);
    expect(c, ')');
    return inner;
  }
  const left = readOperand(c);
  skipSpaces(c);
  const op = (['==', '!=', '<=', '>=', '=~', '<', '>'] as const).find((o) => c.text.startsWith(o, c.pos));
  if (op === undefined) return { kind: 'exists', operand: left };
  c.pos += op.length;
  const right = readOperand(c);
  return { kind: 'compare', op, left, right };
}

function readOperand(c: Cursor): FilterOperand {
  skipSpaces(c);
  const ch = c.text.charAt(c.pos);
  if (ch === '@' || ch === '$') return { kind: 'path', path: readPath(c, true) };
  if (ch === "'" || ch === '"') return { kind: 'literal', value: readQuoted(c) };
  if (ch === '/') {
    const end = c.text.indexOf('/', c.pos + 1);
    if (end < 0) fail(c, 'unterminated regular expression');
    const body = c.text.slice(c.pos + 1, end);
    c.pos = end + 1;
    const flags = /^[a-z]*/.exec(c.text.slice(c.pos))?.[0] ?? '';
    c.pos += flags.length;
    try {
      return { kind: 'regex', regex: new RegExp(body, flags) };
    } catch {
      fail(c, 'invalid regular expression');
    }
  }
  const rest = c.text.slice(c.pos);
  const number = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(rest);
  if (number !== null) {
    c.pos += number[0].length;
    return { kind: 'literal', value: Number(number[0]) };
  }
  for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
    if (rest.startsWith(word)) {
      c.pos += word.length;
      return { kind: 'literal', value };
    }
  }
  fail(c, 'expected a value in the filter');
}
