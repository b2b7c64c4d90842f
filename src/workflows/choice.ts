/**
 * @module
 * Choice rules for JSONPath states: the data-test expressions (String*, Numeric*, Boolean*,
 * Timestamp*, each with a `…Path` variant comparing against another path, StringMatches, and
 * the Is* type tests) and the And / Or / Not combinators. Per the spec, comparing values of
 * different types is false rather than an error; a Variable that is not in the input is a
 * States.Runtime failure, except under IsPresent.
 */

import { StatesError, StatesErrorNames } from './failure.ts';
import { isJsonObject } from './json.ts';
import { evaluatePath, PathNotFoundError } from './paths.ts';
import type { PathScope } from './paths.ts';

type Kind = 'string' | 'numeric' | 'boolean' | 'timestamp';
type Relation = 'Equals' | 'LessThan' | 'GreaterThan' | 'LessThanEquals' | 'GreaterThanEquals';

interface ComparisonOperator {
  kind: Kind;
  relation: Relation;
  path: boolean;
}

const KIND_PREFIX: Record<string, Kind> = { String: 'string', Numeric: 'numeric', Boolean: 'boolean', Timestamp: 'timestamp' };
const RELATIONS: readonly Relation[] = ['Equals', 'LessThan', 'GreaterThan', 'LessThanEquals', 'GreaterThanEquals'];

/** Every comparison operator name, e.g. `StringEquals`, `NumericLessThanPath`. */
export const COMPARISON_OPERATORS: ReadonlyMap<string, ComparisonOperator> = (() => {
  const map = new Map<string, ComparisonOperator>();
  for (const [prefix, kind] of Object.entries(KIND_PREFIX)) {
    for (const relation of RELATIONS) {
      if (kind === 'boolean' && relation !== 'Equals') continue;
      map.set(`${prefix}${relation}`, { kind, relation, path: false });
      map.set(`${prefix}${relation}Path`, { kind, relation, path: true });
    }
  }
  return map;
})();

/** The type-test operators, whose value is a boolean literal. */
export const TYPE_TEST_OPERATORS: readonly string[] = ['IsNull', 'IsPresent', 'IsNumeric', 'IsString', 'IsBoolean', 'IsTimestamp'];

/** All operator field names usable in a data-test expression. */
export const CHOICE_OPERATORS: readonly string[] = [...COMPARISON_OPERATORS.keys(), 'StringMatches', ...TYPE_TEST_OPERATORS];

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** True for an RFC 3339 timestamp as the spec profiles it (uppercase T and Z, or an offset). */
export function isTimestamp(value: unknown): value is string {
  return typeof value === 'string' && TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value));
}

/** Epoch milliseconds of a spec timestamp (fractions beyond milliseconds are ignored). */
export function timestampMillis(value: string): number {
  return Date.parse(value);
}

/**
 * Matches `value` against a StringMatches pattern: `*` matches any run of characters, `\*`
 * a literal asterisk and `\\` a literal backslash.
 */
export function stringMatches(value: string, pattern: string): boolean {
  let source = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern.charAt(i);
    if (ch === '\\' && i + 1 < pattern.length) {
      source += escapeRegex(pattern.charAt(i + 1));
      i++;
    } else if (ch === '*') source += '[\\s\\S]*';
    else source += escapeRegex(ch);
  }
  return new RegExp(`${source}$`).test(value);
}

function escapeRegex(ch: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(ch) ? `\\${ch}` : ch;
}

function readVariable(path: string, scope: PathScope): { found: true; value: unknown } | { found: false } {
  try {
    return { found: true, value: evaluatePath(path, scope) };
  } catch (error) {
    if (error instanceof PathNotFoundError) return { found: false };
    throw error;
  }
}

function runtimeMissing(path: string): StatesError {
  return new StatesError(
    StatesErrorNames.Runtime,
    `Invalid path '${path}': The choice state's condition path references an invalid value.`,
  );
}

function matchesKind(kind: Kind, value: unknown): boolean {
  switch (kind) {
    case 'string':
      return typeof value === 'string';
    case 'numeric':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'timestamp':
      return isTimestamp(value);
  }
}

function compare(kind: Kind, relation: Relation, a: unknown, b: unknown): boolean {
  if (!matchesKind(kind, a) || !matchesKind(kind, b)) return false;
  let left: string | number | boolean = a as string | number | boolean;
  let right: string | number | boolean = b as string | number | boolean;
  if (kind === 'timestamp') {
    left = timestampMillis(a as string);
    right = timestampMillis(b as string);
  }
  switch (relation) {
    case 'Equals':
      return left === right;
    case 'LessThan':
      return left < right;
    case 'GreaterThan':
      return left > right;
    case 'LessThanEquals':
      return left <= right;
    case 'GreaterThanEquals':
      return left >= right;
  }
}

/** Evaluates one (possibly nested) JSONPath choice rule against the state's effective input. */
export function evaluateChoiceRule(rule: unknown, scope: PathScope): boolean {
  if (!isJsonObject(rule)) throw new StatesError(StatesErrorNames.Runtime, 'A choice rule must be an object');
  const and = rule['And'];
  if (Array.isArray(and)) return and.every((r) => evaluateChoiceRule(r, scope));
  const or = rule['Or'];
  if (Array.isArray(or)) return or.some((r) => evaluateChoiceRule(r, scope));
  if (rule['Not'] !== undefined) return !evaluateChoiceRule(rule['Not'], scope);

  const variable = rule['Variable'];
  if (typeof variable !== 'string') throw new StatesError(StatesErrorNames.Runtime, 'A choice rule needs a Variable');
  const read = readVariable(variable, scope);

  if (rule['IsPresent'] !== undefined) return read.found === (rule['IsPresent'] === true);
  if (!read.found) throw runtimeMissing(variable);
  const value = read.value;

  for (const [field, expected] of Object.entries(rule)) {
    switch (field) {
      case 'IsNull':
        return (value === null) === (expected === true);
      case 'IsNumeric':
        return (typeof value === 'number') === (expected === true);
      case 'IsString':
        return (typeof value === 'string') === (expected === true);
      case 'IsBoolean':
        return (typeof value === 'boolean') === (expected === true);
      case 'IsTimestamp':
        return isTimestamp(value) === (expected === true);
      case 'StringMatches':
        return typeof value === 'string' && typeof expected === 'string' && stringMatches(value, expected);
      default: {
        const operator = COMPARISON_OPERATORS.get(field);
        if (operator === undefined) continue;
        let other: unknown = expected;
        if (operator.path) {
          if (typeof expected !== 'string') throw new StatesError(StatesErrorNames.Runtime, `${field} must be a path`);
          const otherRead = readVariable(expected, scope);
          if (!otherRead.found) throw runtimeMissing(expected);
          other = otherRead.value;
        }
        return compare(operator.kind, operator.relation, value, other);
      }
    }
  }
  throw new StatesError(StatesErrorNames.Runtime, 'The choice rule has no comparison operator');
}
