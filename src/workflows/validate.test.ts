/**
 * @module
 * Definition validation: one test per problem code, every-problem reporting, recursion into
 * Parallel branches and Map processors, JSONata/JSONPath field rules, and parseDefinition.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isOutpostError } from '../errors.ts';
import type { Problem } from './validate.ts';
import { parseDefinition, ProblemCodes, validateDefinition } from './validate.ts';

const fn = 'arn:aws:lambda:us-east-1:000000000000:function:f';

function machine(states: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { StartAt: Object.keys(states)[0], States: states, ...extra };
}

function problems(definition: unknown): Problem[] {
  return validateDefinition(definition);
}

function has(list: Problem[], code: string, path?: string): boolean {
  return list.some((p) => p.code === code && (path === undefined || p.path === path));
}

function assertProblem(definition: unknown, code: string, path?: string): void {
  const list = problems(definition);
  assert.ok(has(list, code, path), `expected ${code} at ${path ?? '(any)'}, got ${JSON.stringify(list, null, 2)}`);
}

describe('validateDefinition', () => {
  it('accepts a valid definition', () => {
    assert.deepEqual(
      problems(machine({ A: { Type: 'Pass', Next: 'B' }, B: { Type: 'Task', Resource: fn, Retry: [{ ErrorEquals: ['States.ALL'] }], End: true } })),
      [],
    );
  });

  it('INVALID_JSON_DESCRIPTION: parseDefinition rejects text that is not JSON', () => {
    assert.throws(() => parseDefinition('{"StartAt":'), (error: unknown) => {
      assert.ok(isOutpostError(error, 'INVALID_DEFINITION'));
      assert.equal(error.fault, 'user');
      const list = error.details?.['problems'] as Problem[];
      assert.equal(list[0]?.code, ProblemCodes.InvalidJson);
      return true;
    });
  });

  it('SCHEMA_VALIDATION_FAILED: missing StartAt, bad types, unknown fields', () => {
    assertProblem({ States: { A: { Type: 'Succeed' } } }, ProblemCodes.SchemaValidationFailed, '/StartAt');
    assertProblem(machine({ A: { Type: 'Pass', End: true, Bogus: 1 } }), ProblemCodes.SchemaValidationFailed, '/States/A/Bogus');
    assertProblem(machine({ A: { Type: 'Teleport', End: true } }), ProblemCodes.SchemaValidationFailed, '/States/A/Type');
    assertProblem(machine({ A: { Type: 'Task', End: true } }), ProblemCodes.SchemaValidationFailed, '/States/A/Resource');
    assertProblem(machine({ A: { Type: 'Choice', Default: 'A' } }), ProblemCodes.SchemaValidationFailed, '/States/A/Choices');
    assertProblem(machine({ A: { Type: 'Wait', End: true } }), ProblemCodes.SchemaValidationFailed, '/States/A');
    assertProblem(machine({ A: { Type: 'Task', Resource: fn, TimeoutSeconds: 5, HeartbeatSeconds: 5, End: true } }), ProblemCodes.SchemaValidationFailed, '/States/A/HeartbeatSeconds');
    assertProblem(machine({ A: { Type: 'Pass', End: true } }, { Extra: true }), ProblemCodes.SchemaValidationFailed, '/Extra');
    assertProblem(machine({ A: { Type: 'Task', Resource: fn, Retry: [{ ErrorEquals: [] }], End: true } }), ProblemCodes.SchemaValidationFailed, '/States/A/Retry/0/ErrorEquals');
    assertProblem(machine({ A: { Type: 'Task', Resource: fn, Retry: [{ ErrorEquals: ['X'], BackoffRate: 0.5, JitterStrategy: 'SOME' }], End: true } }), ProblemCodes.SchemaValidationFailed, '/States/A/Retry/0/BackoffRate');
    assertProblem(machine({ A: { Type: 'Task', Resource: fn, Catch: [{ ErrorEquals: ['X'] }], End: true } }), ProblemCodes.SchemaValidationFailed, '/States/A/Catch/0/Next');
    assertProblem(machine({ A: { Type: 'Pass', Assign: { 'bad-name': 1 }, End: true } }), ProblemCodes.SchemaValidationFailed, '/States/A/Assign/bad-name');
    assertProblem(machine({ A: { Type: 'Choice', Choices: [{ Variable: '$.x', NumericEquals: 'one', Next: 'A' }] } }), ProblemCodes.SchemaValidationFailed, '/States/A/Choices/0/NumericEquals');
    assertProblem(machine({ A: { Type: 'Choice', Choices: [{ Variable: '$.x', Next: 'A' }] } }), ProblemCodes.SchemaValidationFailed, '/States/A/Choices/0');
  });

  it('MISSING_TRANSITION_TARGET: StartAt, Next, Default and Catch Next must name states in scope', () => {
    assertProblem(machine({ A: { Type: 'Succeed' } }, { StartAt: 'Nope' }), ProblemCodes.MissingTransitionTarget, '/StartAt');
    assertProblem(machine({ Charge: { Type: 'Pass', Next: 'Nowhere' } }), ProblemCodes.MissingTransitionTarget, '/States/Charge/Next');
    assertProblem(machine({ C: { Type: 'Choice', Choices: [{ Variable: '$.a', IsNull: true, Next: 'C' }], Default: 'Gone' } }), ProblemCodes.MissingTransitionTarget, '/States/C/Default');
    assertProblem(machine({ T: { Type: 'Task', Resource: fn, Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Gone' }], End: true } }), ProblemCodes.MissingTransitionTarget, '/States/T/Catch/0/Next');
  });

  it('MISSING_NEXT_OR_END: non-terminal states need a transition', () => {
    assertProblem(machine({ A: { Type: 'Pass' } }), ProblemCodes.MissingTransition, '/States/A');
  });

  it('MUTUALLY_EXCLUSIVE_FIELDS: Next with End, Error with ErrorPath, two wait durations', () => {
    assertProblem(machine({ A: { Type: 'Pass', Next: 'A', End: true } }), ProblemCodes.MutuallyExclusiveFields, '/States/A');
    assertProblem(machine({ F: { Type: 'Fail', Error: 'E', ErrorPath: '$.e' } }), ProblemCodes.MutuallyExclusiveFields, '/States/F');
    assertProblem(machine({ W: { Type: 'Wait', Seconds: 1, TimestampPath: '$.t', End: true } }), ProblemCodes.MutuallyExclusiveFields, '/States/W');
  });

  it('UNREACHABLE_STATE: states no transition leads to', () => {
    assertProblem(machine({ A: { Type: 'Succeed' }, Orphan: { Type: 'Succeed' } }), ProblemCodes.UnreachableState, '/States/Orphan');
  });

  it('INVALID_JSON_PATH: malformed paths and non-reference paths where a reference path is required', () => {
    assertProblem(machine({ A: { Type: 'Pass', InputPath: 'nope', End: true } }), ProblemCodes.InvalidJsonPath, '/States/A/InputPath');
    assertProblem(machine({ A: { Type: 'Pass', ResultPath: '$.items[*]', End: true } }), ProblemCodes.InvalidJsonPath, '/States/A/ResultPath');
    assertProblem(machine({ A: { Type: 'Pass', ResultPath: '$$.Execution', End: true } }), ProblemCodes.InvalidJsonPath, '/States/A/ResultPath');
    assertProblem(machine({ A: { Type: 'Pass', Parameters: { 'x.$': '$.[' }, End: true } }), ProblemCodes.InvalidJsonPath, '/States/A/Parameters/x.$');
    assertProblem(machine({ A: { Type: 'Choice', Choices: [{ Variable: 'x', IsNull: true, Next: 'A' }] } }), ProblemCodes.InvalidJsonPath, '/States/A/Choices/0/Variable');
    assertProblem(machine({ M: { Type: 'Map', ItemsPath: '$..x', ItemProcessor: machine({ I: { Type: 'Succeed' } }), End: true } }), ProblemCodes.InvalidJsonPath, '/States/M/ItemsPath');
    assertProblem(machine({ W: { Type: 'Wait', SecondsPath: '$.a[0:2]', End: true } }), ProblemCodes.InvalidJsonPath, '/States/W/SecondsPath');
  });

  it('INVALID_INTRINSIC_FUNCTION: calls that do not parse', () => {
    assertProblem(machine({ A: { Type: 'Pass', Parameters: { 'x.$': "States.Format('{}')" }, End: true } }), ProblemCodes.InvalidIntrinsic, '/States/A/Parameters/x.$');
    assertProblem(machine({ A: { Type: 'Pass', Parameters: { deep: [{ 'x.$': 'States.Unknown()' }] }, End: true } }), ProblemCodes.InvalidIntrinsic, '/States/A/Parameters/deep/0/x.$');
    assertProblem(machine({ F: { Type: 'Fail', CausePath: 'States.Format(1' } }), ProblemCodes.InvalidIntrinsic, '/States/F/CausePath');
  });

  it('INVALID_JSONATA_EXPRESSION: {% %} strings that do not compile', () => {
    assertProblem(machine({ A: { Type: 'Pass', Output: { x: '{% $states.input.( %}' }, End: true } }, { QueryLanguage: 'JSONata' }), ProblemCodes.InvalidJsonata, '/States/A/Output/x');
  });

  it('QUERY_LANGUAGE_FIELD_MISMATCH: JSONPath fields in JSONata states and vice versa', () => {
    assertProblem(machine({ A: { Type: 'Pass', Parameters: {}, End: true } }, { QueryLanguage: 'JSONata' }), ProblemCodes.QueryLanguageMismatch, '/States/A/Parameters');
    assertProblem(machine({ A: { Type: 'Task', Resource: fn, Arguments: {}, End: true } }), ProblemCodes.QueryLanguageMismatch, '/States/A/Arguments');
    assertProblem(machine({ A: { Type: 'Pass', Output: {}, End: true } }), ProblemCodes.QueryLanguageMismatch, '/States/A/Output');
    assertProblem(machine({ A: { Type: 'Pass', QueryLanguage: 'JSONPath', End: true } }, { QueryLanguage: 'JSONata' }), ProblemCodes.QueryLanguageMismatch, '/States/A/QueryLanguage');
    assertProblem(machine({ C: { Type: 'Choice', QueryLanguage: 'JSONata', Choices: [{ Variable: '$.x', IsNull: true, Next: 'C' }] } }), ProblemCodes.QueryLanguageMismatch, '/States/C/Choices/0/Variable');
    assertProblem(machine({ T: { Type: 'Task', Resource: fn, QueryLanguage: 'JSONata', Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.e', Next: 'T' }], End: true } }), ProblemCodes.QueryLanguageMismatch, '/States/T/Catch/0/ResultPath');
    // A JSONata state inside a JSONPath machine is fine.
    assert.deepEqual(problems(machine({ A: { Type: 'Pass', QueryLanguage: 'JSONata', Output: '{% 1 %}', End: true } })), []);
  });

  it('INVALID_ERROR_MATCHER: States.ALL must be alone and last', () => {
    assertProblem(machine({ T: { Type: 'Task', Resource: fn, Retry: [{ ErrorEquals: ['States.ALL', 'X'] }], End: true } }), ProblemCodes.InvalidErrorMatcher, '/States/T/Retry/0/ErrorEquals');
    assertProblem(
      machine({ T: { Type: 'Task', Resource: fn, Catch: [{ ErrorEquals: ['States.ALL'], Next: 'T' }, { ErrorEquals: ['X'], Next: 'T' }], End: true } }),
      ProblemCodes.InvalidErrorMatcher,
      '/States/T/Catch/0/ErrorEquals',
    );
  });

  it('DUPLICATE_STATE_NAME: names are unique across branches', () => {
    assertProblem(
      machine({ P: { Type: 'Parallel', Branches: [machine({ P: { Type: 'Succeed' } })], End: true } }),
      ProblemCodes.DuplicateStateName,
      '/States/P/Branches/0/States/P',
    );
  });

  it('UNSUPPORTED_FEATURE: distributed Map readers and writers', () => {
    assertProblem(
      machine({ M: { Type: 'Map', ItemReader: { Resource: 'arn:aws:states:::s3:getObject' }, ItemProcessor: machine({ I: { Type: 'Succeed' } }), End: true } }),
      ProblemCodes.UnsupportedFeature,
      '/States/M/ItemReader',
    );
  });

  it('reports every problem, including inside Parallel branches and Map processors', () => {
    const list = problems({
      StartAt: 'Missing',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'X', States: { X: { Type: 'Pass', Next: 'Y' } } }],
          Next: 'M',
        },
        M: {
          Type: 'Map',
          ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Task', Resource: fn, InputPath: 'bad', End: true } } },
          End: true,
        },
      },
    });
    assert.ok(has(list, ProblemCodes.MissingTransitionTarget, '/StartAt'));
    assert.ok(has(list, ProblemCodes.MissingTransitionTarget, '/States/P/Branches/0/States/X/Next'));
    assert.ok(has(list, ProblemCodes.InvalidJsonPath, '/States/M/ItemProcessor/States/I/InputPath'));
    assert.ok(list.length >= 3);
  });

  it('parseDefinition returns the typed definition or throws INVALID_DEFINITION with every problem', () => {
    const ok = parseDefinition(JSON.stringify(machine({ A: { Type: 'Succeed' } })));
    assert.equal(ok.StartAt, 'A');
    assert.throws(() => parseDefinition(machine({ A: { Type: 'Pass' }, B: { Type: 'Pass', End: true } })), (error: unknown) => {
      assert.ok(isOutpostError(error, 'INVALID_DEFINITION'));
      assert.equal(error.status, 400);
      assert.equal((error.details?.['problems'] as Problem[]).length, 2);
      return true;
    });
  });
});
