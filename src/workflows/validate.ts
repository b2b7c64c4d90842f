/**
 * @module
 * Static validation of a States language definition. Like AWS's ValidateStateMachineDefinition
 * it reports every problem it finds rather than stopping at the first, each with a JSON-pointer
 * location (`/States/Charge/Next`) and a stable code. Parallel branches and Map item processors
 * are validated recursively as their own scopes. `parseDefinition` turns the problem list into
 * an OutpostError for callers that just want "valid or throw".
 */

import { OutpostError } from '../errors.ts';
import { CHOICE_OPERATORS, COMPARISON_OPERATORS, isTimestamp, TYPE_TEST_OPERATORS } from './choice.ts';
import type { QueryLanguage, StateMachineDefinition } from './definition.ts';
import { IntrinsicSyntaxError, looksLikeIntrinsic, parseIntrinsic } from './intrinsics.ts';
import { isJsonObject } from './json.ts';
import { isJsonataExpression, jsonataSyntaxProblem } from './jsonata-mode.ts';
import { isReferencePath, isValidPath } from './paths.ts';

export interface Problem {
  /** JSON-pointer-like location, e.g. `/States/Charge/Next`. */
  path: string;
  code: ProblemCode;
  message: string;
}

/** Every problem code {@link validateDefinition} reports. */
export const ProblemCodes = {
  /** The text is not JSON (parseDefinition only). */
  InvalidJson: 'INVALID_JSON_DESCRIPTION',
  /** Wrong type, missing required field, unknown field, out-of-range value. */
  SchemaValidationFailed: 'SCHEMA_VALIDATION_FAILED',
  /** StartAt, Next, Default or a Catch's Next names a state that does not exist in its scope. */
  MissingTransitionTarget: 'MISSING_TRANSITION_TARGET',
  /** A non-terminal state has neither Next nor End. */
  MissingTransition: 'MISSING_NEXT_OR_END',
  /** Fields that exclude each other are both present (Next and End, Error and ErrorPath …). */
  MutuallyExclusiveFields: 'MUTUALLY_EXCLUSIVE_FIELDS',
  /** No path of transitions leads from StartAt to the state. */
  UnreachableState: 'UNREACHABLE_STATE',
  /** A path or reference path does not parse, or is not a reference path where one is required. */
  InvalidJsonPath: 'INVALID_JSON_PATH',
  /** An intrinsic function call does not parse or names an unknown function. */
  InvalidIntrinsic: 'INVALID_INTRINSIC_FUNCTION',
  /** A `{% … %}` JSONata expression does not compile. */
  InvalidJsonata: 'INVALID_JSONATA_EXPRESSION',
  /** A field of the other query language (Parameters in JSONata, Arguments in JSONPath …). */
  QueryLanguageMismatch: 'QUERY_LANGUAGE_FIELD_MISMATCH',
  /** States.ALL is not alone in ErrorEquals, or its retrier/catcher is not the last one. */
  InvalidErrorMatcher: 'INVALID_ERROR_MATCHER',
  /** The same state name is used twice across the machine and its branches. */
  DuplicateStateName: 'DUPLICATE_STATE_NAME',
  /** A construct this engine does not run (distributed Map readers/writers/batchers). */
  UnsupportedFeature: 'UNSUPPORTED_FEATURE',
} as const;

export type ProblemCode = (typeof ProblemCodes)[keyof typeof ProblemCodes];

const COMMON = ['Type', 'Comment', 'QueryLanguage'];

/** Allowed fields per state type and query language. */
const FIELDS: Record<string, { JSONPath: readonly string[]; JSONata: readonly string[] }> = {
  Pass: {
    JSONPath: ['InputPath', 'OutputPath', 'Parameters', 'Result', 'ResultPath', 'Assign', 'Next', 'End'],
    JSONata: ['Output', 'Assign', 'Next', 'End'],
  },
  Task: {
    JSONPath: [
      'Resource', 'InputPath', 'OutputPath', 'Parameters', 'ResultSelector', 'ResultPath', 'Retry', 'Catch',
      'TimeoutSeconds', 'TimeoutSecondsPath', 'HeartbeatSeconds', 'HeartbeatSecondsPath', 'Credentials', 'Assign', 'Next', 'End',
    ],
    JSONata: ['Resource', 'Arguments', 'Output', 'Assign', 'Retry', 'Catch', 'TimeoutSeconds', 'HeartbeatSeconds', 'Credentials', 'Next', 'End'],
  },
  Choice: {
    JSONPath: ['InputPath', 'OutputPath', 'Choices', 'Default', 'Assign'],
    JSONata: ['Choices', 'Default', 'Output', 'Assign'],
  },
  Wait: {
    JSONPath: ['InputPath', 'OutputPath', 'Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath', 'Assign', 'Next', 'End'],
    JSONata: ['Seconds', 'Timestamp', 'Output', 'Assign', 'Next', 'End'],
  },
  Succeed: { JSONPath: ['InputPath', 'OutputPath'], JSONata: ['Output'] },
  Fail: { JSONPath: ['Error', 'ErrorPath', 'Cause', 'CausePath'], JSONata: ['Error', 'Cause'] },
  Parallel: {
    JSONPath: ['Branches', 'InputPath', 'OutputPath', 'Parameters', 'ResultSelector', 'ResultPath', 'Retry', 'Catch', 'Assign', 'Next', 'End'],
    JSONata: ['Branches', 'Arguments', 'Output', 'Assign', 'Retry', 'Catch', 'Next', 'End'],
  },
  Map: {
    JSONPath: [
      'ItemProcessor', 'Iterator', 'ItemsPath', 'ItemSelector', 'Parameters', 'ItemReader', 'ItemBatcher', 'ResultWriter',
      'MaxConcurrency', 'MaxConcurrencyPath', 'ToleratedFailureCount', 'ToleratedFailureCountPath', 'ToleratedFailurePercentage',
      'ToleratedFailurePercentagePath', 'Label', 'InputPath', 'OutputPath', 'ResultSelector', 'ResultPath', 'Retry', 'Catch',
      'Assign', 'Next', 'End',
    ],
    JSONata: [
      'ItemProcessor', 'Items', 'ItemSelector', 'ItemReader', 'ItemBatcher', 'ResultWriter', 'MaxConcurrency',
      'ToleratedFailureCount', 'ToleratedFailurePercentage', 'Label', 'Output', 'Assign', 'Retry', 'Catch', 'Next', 'End',
    ],
  },
};

