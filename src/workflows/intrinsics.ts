/**
 * @module
 * Intrinsic functions (`States.Format(...)`, `States.Array(...)` …) for JSONPath states.
 * A real parser turns the call text into a tree — string literals with `\` escapes, numbers,
 * booleans, null, paths (`$.x`, `$$.Execution.Id`, `$var`) and nested calls — which is then
 * evaluated against the state's input. Every runtime problem is raised as
 * States.IntrinsicFailure, as AWS does.
 */

import { createHash } from 'node:crypto';
import { StatesError, StatesErrorNames } from './failure.ts';
import { isJsonObject, jsonEqual, jsonTypeOf } from './json.ts';
import { evaluatePath, parsePath, PathNotFoundError } from './paths.ts';
import type { ParsedPath, PathScope } from './paths.ts';

export type IntrinsicArg =
  | { kind: 'string'; value: string; raw: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'path'; path: ParsedPath }
  | { kind: 'call'; call: IntrinsicCall };

export interface IntrinsicCall {
  name: string;
  args: IntrinsicArg[];
}

export interface IntrinsicEnv {
  scope: PathScope;
  random(): number;
  uuid(): string;
}

/** A call that does not parse, or names an unknown function / wrong argument count. */
export class IntrinsicSyntaxError extends Error {
  constructor(source: string, reason: string) {
    super(`Invalid intrinsic function '${source}': ${reason}`);
    this.name = 'IntrinsicSyntaxError';
  }
}

/** [min, max] argument counts; max undefined means variadic. */
const ARITY: Record<string, readonly [number, number | undefined]> = {
  'States.Format': [1, undefined],
  'States.StringToJson': [1, 1],
  'States.JsonToString': [1, 1],
  'States.Array': [0, undefined],
  'States.ArrayPartition': [2, 2],
  'States.ArrayContains': [2, 2],
  'States.ArrayRange': [3, 3],
  'States.ArrayGetItem': [2, 2],
  'States.ArrayLength': [1, 1],
  'States.ArrayUnique': [1, 1],
  'States.Base64Encode': [1, 1],
  'States.Base64Decode': [1, 1],
  'States.Hash': [2, 2],
  'States.JsonMerge': [3, 3],
  'States.MathRandom': [2, 3],
  'States.MathAdd': [2, 2],
  'States.StringSplit': [2, 2],
  'States.UUID': [0, 0],
};

/** Names of every supported intrinsic. */
export const INTRINSIC_FUNCTIONS: readonly string[] = Object.keys(ARITY);

