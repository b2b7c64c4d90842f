/**
 * @module
 * Choice rule conformance: every comparison operator and its Path variant, StringMatches
 * wildcards and escapes, the Is* tests, And/Or/Not, type mismatches, missing variables, and the
 * Choice state's Default and States.NoChoiceMatched.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StateMachineDefinition } from './definition.ts';
import { COMPARISON_OPERATORS, evaluateChoiceRule, stringMatches } from './choice.ts';
import { StatesError } from './failure.ts';
import { runWithTestHost } from './testing.ts';

const input = {
  s: 'banana',
  n: 10,
  b: true,
  t: '2024-05-01T10:00:00Z',
  nul: null,
  other: { s: 'cherry', n: 10, b: true, t: '2024-05-01T12:00:00+02:00', lo: 'apple', small: 2 },
};

const test = (rule: Record<string, unknown>): boolean => evaluateChoiceRule(rule, { input });

describe('comparison operators', () => {
  const cases: Array<[string, string, unknown, boolean]> = [
    ['StringEquals', '$.s', 'banana', true],
    ['StringEquals', '$.s', 'Banana', false],
    ['StringLessThan', '$.s', 'cherry', true],
    ['StringGreaterThan', '$.s', 'apple', true],
    ['StringLessThanEquals', '$.s', 'banana', true],
    ['StringGreaterThanEquals', '$.s', 'banana', true],
    ['StringGreaterThanEquals', '$.s', 'c', false],
    ['NumericEquals', '$.n', 10, true],
    ['NumericLessThan', '$.n', 10.5, true],
    ['NumericGreaterThan', '$.n', 10, false],
    ['NumericLessThanEquals', '$.n', 10, true],
    ['NumericGreaterThanEquals', '$.n', 11, false],
    ['BooleanEquals', '$.b', true, true],
    ['BooleanEquals', '$.b', false, false],
    ['TimestampEquals', '$.t', '2024-05-01T12:00:00+02:00', true],
    ['TimestampLessThan', '$.t', '2024-05-01T10:00:01Z', true],
    ['TimestampGreaterThan', '$.t', '2024-05-01T09:59:59Z', true],
    ['TimestampLessThanEquals', '$.t', '2024-05-01T10:00:00Z', true],
    ['TimestampGreaterThanEquals', '$.t', '2024-05-01T10:00:01Z', false],
  ];
  for (const [operator, variable, value, expected] of cases) {
    it(`${operator} ${JSON.stringify(value)} is ${expected}`, () => {
      assert.equal(test({ Variable: variable, [operator]: value }), expected);
    });
  }

  it('has a Path variant for every comparison, reading the other side from the input', () => {
    const paths: Array<[string, string, string, boolean]> = [
      ['StringEqualsPath', '$.s', '$.other.s', false],
      ['StringLessThanPath', '$.s', '$.other.s', true],
      ['StringGreaterThanPath', '$.s', '$.other.lo', true],
      ['StringLessThanEqualsPath', '$.s', '$.s', true],
      ['StringGreaterThanEqualsPath', '$.s', '$.other.s', false],
      ['NumericEqualsPath', '$.n', '$.other.n', true],
      ['NumericLessThanPath', '$.other.small', '$.n', true],
      ['NumericGreaterThanPath', '$.n', '$.other.small', true],
      ['NumericLessThanEqualsPath', '$.n', '$.other.n', true],
      ['NumericGreaterThanEqualsPath', '$.other.small', '$.n', false],
      ['BooleanEqualsPath', '$.b', '$.other.b', true],
      ['TimestampEqualsPath', '$.t', '$.other.t', true],
      ['TimestampLessThanPath', '$.t', '$.other.t', false],
      ['TimestampGreaterThanPath', '$.t', '$.other.t', false],
      ['TimestampLessThanEqualsPath', '$.t', '$.other.t', true],
      ['TimestampGreaterThanEqualsPath', '$.t', '$.other.t', true],
    ];
    for (const [operator, variable, other, expected] of paths) {
      assert.equal(test({ Variable: variable, [operator]: other }), expected, operator);
    }
    const pathOperators = [...COMPARISON_OPERATORS.keys()].filter((k) => k.endsWith('Path'));
    assert.deepEqual(new Set(pathOperators), new Set(paths.map((p) => p[0])));
  });

  it('is false, not an error, when the types differ', () => {
    assert.equal(test({ Variable: '$.s', NumericEquals: 1 }), false);
    assert.equal(test({ Variable: '$.n', StringEquals: '10' }), false);
    assert.equal(test({ Variable: '$.s', TimestampEquals: '2024-05-01T10:00:00Z' }), false);
    assert.equal(test({ Variable: '$.nul', BooleanEquals: false }), false);
  });

  it('fails with States.Runtime when the Variable is not in the input', () => {
    assert.throws(
      () => test({ Variable: '$.missing', StringEquals: 'x' }),
      (error: unknown) => error instanceof StatesError && error.error === 'States.Runtime',
    );
    assert.throws(() => test({ Variable: '$.s', StringEqualsPath: '$.missing' }), StatesError);
  });
});

describe('StringMatches', () => {
  it('treats * as a wildcard and \\* / \\\\ as literals', () => {
    assert.equal(stringMatches('log-2024.txt', 'log-*.txt'), true);
    assert.equal(stringMatches('log-2024.csv', 'log-*.txt'), false);
    assert.equal(stringMatches('anything', '*'), true);
    assert.equal(stringMatches('a*b', 'a\\*b'), true);
    assert.equal(stringMatches('axb', 'a\\*b'), false);
    assert.equal(stringMatches('a\\b', 'a\\\\b'), true);
    assert.equal(stringMatches('a.b(c)', 'a.b(*)'), true);
    assert.equal(test({ Variable: '$.s', StringMatches: 'ban*' }), true);
  });
});

describe('type tests', () => {
  it('IsNull, IsPresent, IsNumeric, IsString, IsBoolean, IsTimestamp', () => {
    assert.equal(test({ Variable: '$.nul', IsNull: true }), true);
    assert.equal(test({ Variable: '$.s', IsNull: false }), true);
    assert.equal(test({ Variable: '$.missing', IsPresent: false }), true);
    assert.equal(test({ Variable: '$.nul', IsPresent: true }), true);
    assert.equal(test({ Variable: '$.n', IsNumeric: true }), true);
    assert.equal(test({ Variable: '$.s', IsNumeric: true }), false);
    assert.equal(test({ Variable: '$.s', IsString: true }), true);
    assert.equal(test({ Variable: '$.b', IsBoolean: true }), true);
    assert.equal(test({ Variable: '$.t', IsTimestamp: true }), true);
    assert.equal(test({ Variable: '$.s', IsTimestamp: false }), true);
  });
});

describe('combinators', () => {
  it('And, Or and Not nest', () => {
    const rule = {
      And: [
        { Variable: '$.n', NumericGreaterThan: 5 },
        { Or: [{ Variable: '$.s', StringEquals: 'apple' }, { Not: { Variable: '$.b', BooleanEquals: false } }] },
      ],
    };
    assert.equal(test(rule), true);
    assert.equal(test({ Not: rule }), false);
    assert.equal(test({ Or: [{ Variable: '$.n', NumericLessThan: 0 }, { Variable: '$.s', IsString: false }] }), false);
  });
});

describe('Choice state', () => {
  const definition: StateMachineDefinition = {
    StartAt: 'C',
    States: {
      C: {
        Type: 'Choice',
        InputPath: '$.order',
        OutputPath: '$.id',
        Choices: [
          { Variable: '$.total', NumericGreaterThanEquals: 100, Next: 'Big' },
          { Variable: '$.total', NumericGreaterThanEquals: 10, Next: 'Medium' },
        ],
        Default: 'Small',
      },
      Big: { Type: 'Pass', Result: 'big', End: true },
      Medium: { Type: 'Pass', Parameters: { 'id.$': '$' }, End: true },
      Small: { Type: 'Pass', Result: 'small', End: true },
    },
  };

  it('takes the first matching rule, applying InputPath before and OutputPath after', async () => {
    const { result } = await runWithTestHost(definition, { order: { total: 50, id: 'o-9' } });
    assert.deepEqual(JSON.parse(result.output ?? ''), { id: 'o-9' });
    const big = await runWithTestHost(definition, { order: { total: 500, id: 'o-1' } });
    assert.equal(big.result.output, '"big"');
  });

  it('falls back to Default', async () => {
    const { result } = await runWithTestHost(definition, { order: { total: 1, id: 'x' } });
    assert.equal(result.output, '"small"');
  });

  it('fails with States.NoChoiceMatched when nothing matches and there is no Default', async () => {
    const noDefault = structuredClone(definition);
    delete noDefault.States['C']?.Default;
    delete noDefault.States['Small'];
    const { result } = await runWithTestHost(noDefault, { order: { total: 1, id: 'x' } });
    assert.equal(result.status, 'FAILED');
    assert.equal(result.error, 'States.NoChoiceMatched');
  });
});
