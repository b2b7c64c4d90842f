/**
 * @module
 * JSONata query language support (`"QueryLanguage": "JSONata"`). Any string of the form
 * `{% expression %}` inside Arguments, Output, Assign, Items, ItemSelector, Choice conditions,
 * Wait/Timeout fields or Fail fields is evaluated with `$states` ({input, result, errorOutput,
 * context}) and the workflow variables bound. The extra functions AWS adds ($partition, $range,
 * $hash, $random, $uuid, $parse) are provided, and $now/$millis read the injected clock so
 * executions stay deterministic under test.
 */

import { createHash } from 'node:crypto';
import jsonata from 'jsonata';
import { StatesError, StatesErrorNames } from './failure.ts';
import { isJsonObject } from './json.ts';

const EXPRESSION = /^\{%([\s\S]*)%\}$/;

/** True when the whole string is a `{% … %}` JSONata expression. */
export function isJsonataExpression(value: unknown): value is string {
  return typeof value === 'string' && EXPRESSION.test(value);
}

/** The expression text inside `{% … %}`. */
export function expressionBody(value: string): string {
  return (EXPRESSION.exec(value)?.[1] ?? '').trim();
}

const compiled = new Map<string, jsonata.Expression>();

/** Compiles (and memoizes) an expression; throws the JSONata syntax error unchanged. */
export function compileJsonata(body: string): jsonata.Expression {
  const hit = compiled.get(body);
  if (hit !== undefined) return hit;
  const expression = jsonata(body);
  if (compiled.size > 2000) compiled.clear();
  compiled.set(body, expression);
  return expression;
}

/** Syntax problem of an expression string, or undefined when it compiles. */
export function jsonataSyntaxProblem(value: string): string | undefined {
  try {
    compileJsonata(expressionBody(value));
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The `$states` reserved variable. */
export interface StatesBinding {
  input: unknown;
  context: unknown;
  result?: unknown;
  errorOutput?: unknown;
}

export interface JsonataEnv {
  states: StatesBinding;
  variables: ReadonlyMap<string, unknown>;
  now(): number;
  random(): number;
  uuid(): string;
}

function queryError(message: string): StatesError {
  return new StatesError(StatesErrorNames.QueryEvaluationError, message);
}

function bindings(env: JsonataEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of env.variables) out[name] = value;
  out['states'] = env.states;
  out['now'] = (): string => new Date(env.now()).toISOString();
  out['millis'] = (): number => env.now();
  out['partition'] = (array: unknown, size: unknown): unknown[][] => {
    if (!Array.isArray(array) || typeof size !== 'number' || !Number.isInteger(size) || size <= 0) {
      throw queryError('$partition expects an array and a positive integer');
    }
    const chunks: unknown[][] = [];
    for (let i = 0; i < array.length; i += size) chunks.push(array.slice(i, i + size));
    return chunks;
  };
  out['range'] = (start: unknown, end: unknown, step: unknown): number[] => {
    if (typeof start !== 'number' || typeof end !== 'number' || typeof step !== 'number' || step === 0) {
      throw queryError('$range expects a start, an end and a non-zero step');
    }
    const values: number[] = [];
    for (let v = start; step > 0 ? v <= end : v >= end; v += step) {
      values.push(v);
      if (values.length > 1000) throw queryError('$range would produce more than 1000 elements');
    }
    return values;
  };
  out['hash'] = (data: unknown, algorithm: unknown): string => {
    const name = { MD5: 'md5', 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' }[
      String(algorithm)
    ];
    if (typeof data !== 'string' || name === undefined) throw queryError('$hash expects a string and an algorithm');
    return createHash(name).update(data, 'utf8').digest('hex');
  };
  out['random'] = (): number => env.random();
  out['uuid'] = (): string => env.uuid();
  out['parse'] = (text: unknown): unknown => {
    if (typeof text !== 'string') throw queryError('$parse expects a string');
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw queryError('$parse: the string is not valid JSON');
    }
  };
  return out;
}

/** JSONata sequences and frozen arrays are turned back into plain JSON values. */
function normalize(value: unknown): unknown {
  if (value === undefined) return undefined;
  if (typeof value === 'function') return undefined;
  if (Array.isArray(value)) return value.map(normalize).filter((v) => v !== undefined);
  if (isJsonObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const normal = normalize(item);
      if (normal !== undefined) out[key] = normal;
    }
    return out;
  }
  return value;
}

/** Evaluates one `{% … %}` string; undefined means the expression produced no value. */
export async function evaluateJsonataString(value: string, env: JsonataEnv): Promise<unknown> {
  const body = expressionBody(value);
  let expression: jsonata.Expression;
  try {
    expression = compileJsonata(body);
  } catch (error) {
    throw queryError(`Invalid JSONata expression '${body}': ${(error as Error).message}`);
  }
  try {
    return normalize(await expression.evaluate(env.states.input, bindings(env)));
  } catch (error) {
    if (error instanceof StatesError) throw error;
    throw queryError(`An error occurred while evaluating the JSONata expression '${body}': ${(error as Error).message}`);
  }
}

/**
 * Evaluates every `{% … %}` string in a JSON template. Object fields whose expression yields
 * nothing are left out; a whole template yielding nothing is a States.QueryEvaluationError,
 * because a state's Arguments or Output must be a JSON value.
 */
export async function evaluateJsonataTemplate(template: unknown, env: JsonataEnv, field = 'value'): Promise<unknown> {
  const result = await walk(template, env);
  if (result === undefined) throw queryError(`The JSONata expression in ${field} returned no value`);
  return result;
}

async function walk(template: unknown, env: JsonataEnv): Promise<unknown> {
  if (typeof template === 'string') {
    return isJsonataExpression(template) ? evaluateJsonataString(template, env) : template;
  }
  if (Array.isArray(template)) {
    const items = await Promise.all(template.map((item) => walk(item, env)));
    return items.filter((item) => item !== undefined);
  }
  if (isJsonObject(template)) {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(template)) {
      const evaluated = await walk(value, env);
      if (evaluated !== undefined) out[key] = evaluated;
    }
    return out;
  }
  return template;
}