/** True when a `.$` value looks like an intrinsic call rather than a path. */
export function looksLikeIntrinsic(text: string): boolean {
  return /^\s*States\.[A-Za-z0-9]+\s*\(/.test(text);
}

/** Parses an intrinsic call. Throws {@link IntrinsicSyntaxError}. */
export function parseIntrinsic(source: string): IntrinsicCall {
  const cursor = { text: source, pos: 0 };
  skip(cursor);
  const call = readCall(cursor, 1);
  skip(cursor);
  if (cursor.pos !== source.length) throw new IntrinsicSyntaxError(source, `unexpected '${source.slice(cursor.pos)}'`);
  return call;
}

/** Evaluates an intrinsic call text (or a parsed call). Throws StatesError(States.IntrinsicFailure). */
export function evaluateIntrinsic(call: string | IntrinsicCall, env: IntrinsicEnv): unknown {
  let parsed: IntrinsicCall;
  try {
    parsed = typeof call === 'string' ? parseIntrinsic(call) : call;
  } catch (error) {
    throw new StatesError(StatesErrorNames.IntrinsicFailure, (error as Error).message);
  }
  return evalCall(parsed, env);
}

// ---------------------------------------------------------------------------------------------
// Parsing

interface Cursor {
  text: string;
  pos: number;
}

function skip(c: Cursor): void {
  while (c.pos < c.text.length && /\s/.test(c.text.charAt(c.pos))) c.pos++;
}

function fail(c: Cursor, reason: string): never {
  throw new IntrinsicSyntaxError(c.text, `${reason} at position ${c.pos}`);
}

function readCall(c: Cursor, depth: number): IntrinsicCall {
  if (depth > 10) fail(c, 'intrinsic functions can be nested at most 10 deep');
  const match = /^States\.[A-Za-z0-9]+/.exec(c.text.slice(c.pos));
  if (match === null) fail(c, "expected a 'States.' function name");
  const name = match[0];
  const arity = ARITY[name];
  if (arity === undefined) fail(c, `unknown intrinsic function ${name}`);
  c.pos += name.length;
  skip(c);
  if (c.text.charAt(c.pos) !== '(') fail(c, "expected '('");
  c.pos++;
  const args: IntrinsicArg[] = [];
  skip(c);
  if (c.text.charAt(c.pos) === ')') {
    c.pos++;
  } else {
    for (;;) {
      skip(c);
      args.push(readArg(c, depth));
      skip(c);
      const ch = c.text.charAt(c.pos);
      c.pos++;
      if (ch === ')') break;
      if (ch !== ',') fail(c, "expected ',' or ')'");
    }
  }
  const [min, max] = arity;
  if (args.length < min || (max !== undefined && args.length > max)) {
    fail(c, `${name} takes ${max === min ? String(min) : max === undefined ? `at least ${min}` : `${min} to ${max}`} argument(s), got ${args.length}`);
  }
  const first = args[0];
  if (name === 'States.Format' && first?.kind === 'string') {
    const placeholders = countPlaceholders(first.raw);
    if (placeholders !== args.length - 1) {
      fail(c, `the template has ${placeholders} placeholder(s) but ${args.length - 1} value(s) were given`);
    }
  }
  return { name, args };
}

function readArg(c: Cursor, depth: number): IntrinsicArg {
  const ch = c.text.charAt(c.pos);
  if (ch === "'") return readString(c);
  if (ch === '$') {
    // A path runs to the next top-level ',' or ')' — brackets and quotes may contain either.
    const begin = c.pos;
    let bracket = 0;
    let quote = '';
    while (c.pos < c.text.length) {
      const cur = c.text.charAt(c.pos);
      if (quote !== '') {
        if (cur === '\\') c.pos++;
        else if (cur === quote) quote = '';
      } else if (cur === "'" || cur === '"') quote = cur;
      else if (cur === '[' || cur === '(') bracket++;
      else if (cur === ']' || (cur === ')' && bracket > 0)) bracket--;
      else if (bracket === 0 && (cur === ',' || cur === ')')) break;
      c.pos++;
    }
    const text = c.text.slice(begin, c.pos).trim();
    try {
      return { kind: 'path', path: parsePath(text) };
    } catch (error) {
      fail(c, (error as Error).message);
    }
  }
  if (c.text.startsWith('States.', c.pos)) return { kind: 'call', call: readCall(c, depth + 1) };
  const rest = c.text.slice(c.pos);
  const number = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(rest);
  if (number !== null) {
    c.pos += number[0].length;
    return { kind: 'number', value: Number(number[0]) };
  }
  for (const [word, arg] of [
    ['true', { kind: 'boolean', value: true }],
    ['false', { kind: 'boolean', value: false }],
    ['null', { kind: 'null' }],
  ] as const) {
    if (rest.startsWith(word) && !/^[A-Za-z0-9_]/.test(rest.slice(word.length))) {
      c.pos += word.length;
      return arg;
    }
  }
  fail(c, 'expected a string, number, boolean, null, path or intrinsic function');
}

function readString(c: Cursor): IntrinsicArg {
  c.pos++;
  const begin = c.pos;
  let value = '';
  while (c.pos < c.text.length) {
    const ch = c.text.charAt(c.pos);
    if (ch === '\\') {
      const next = c.text.charAt(c.pos + 1);
      if (next === '') fail(c, 'dangling escape');
      value += next;
      c.pos += 2;
      continue;
    }
    if (ch === "'") {
      const raw = c.text.slice(begin, c.pos);
      c.pos++;
      return { kind: 'string', value, raw };
    }
    value += ch;
    c.pos++;
  }
  fail(c, 'unterminated string literal');
}

/** Counts unescaped `{}` pairs in a Format template's raw (still escaped) text. */
function countPlaceholders(raw: string): number {
  let count = 0;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw.charAt(i);
    if (ch === '\\') i++;
    else if (ch === '{' && raw.charAt(i + 1) === '}') {
      count++;
      i++;
    }
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

function failure(name: string, reason: string): StatesError {
  return new StatesError(StatesErrorNames.IntrinsicFailure, `Invalid arguments in ${name}: ${reason}`);
}

function evalArg(arg: IntrinsicArg, env: IntrinsicEnv): unknown {
  switch (arg.kind) {
    case 'string':
    case 'number':
    case 'boolean':
      return arg.value;
    case 'null':
      return null;
    case 'call':
      return evalCall(arg.call, env);
    case 'path':
      try {
        return evaluatePath(arg.path, env.scope);
      } catch (error) {
        if (error instanceof PathNotFoundError) {
          throw new StatesError(StatesErrorNames.IntrinsicFailure, error.message);
        }
        throw error;
      }
  }
}

function asString(name: string, value: unknown, what: string): string {
  if (typeof value !== 'string') throw failure(name, `${what} must be a string, got ${jsonTypeOf(value)}`);
  return value;
}

function asArray(name: string, value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw failure(name, `${what} must be an array, got ${jsonTypeOf(value)}`);
  return value;
}

function asInteger(name: string, value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw failure(name, `${what} must be an integer`);
  return value;
}

function stringify(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const HASH_ALGORITHMS: Record<string, string> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

function evalCall(call: IntrinsicCall, env: IntrinsicEnv): unknown {
  const { name } = call;
  // States.Format needs the template's raw text to tell `\{` from a placeholder.
  if (name === 'States.Format') return format(call, env);
  const args = call.args.map((arg) => evalArg(arg, env));
  const [a, b, c] = args;
  switch (name) {
    case 'States.StringToJson': {
      const text = asString(name, a, 'the argument');
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw failure(name, 'the string is not valid JSON');
      }
    }
    case 'States.JsonToString':
      return JSON.stringify(a === undefined ? null : a);
    case 'States.Array':
      return args;
    case 'States.ArrayPartition': {
      const array = asArray(name, a, 'the first argument');
      const size = asInteger(name, b, 'the chunk size');
      if (size <= 0) throw failure(name, 'the chunk size must be greater than 0');
      const out: unknown[][] = [];
      for (let i = 0; i < array.length; i += size) out.push(array.slice(i, i + size));
      return out;
    }
    case 'States.ArrayContains':
      return asArray(name, a, 'the first argument').some((item) => jsonEqual(item, b));
    case 'States.ArrayRange': {
      const start = asInteger(name, a, 'the first element');
      const end = asInteger(name, b, 'the last element');
      const step = asInteger(name, c, 'the step');
      if (step === 0) throw failure(name, 'the step must not be 0');
      const count = Math.floor((end - start) / step) + 1;
      if (count > 1000) throw failure(name, 'the range would have more than 1000 elements');
      const out: number[] = [];
      for (let i = 0; i < count; i++) out.push(start + i * step);
      return out;
    }
    case 'States.ArrayGetItem': {
      const array = asArray(name, a, 'the first argument');
      const index = asInteger(name, b, 'the index');
      if (index < 0 || index >= array.length) throw failure(name, `index ${index} is out of bounds`);
      return array[index];
    }
    case 'States.ArrayLength':
      return asArray(name, a, 'the argument').length;
    case 'States.ArrayUnique': {
      const out: unknown[] = [];
      for (const item of asArray(name, a, 'the argument')) {
        if (!out.some((seen) => jsonEqual(seen, item))) out.push(item);
      }
      return out;
    }
    case 'States.Base64Encode': {
      const text = asString(name, a, 'the argument');
      if (text.length > 10000) throw failure(name, 'the input exceeds 10000 characters');
      return Buffer.from(text, 'utf8').toString('base64');
    }
    case 'States.Base64Decode': {
      const text = asString(name, a, 'the argument');
      if (text.length > 10000) throw failure(name, 'the input exceeds 10000 characters');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) throw failure(name, 'the input is not base64');
      return Buffer.from(text, 'base64').toString('utf8');
    }
    case 'States.Hash': {
      const data = asString(name, a, 'the data');
      const algorithm = HASH_ALGORITHMS[asString(name, b, 'the algorithm')];
      if (algorithm === undefined) {
        throw failure(name, `the algorithm must be one of ${Object.keys(HASH_ALGORITHMS).join(', ')}`);
      }
      if (data.length > 10000) throw failure(name, 'the input exceeds 10000 characters');
      return createHash(algorithm).update(data, 'utf8').digest('hex');
    }
    case 'States.JsonMerge': {
      if (!isJsonObject(a) || !isJsonObject(b)) throw failure(name, 'both values to merge must be JSON objects');
      if (c !== false) throw failure(name, 'only shallow merges are supported: the third argument must be false');
      return { ...a, ...b };
    }
    case 'States.MathRandom': {
      const start = asInteger(name, a, 'the start');
      const end = asInteger(name, b, 'the end');
      if (end <= start) throw failure(name, 'the end must be greater than the start');
      const unit = c === undefined ? env.random() : seededRandom(asInteger(name, c, 'the seed'));
      // Start inclusive, end exclusive.
      return start + Math.floor(unit * (end - start));
    }
    case 'States.MathAdd': {
      if (typeof a !== 'number' || typeof b !== 'number') throw failure(name, 'both arguments must be numbers');
      return asInteger(name, a, 'the first argument') + asInteger(name, b, 'the second argument');
    }
    case 'States.StringSplit': {
      const text = asString(name, a, 'the string');
      const delimiters = asString(name, b, 'the delimiter');
      // Every character of the delimiter argument separates tokens; empty tokens are dropped.
      if (delimiters === '') return [text];
      const out: string[] = [];
      let token = '';
      for (const ch of text) {
        if (delimiters.includes(ch)) {
          if (token !== '') out.push(token);
          token = '';
        } else token += ch;
      }
      if (token !== '') out.push(token);
      return out;
    }
    case 'States.UUID':
      return env.uuid();
    default:
      throw failure(name, 'unknown intrinsic function');
  }
}

function format(call: IntrinsicCall, env: IntrinsicEnv): string {
  const [templateArg, ...rest] = call.args;
  if (templateArg === undefined) throw failure(call.name, 'a template is required');
  const values = rest.map((arg) => evalArg(arg, env));
  for (const value of values) {
    if (value !== null && typeof value === 'object') {
      throw failure(call.name, 'values must be strings, numbers, booleans or null');
    }
  }
  let raw: string;
  let escaped: boolean;
  if (templateArg.kind === 'string') {
    raw = templateArg.raw;
    escaped = true;
  } else {
    raw = asString(call.name, evalArg(templateArg, env), 'the template');
    escaped = false;
  }
  let out = '';
  let next = 0;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw.charAt(i);
    if (escaped && ch === '\\') {
      out += raw.charAt(i + 1);
      i++;
    } else if (ch === '{' && raw.charAt(i + 1) === '}') {
      if (next >= values.length) throw failure(call.name, 'more placeholders than values');
      out += stringify(values[next]);
      next++;
      i++;
    } else out += ch;
  }
  if (next !== values.length) throw failure(call.name, 'more values than placeholders');
  return out;
}

/** A small deterministic generator (mulberry32) so a seeded MathRandom repeats its value. */
function seededRandom(seed: number): number {
  let t = (seed + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