const TOP_LEVEL_FIELDS = ['StartAt', 'States', 'Comment', 'Version', 'TimeoutSeconds', 'QueryLanguage'];
const NESTED_FIELDS = ['StartAt', 'States', 'Comment', 'QueryLanguage', 'ProcessorConfig'];
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Reference-path fields: they must name a single node. */
const REFERENCE_PATH_FIELDS = [
  'ResultPath', 'ItemsPath', 'SecondsPath', 'TimestampPath', 'TimeoutSecondsPath', 'HeartbeatSecondsPath',
  'MaxConcurrencyPath', 'ToleratedFailureCountPath', 'ToleratedFailurePercentagePath',
];

interface Ctx {
  problems: Problem[];
  /** Every state name seen so far in the machine, for duplicate detection. */
  names: Map<string, string>;
}

/** Validates a definition object and returns every problem found (empty when valid). */
export function validateDefinition(definition: unknown): Problem[] {
  const ctx: Ctx = { problems: [], names: new Map() };
  validateMachine(definition, '', 'JSONPath', true, ctx);
  return ctx.problems;
}

/**
 * Parses definition text (or checks an object) and returns it typed; throws
 * OutpostError('INVALID_DEFINITION') with `details.problems` listing every problem.
 */
export function parseDefinition(source: string | unknown): StateMachineDefinition {
  let value: unknown = source;
  if (typeof source === 'string') {
    try {
      value = JSON.parse(source) as unknown;
    } catch (error) {
      throw invalid([{ path: '', code: ProblemCodes.InvalidJson, message: `The definition is not valid JSON: ${(error as Error).message}` }]);
    }
  }
  const problems = validateDefinition(value);
  if (problems.length > 0) throw invalid(problems);
  return value as StateMachineDefinition;
}

function invalid(problems: Problem[]): OutpostError<'INVALID_DEFINITION'> {
  const first = problems[0];
  const summary = first === undefined ? '' : `: ${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`;
  return new OutpostError('INVALID_DEFINITION', `Invalid state machine definition${summary}`, {
    fault: 'user',
    hint: 'Fix each problem listed in details.problems; locations are JSON pointers into the definition.',
    details: { problems },
  });
}

function report(ctx: Ctx, path: string, code: ProblemCode, message: string): void {
  ctx.problems.push({ path, code, message });
}

function pointer(base: string, ...parts: Array<string | number>): string {
  return base + parts.map((p) => `/${String(p).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

function isQueryLanguage(value: unknown): value is QueryLanguage {
  return value === 'JSONPath' || value === 'JSONata';
}

function isPositiveInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

function isNonNegativeInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function validateMachine(machine: unknown, base: string, inherited: QueryLanguage, topLevel: boolean, ctx: Ctx): void {
  if (!isJsonObject(machine)) {
    report(ctx, base, ProblemCodes.SchemaValidationFailed, 'A state machine definition must be a JSON object');
    return;
  }
  const allowed = topLevel ? TOP_LEVEL_FIELDS : NESTED_FIELDS;
  for (const key of Object.keys(machine)) {
    if (!allowed.includes(key)) {
      report(ctx, pointer(base, key), ProblemCodes.SchemaValidationFailed, `Field '${key}' is not supported in a state machine${topLevel ? '' : ' branch'}`);
    }
  }
  if (machine['Comment'] !== undefined && typeof machine['Comment'] !== 'string') {
    report(ctx, pointer(base, 'Comment'), ProblemCodes.SchemaValidationFailed, 'Comment must be a string');
  }
  if (topLevel && machine['Version'] !== undefined && typeof machine['Version'] !== 'string') {
    report(ctx, pointer(base, 'Version'), ProblemCodes.SchemaValidationFailed, 'Version must be a string');
  }
  if (topLevel && machine['TimeoutSeconds'] !== undefined && !isPositiveInteger(machine['TimeoutSeconds'])) {
    report(ctx, pointer(base, 'TimeoutSeconds'), ProblemCodes.SchemaValidationFailed, 'TimeoutSeconds must be a positive integer');
  }
  let language = inherited;
  const ql = machine['QueryLanguage'];
  if (ql !== undefined) {
    if (!isQueryLanguage(ql)) {
      report(ctx, pointer(base, 'QueryLanguage'), ProblemCodes.SchemaValidationFailed, "QueryLanguage must be 'JSONPath' or 'JSONata'");
    } else if (inherited === 'JSONata' && ql === 'JSONPath' && !topLevel) {
      report(ctx, pointer(base, 'QueryLanguage'), ProblemCodes.QueryLanguageMismatch, 'A JSONPath scope cannot be nested inside JSONata states');
    } else language = ql;
  }

  const states = machine['States'];
  const startAt = machine['StartAt'];
  if (typeof startAt !== 'string') {
    report(ctx, pointer(base, 'StartAt'), ProblemCodes.SchemaValidationFailed, 'StartAt is required and must be a string');
  }
  if (!isJsonObject(states) || Object.keys(states).length === 0) {
    report(ctx, pointer(base, 'States'), ProblemCodes.SchemaValidationFailed, 'States is required and must be a non-empty object');
    return;
  }
  if (typeof startAt === 'string' && !Object.hasOwn(states, startAt)) {
    report(ctx, pointer(base, 'StartAt'), ProblemCodes.MissingTransitionTarget, `StartAt names '${startAt}', which is not a state in this scope`);
  }

  const edges = new Map<string, string[]>();
  for (const [name, state] of Object.entries(states)) {
    const statePath = pointer(base, 'States', name);
    const seen = ctx.names.get(name);
    if (seen !== undefined) {
      report(ctx, statePath, ProblemCodes.DuplicateStateName, `State name '${name}' is already used at ${seen}`);
    } else ctx.names.set(name, statePath);
    if (name.length === 0 || name.length > 80) {
      report(ctx, statePath, ProblemCodes.SchemaValidationFailed, 'State names must be 1 to 80 characters long');
    }
    const targets: string[] = [];
    validateState(state, statePath, language, states, targets, ctx);
    edges.set(name, targets);
  }

  // Reachability: walk transitions from StartAt.
  if (typeof startAt === 'string' && Object.hasOwn(states, startAt)) {
    const reached = new Set<string>([startAt]);
    const queue = [startAt];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      for (const target of edges.get(next) ?? []) {
        if (!reached.has(target) && Object.hasOwn(states, target)) {
          reached.add(target);
          queue.push(target);
        }
      }
    }
    for (const name of Object.keys(states)) {
      if (!reached.has(name)) {
        report(ctx, pointer(base, 'States', name), ProblemCodes.UnreachableState, `State '${name}' cannot be reached from StartAt`);
      }
    }
  }
}

function checkTarget(target: unknown, path: string, states: Record<string, unknown>, targets: string[], ctx: Ctx): void {
  if (typeof target !== 'string') {
    report(ctx, path, ProblemCodes.SchemaValidationFailed, 'A transition target must be a state name');
    return;
  }
  targets.push(target);
  if (!Object.hasOwn(states, target)) {
    report(ctx, path, ProblemCodes.MissingTransitionTarget, `'${target}' is not a state in this scope`);
  }
}

function validateState(
  state: unknown,
  path: string,
  inherited: QueryLanguage,
  states: Record<string, unknown>,
  targets: string[],
  ctx: Ctx,
): void {
  if (!isJsonObject(state)) {
    report(ctx, path, ProblemCodes.SchemaValidationFailed, 'A state must be a JSON object');
    return;
  }
  const type = state['Type'];
  const fields = typeof type === 'string' ? FIELDS[type] : undefined;
  if (fields === undefined) {
    report(ctx, pointer(path, 'Type'), ProblemCodes.SchemaValidationFailed, `Type must be one of ${Object.keys(FIELDS).join(', ')}`);
    return;
  }
  let language = inherited;
  const ql = state['QueryLanguage'];
  if (ql !== undefined) {
    if (!isQueryLanguage(ql)) {
      report(ctx, pointer(path, 'QueryLanguage'), ProblemCodes.SchemaValidationFailed, "QueryLanguage must be 'JSONPath' or 'JSONata'");
    } else if (inherited === 'JSONata' && ql === 'JSONPath') {
      report(ctx, pointer(path, 'QueryLanguage'), ProblemCodes.QueryLanguageMismatch, 'A state cannot use JSONPath when the state machine uses JSONata');
    } else language = ql;
  }
  const other: QueryLanguage = language === 'JSONata' ? 'JSONPath' : 'JSONata';
  for (const key of Object.keys(state)) {
    if (COMMON.includes(key) || fields[language].includes(key)) continue;
    if (fields[other].includes(key)) {
      report(ctx, pointer(path, key), ProblemCodes.QueryLanguageMismatch, `Field '${key}' is not supported in ${language} states`);
    } else {
      report(ctx, pointer(path, key), ProblemCodes.SchemaValidationFailed, `Field '${key}' is not supported by state type '${type as string}'`);
    }
  }
  if (state['Comment'] !== undefined && typeof state['Comment'] !== 'string') {
    report(ctx, pointer(path, 'Comment'), ProblemCodes.SchemaValidationFailed, 'Comment must be a string');
  }

  // Transitions
  const terminal = type === 'Choice' || type === 'Succeed' || type === 'Fail';
  if (!terminal) {
    const hasNext = state['Next'] !== undefined;
    const hasEnd = state['End'] !== undefined;
    if (hasNext && hasEnd) {
      report(ctx, path, ProblemCodes.MutuallyExclusiveFields, 'A state cannot have both Next and End');
    } else if (!hasNext && !hasEnd) {
      report(ctx, path, ProblemCodes.MissingTransition, `A ${type as string} state must have either Next or End`);
    }
    if (hasNext) checkTarget(state['Next'], pointer(path, 'Next'), states, targets, ctx);
    if (hasEnd && state['End'] !== true) report(ctx, pointer(path, 'End'), ProblemCodes.SchemaValidationFailed, 'End must be true');
  }

  // Query-language-specific value checks
  if (language === 'JSONPath') {
    for (const key of ['InputPath', 'OutputPath']) {
      const value = state[key];
      if (value !== undefined && value !== null) checkPath(value, pointer(path, key), false, ctx);
    }
    for (const key of REFERENCE_PATH_FIELDS) {
      const value = state[key];
      if (value === undefined || (key === 'ResultPath' && value === null)) continue;
      if (key === 'ResultPath' && typeof value === 'string' && value.startsWith('$$')) {
        report(ctx, pointer(path, key), ProblemCodes.InvalidJsonPath, 'ResultPath cannot write into the context object');
        continue;
      }
      checkPath(value, pointer(path, key), true, ctx);
    }
    for (const key of ['Parameters', 'ResultSelector', 'ItemSelector']) {
      if (state[key] !== undefined) checkPayloadTemplate(state[key], pointer(path, key), ctx);
    }
    if (state['ResultSelector'] !== undefined && !isJsonObject(state['ResultSelector'])) {
      report(ctx, pointer(path, 'ResultSelector'), ProblemCodes.SchemaValidationFailed, 'ResultSelector must be an object');
    }
  } else {
    for (const key of ['Arguments', 'Output', 'Items', 'ItemSelector', 'TimeoutSeconds', 'HeartbeatSeconds', 'Seconds', 'Timestamp', 'MaxConcurrency', 'ToleratedFailureCount', 'ToleratedFailurePercentage', 'Error', 'Cause']) {
      if (state[key] !== undefined) checkJsonata(state[key], pointer(path, key), ctx);
    }
    if (type === 'Task' && state['Arguments'] !== undefined && !isJsonObject(state['Arguments']) && !isJsonataExpression(state['Arguments'])) {
      report(ctx, pointer(path, 'Arguments'), ProblemCodes.SchemaValidationFailed, 'Arguments must be an object or a JSONata expression');
    }
  }
  if (state['Assign'] !== undefined) checkAssign(state['Assign'], pointer(path, 'Assign'), language, ctx);

  const exclusive = (a: string, b: string): void => {
    if (state[a] !== undefined && state[b] !== undefined) {
      report(ctx, path, ProblemCodes.MutuallyExclusiveFields, `A ${type as string} state cannot have both ${a} and ${b}`);
    }
  };

  switch (type) {
    case 'Task': {
      if (typeof state['Resource'] !== 'string' || state['Resource'] === '') {
        report(ctx, pointer(path, 'Resource'), ProblemCodes.SchemaValidationFailed, 'A Task state needs a Resource URI');
      }
      exclusive('TimeoutSeconds', 'TimeoutSecondsPath');
      exclusive('HeartbeatSeconds', 'HeartbeatSecondsPath');
      const timeout = state['TimeoutSeconds'];
      const heartbeat = state['HeartbeatSeconds'];
      if (timeout !== undefined && !isJsonataExpression(timeout) && !isPositiveInteger(timeout)) {
        report(ctx, pointer(path, 'TimeoutSeconds'), ProblemCodes.SchemaValidationFailed, 'TimeoutSeconds must be a positive integer');
      }
      if (heartbeat !== undefined && !isJsonataExpression(heartbeat) && !isPositiveInteger(heartbeat)) {
        report(ctx, pointer(path, 'HeartbeatSeconds'), ProblemCodes.SchemaValidationFailed, 'HeartbeatSeconds must be a positive integer');
      }
      if (typeof timeout === 'number' && typeof heartbeat === 'number' && heartbeat >= timeout) {
        report(ctx, pointer(path, 'HeartbeatSeconds'), ProblemCodes.SchemaValidationFailed, 'HeartbeatSeconds must be smaller than TimeoutSeconds');
      }
      checkRetryCatch(state, path, language, states, targets, ctx);
      break;
    }
    case 'Choice':
      validateChoice(state, path, language, states, targets, ctx);
      break;
    case 'Wait': {
      const present = ['Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath'].filter((k) => state[k] !== undefined);
      if (present.length !== 1) {
        report(ctx, path, present.length === 0 ? ProblemCodes.SchemaValidationFailed : ProblemCodes.MutuallyExclusiveFields,
          'A Wait state needs exactly one of Seconds, SecondsPath, Timestamp or TimestampPath');
      }
      const seconds = state['Seconds'];
      if (seconds !== undefined && !isJsonataExpression(seconds) && !isNonNegativeInteger(seconds)) {
        report(ctx, pointer(path, 'Seconds'), ProblemCodes.SchemaValidationFailed, 'Seconds must be a non-negative integer');
      }
      const timestamp = state['Timestamp'];
      if (timestamp !== undefined && !isJsonataExpression(timestamp) && !isTimestamp(timestamp)) {
        report(ctx, pointer(path, 'Timestamp'), ProblemCodes.SchemaValidationFailed, 'Timestamp must be an RFC 3339 timestamp such as 2016-03-14T01:59:00Z');
      }
      break;
    }
    case 'Fail': {
      exclusive('Error', 'ErrorPath');
      exclusive('Cause', 'CausePath');
      for (const key of ['Error', 'Cause']) {
        if (state[key] !== undefined && typeof state[key] !== 'string') {
          report(ctx, pointer(path, key), ProblemCodes.SchemaValidationFailed, `${key} must be a string`);
        }
      }
      for (const key of ['ErrorPath', 'CausePath']) {
        const value = state[key];
        if (value === undefined) continue;
        if (typeof value === 'string' && looksLikeIntrinsic(value)) checkIntrinsic(value, pointer(path, key), ctx);
        else checkPath(value, pointer(path, key), true, ctx);
      }
      break;
    }
    case 'Parallel': {
      const branches = state['Branches'];
      if (!Array.isArray(branches) || branches.length === 0) {
        report(ctx, pointer(path, 'Branches'), ProblemCodes.SchemaValidationFailed, 'A Parallel state needs a non-empty Branches array');
      } else {
        branches.forEach((branch, i) => validateMachine(branch, pointer(path, 'Branches', i), language, false, ctx));
      }
      checkRetryCatch(state, path, language, states, targets, ctx);
      break;
    }
    case 'Map': {
      exclusive('ItemProcessor', 'Iterator');
      exclusive('ItemSelector', 'Parameters');
      exclusive('MaxConcurrency', 'MaxConcurrencyPath');
      exclusive('ToleratedFailureCount', 'ToleratedFailureCountPath');
      exclusive('ToleratedFailurePercentage', 'ToleratedFailurePercentagePath');
      const processorKey = state['ItemProcessor'] !== undefined ? 'ItemProcessor' : 'Iterator';
      const processor = state[processorKey];
      if (processor === undefined) {
        report(ctx, pointer(path, 'ItemProcessor'), ProblemCodes.SchemaValidationFailed, 'A Map state needs an ItemProcessor');
      } else {
        validateMachine(processor, pointer(path, processorKey), language, false, ctx);
        const config = isJsonObject(processor) ? processor['ProcessorConfig'] : undefined;
        if (config !== undefined && (!isJsonObject(config) || (config['Mode'] !== undefined && config['Mode'] !== 'INLINE' && config['Mode'] !== 'DISTRIBUTED'))) {
          report(ctx, pointer(path, processorKey, 'ProcessorConfig'), ProblemCodes.SchemaValidationFailed, "ProcessorConfig.Mode must be 'INLINE' or 'DISTRIBUTED'");
        }
      }
      for (const key of ['ItemReader', 'ItemBatcher', 'ResultWriter']) {
        if (state[key] !== undefined) {
          report(ctx, pointer(path, key), ProblemCodes.UnsupportedFeature, `${key} (distributed Map) is not supported by this engine`);
        }
      }
      const maxConcurrency = state['MaxConcurrency'];
      if (maxConcurrency !== undefined && !isJsonataExpression(maxConcurrency) && !isNonNegativeInteger(maxConcurrency)) {
        report(ctx, pointer(path, 'MaxConcurrency'), ProblemCodes.SchemaValidationFailed, 'MaxConcurrency must be a non-negative integer');
      }
      const count = state['ToleratedFailureCount'];
      if (count !== undefined && !isJsonataExpression(count) && !isNonNegativeInteger(count)) {
        report(ctx, pointer(path, 'ToleratedFailureCount'), ProblemCodes.SchemaValidationFailed, 'ToleratedFailureCount must be a non-negative integer');
      }
      const pct = state['ToleratedFailurePercentage'];
      if (pct !== undefined && !isJsonataExpression(pct) && !(typeof pct === 'number' && pct >= 0 && pct <= 100)) {
        report(ctx, pointer(path, 'ToleratedFailurePercentage'), ProblemCodes.SchemaValidationFailed, 'ToleratedFailurePercentage must be between 0 and 100');
      }
      checkRetryCatch(state, path, language, states, targets, ctx);
      break;
    }
    default:
      break;
  }
}

function checkPath(value: unknown, path: string, reference: boolean, ctx: Ctx): void {
  if (typeof value !== 'string') {
    report(ctx, path, ProblemCodes.InvalidJsonPath, 'A path must be a string');
    return;
  }
  if (!isValidPath(value)) {
    report(ctx, path, ProblemCodes.InvalidJsonPath, `'${value}' is not a valid JSONPath`);
  } else if (reference && !isReferencePath(value) && !value.startsWith('$$')) {
    report(ctx, path, ProblemCodes.InvalidJsonPath, `'${value}' must be a reference path (children and indexes only, no wildcards, filters or slices)`);
  }
}

function checkIntrinsic(value: string, path: string, ctx: Ctx): void {
  try {
    parseIntrinsic(value);
  } catch (error) {
    if (error instanceof IntrinsicSyntaxError) report(ctx, path, ProblemCodes.InvalidIntrinsic, error.message);
    else throw error;
  }
}

function checkPayloadTemplate(template: unknown, path: string, ctx: Ctx): void {
  if (Array.isArray(template)) {
    template.forEach((item, i) => checkPayloadTemplate(item, pointer(path, i), ctx));
    return;
  }
  if (!isJsonObject(template)) return;
  for (const [key, value] of Object.entries(template)) {
    const at = pointer(path, key);
    if (key.endsWith('.$')) {
      if (typeof value !== 'string') {
        report(ctx, at, ProblemCodes.SchemaValidationFailed, `The value of '${key}' must be a path or an intrinsic function`);
      } else if (looksLikeIntrinsic(value)) checkIntrinsic(value, at, ctx);
      else checkPath(value, at, false, ctx);
    } else checkPayloadTemplate(value, at, ctx);
  }
}

function checkJsonata(value: unknown, path: string, ctx: Ctx): void {
  if (typeof value === 'string') {
    if (isJsonataExpression(value)) {
      const problem = jsonataSyntaxProblem(value);
      if (problem !== undefined) report(ctx, path, ProblemCodes.InvalidJsonata, `Invalid JSONata expression: ${problem}`);
    }
    return;
  }
  if (Array.isArray(value)) value.forEach((item, i) => checkJsonata(item, pointer(path, i), ctx));
  else if (isJsonObject(value)) {
    for (const [key, item] of Object.entries(value)) checkJsonata(item, pointer(path, key), ctx);
  }
}

function checkAssign(assign: unknown, path: string, language: QueryLanguage, ctx: Ctx): void {
  if (!isJsonObject(assign)) {
    report(ctx, path, ProblemCodes.SchemaValidationFailed, 'Assign must be an object of variable names to values');
    return;
  }
  for (const [key, value] of Object.entries(assign)) {
    const name = language === 'JSONPath' && key.endsWith('.$') ? key.slice(0, -2) : key;
    if (!VARIABLE_NAME.test(name) || name === 'states') {
      report(ctx, pointer(path, key), ProblemCodes.SchemaValidationFailed, `'${name}' is not a valid variable name`);
    }
  }
  if (language === 'JSONPath') checkPayloadTemplate(assign, path, ctx);
  else checkJsonata(assign, path, ctx);
}

function checkErrorEquals(value: unknown, path: string, isLast: boolean, ctx: Ctx): void {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string')) {
    report(ctx, path, ProblemCodes.SchemaValidationFailed, 'ErrorEquals must be a non-empty array of error names');
    return;
  }
  if (value.includes('States.ALL')) {
    if (value.length !== 1) {
      report(ctx, path, ProblemCodes.InvalidErrorMatcher, 'States.ALL must appear alone in ErrorEquals');
    }
    if (!isLast) {
      report(ctx, path, ProblemCodes.InvalidErrorMatcher, 'A retrier or catcher matching States.ALL must be the last one');
    }
  }
}

function checkRetryCatch(
  state: Record<string, unknown>,
  path: string,
  language: QueryLanguage,
  states: Record<string, unknown>,
  targets: string[],
  ctx: Ctx,
): void {
  const retry = state['Retry'];
  if (retry !== undefined) {
    if (!Array.isArray(retry)) {
      report(ctx, pointer(path, 'Retry'), ProblemCodes.SchemaValidationFailed, 'Retry must be an array of retriers');
    } else {
      retry.forEach((retrier, i) => {
        const at = pointer(path, 'Retry', i);
        if (!isJsonObject(retrier)) {
          report(ctx, at, ProblemCodes.SchemaValidationFailed, 'A retrier must be an object');
          return;
        }
        for (const key of Object.keys(retrier)) {
          if (!['ErrorEquals', 'IntervalSeconds', 'MaxAttempts', 'BackoffRate', 'MaxDelaySeconds', 'JitterStrategy', 'Comment'].includes(key)) {
            report(ctx, pointer(at, key), ProblemCodes.SchemaValidationFailed, `Field '${key}' is not supported in a retrier`);
          }
        }
        checkErrorEquals(retrier['ErrorEquals'], pointer(at, 'ErrorEquals'), i === retry.length - 1, ctx);
        if (retrier['IntervalSeconds'] !== undefined && !isPositiveInteger(retrier['IntervalSeconds'])) {
          report(ctx, pointer(at, 'IntervalSeconds'), ProblemCodes.SchemaValidationFailed, 'IntervalSeconds must be a positive integer');
        }
        if (retrier['MaxAttempts'] !== undefined && !isNonNegativeInteger(retrier['MaxAttempts'])) {
          report(ctx, pointer(at, 'MaxAttempts'), ProblemCodes.SchemaValidationFailed, 'MaxAttempts must be a non-negative integer');
        }
        const rate = retrier['BackoffRate'];
        if (rate !== undefined && !(typeof rate === 'number' && rate >= 1)) {
          report(ctx, pointer(at, 'BackoffRate'), ProblemCodes.SchemaValidationFailed, 'BackoffRate must be a number greater than or equal to 1.0');
        }
        if (retrier['MaxDelaySeconds'] !== undefined && !isPositiveInteger(retrier['MaxDelaySeconds'])) {
          report(ctx, pointer(at, 'MaxDelaySeconds'), ProblemCodes.SchemaValidationFailed, 'MaxDelaySeconds must be a positive integer');
        }
        const jitter = retrier['JitterStrategy'];
        if (jitter !== undefined && jitter !== 'FULL' && jitter !== 'NONE') {
          report(ctx, pointer(at, 'JitterStrategy'), ProblemCodes.SchemaValidationFailed, "JitterStrategy must be 'FULL' or 'NONE'");
        }
      });
    }
  }
  const catchers = state['Catch'];
  if (catchers === undefined) return;
  if (!Array.isArray(catchers)) {
    report(ctx, pointer(path, 'Catch'), ProblemCodes.SchemaValidationFailed, 'Catch must be an array of catchers');
    return;
  }
  const allowed = language === 'JSONPath' ? ['ErrorEquals', 'Next', 'ResultPath', 'Assign', 'Comment'] : ['ErrorEquals', 'Next', 'Output', 'Assign', 'Comment'];
  catchers.forEach((catcher, i) => {
    const at = pointer(path, 'Catch', i);
    if (!isJsonObject(catcher)) {
      report(ctx, at, ProblemCodes.SchemaValidationFailed, 'A catcher must be an object');
      return;
    }
    for (const key of Object.keys(catcher)) {
      if (allowed.includes(key)) continue;
      const otherLanguage = ['ResultPath', 'Output'].includes(key);
      report(ctx, pointer(at, key), otherLanguage ? ProblemCodes.QueryLanguageMismatch : ProblemCodes.SchemaValidationFailed,
        otherLanguage ? `Field '${key}' is not supported in ${language} catchers` : `Field '${key}' is not supported in a catcher`);
    }
    checkErrorEquals(catcher['ErrorEquals'], pointer(at, 'ErrorEquals'), i === catchers.length - 1, ctx);
    if (catcher['Next'] === undefined) {
      report(ctx, pointer(at, 'Next'), ProblemCodes.SchemaValidationFailed, 'A catcher needs Next');
    } else checkTarget(catcher['Next'], pointer(at, 'Next'), states, targets, ctx);
    if (language === 'JSONPath' && catcher['ResultPath'] !== undefined && catcher['ResultPath'] !== null) {
      checkPath(catcher['ResultPath'], pointer(at, 'ResultPath'), true, ctx);
    }
    if (language === 'JSONata' && catcher['Output'] !== undefined) checkJsonata(catcher['Output'], pointer(at, 'Output'), ctx);
    if (catcher['Assign'] !== undefined) checkAssign(catcher['Assign'], pointer(at, 'Assign'), language, ctx);
  });
}

function validateChoice(
  state: Record<string, unknown>,
  path: string,
  language: QueryLanguage,
  states: Record<string, unknown>,
  targets: string[],
  ctx: Ctx,
): void {
  const choices = state['Choices'];
  if (!Array.isArray(choices) || choices.length === 0) {
    report(ctx, pointer(path, 'Choices'), ProblemCodes.SchemaValidationFailed, 'A Choice state needs a non-empty Choices array');
  } else {
    choices.forEach((rule, i) => {
      const at = pointer(path, 'Choices', i);
      if (language === 'JSONata') validateJsonataRule(rule, at, ctx);
      else validateRule(rule, at, true, ctx);
      if (isJsonObject(rule)) {
        if (rule['Next'] === undefined) report(ctx, pointer(at, 'Next'), ProblemCodes.SchemaValidationFailed, 'A choice rule needs Next');
        else checkTarget(rule['Next'], pointer(at, 'Next'), states, targets, ctx);
      }
    });
  }
  if (state['Default'] !== undefined) checkTarget(state['Default'], pointer(path, 'Default'), states, targets, ctx);
}

function validateJsonataRule(rule: unknown, path: string, ctx: Ctx): void {
  if (!isJsonObject(rule)) {
    report(ctx, path, ProblemCodes.SchemaValidationFailed, 'A choice rule must be an object');
    return;
  }
  for (const key of Object.keys(rule)) {
    if (['Condition', 'Next', 'Output', 'Assign', 'Comment'].includes(key)) continue;
    const jsonPathField = key === 'Variable' || key === 'And' || key === 'Or' || key === 'Not' || CHOICE_OPERATORS.includes(key);
    report(ctx, pointer(path, key), jsonPathField ? ProblemCodes.QueryLanguageMismatch : ProblemCodes.SchemaValidationFailed,
      jsonPathField ? `Field '${key}' is not supported in JSONata choice rules; use Condition` : `Field '${key}' is not supported in a choice rule`);
  }
  const condition = rule['Condition'];
  if (condition === undefined) {
    report(ctx, pointer(path, 'Condition'), ProblemCodes.SchemaValidationFailed, 'A JSONata choice rule needs a Condition');
  } else if (typeof condition !== 'boolean' && !isJsonataExpression(condition)) {
    report(ctx, pointer(path, 'Condition'), ProblemCodes.SchemaValidationFailed, 'Condition must be a {% … %} expression or a boolean');
  } else checkJsonata(condition, pointer(path, 'Condition'), ctx);
  if (rule['Output'] !== undefined) checkJsonata(rule['Output'], pointer(path, 'Output'), ctx);
  if (rule['Assign'] !== undefined) checkAssign(rule['Assign'], pointer(path, 'Assign'), 'JSONata', ctx);
}

function validateRule(rule: unknown, path: string, topLevel: boolean, ctx: Ctx): void {
  if (!isJsonObject(rule)) {
    report(ctx, path, ProblemCodes.SchemaValidationFailed, 'A choice rule must be an object');
    return;
  }
  const combinators = ['And', 'Or', 'Not'].filter((k) => rule[k] !== undefined);
  const operators = Object.keys(rule).filter((k) => CHOICE_OPERATORS.includes(k));
  const extra = topLevel ? ['Next', 'Comment', 'Assign'] : ['Comment'];
  for (const key of Object.keys(rule)) {
    if (key === 'Variable' || combinators.includes(key) || operators.includes(key) || extra.includes(key)) continue;
    const jsonata = key === 'Condition' || key === 'Output';
    report(ctx, pointer(path, key), jsonata ? ProblemCodes.QueryLanguageMismatch : ProblemCodes.SchemaValidationFailed,
      jsonata ? `Field '${key}' is only supported in JSONata choice rules` : key === 'Next' ? 'Nested choice rules cannot have Next' : `'${key}' is not a choice rule operator`);
  }
  if (topLevel && rule['Assign'] !== undefined) checkAssign(rule['Assign'], pointer(path, 'Assign'), 'JSONPath', ctx);
  if (combinators.length + (operators.length > 0 ? 1 : 0) !== 1 || operators.length > 1) {
    report(ctx, path, ProblemCodes.SchemaValidationFailed, 'A choice rule needs exactly one comparison operator or one of And, Or, Not');
    return;
  }
  const combinator = combinators[0];
  if (combinator !== undefined) {
    if (rule['Variable'] !== undefined) {
      report(ctx, pointer(path, 'Variable'), ProblemCodes.SchemaValidationFailed, `${combinator} rules cannot have a Variable`);
    }
    const inner = rule[combinator];
    if (combinator === 'Not') validateRule(inner, pointer(path, 'Not'), false, ctx);
    else if (!Array.isArray(inner) || inner.length === 0) {
      report(ctx, pointer(path, combinator), ProblemCodes.SchemaValidationFailed, `${combinator} must be a non-empty array of rules`);
    } else inner.forEach((r, i) => validateRule(r, pointer(path, combinator, i), false, ctx));
    return;
  }
  const variable = rule['Variable'];
  if (variable === undefined) {
    report(ctx, pointer(path, 'Variable'), ProblemCodes.SchemaValidationFailed, 'A comparison needs a Variable');
  } else checkPath(variable, pointer(path, 'Variable'), false, ctx);
  const operator = operators[0];
  if (operator === undefined) return;
  const value = rule[operator];
  const at = pointer(path, operator);
  const comparison = COMPARISON_OPERATORS.get(operator);
  if (TYPE_TEST_OPERATORS.includes(operator)) {
    if (typeof value !== 'boolean') report(ctx, at, ProblemCodes.SchemaValidationFailed, `${operator} must be true or false`);
  } else if (operator === 'StringMatches') {
    if (typeof value !== 'string') report(ctx, at, ProblemCodes.SchemaValidationFailed, 'StringMatches needs a string pattern');
  } else if (comparison !== undefined) {
    if (comparison.path) checkPath(value, at, false, ctx);
    else {
      const ok =
        comparison.kind === 'string' ? typeof value === 'string'
          : comparison.kind === 'numeric' ? typeof value === 'number'
            : comparison.kind === 'boolean' ? typeof value === 'boolean'
              : isTimestamp(value);
      if (!ok) report(ctx, at, ProblemCodes.SchemaValidationFailed, `${operator} needs a ${comparison.kind} value`);
    }
  }
}
