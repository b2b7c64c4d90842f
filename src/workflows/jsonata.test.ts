/**
 * @module
 * JSONata mode and workflow variables: Arguments, Output, Assign, Choice Condition, Items /
 * ItemSelector, Wait and Fail expressions, `$states.input/result/errorOutput/context`, the
 * AWS-added functions, variable visibility (later states, same-state Output, Map/Parallel
 * scopes), and JSONPath-mode Assign with `$name` references.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StateMachineDefinition } from './definition.ts';
import { TaskFailure } from './failure.ts';
import { eventDetails } from './history.ts';
import { runWithTestHost, TestHost } from './testing.ts';
import type { TaskHandler } from './testing.ts';

const fn = (name: string): string => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

async function run(definition: StateMachineDefinition, input: unknown, tasks: Record<string, TaskHandler> = {}, host?: TestHost): Promise<unknown> {
  const { result } = await runWithTestHost(definition, input, host === undefined ? { tasks } : { host });
  assert.equal(result.status, 'SUCCEEDED', JSON.stringify(result));
  return JSON.parse(result.output ?? 'null');
}

const jsonata = (States: StateMachineDefinition['States'], StartAt = Object.keys(States)[0] ?? ''): StateMachineDefinition => ({
  QueryLanguage: 'JSONata',
  StartAt,
  States,
});

describe('JSONata states', () => {
  it('Task: Arguments go to the task, Output shapes $states.result, default output is the result', async () => {
    const host = new TestHost({ tasks: { add: (input) => ({ sum: (input as number[]).reduce((a, b) => a + b, 0) }) } });
    const out = await run(
      jsonata({
        Add: { Type: 'Task', Resource: fn('add'), Arguments: '{% $states.input.numbers %}', Output: { total: '{% $states.result.sum %}', of: '{% $count($states.input.numbers) %}', literal: 'kept' }, Next: 'Again' },
        Again: { Type: 'Task', Resource: fn('add'), Arguments: '{% [$states.input.total, 1] %}', End: true },
      }),
      { numbers: [1, 2, 3] },
      {},
      host,
    );
    assert.deepEqual(host.calls[0]?.input, [1, 2, 3]);
    assert.deepEqual(out, { sum: 7 });
  });

  it('passes the raw input to a Task without Arguments', async () => {
    const host = new TestHost({ tasks: { f: (input) => input } });
    assert.deepEqual(await run(jsonata({ T: { Type: 'Task', Resource: fn('f'), End: true } }), { a: 1 }, {}, host), { a: 1 });
  });

  it('Assign makes variables visible to later states but not to the same state’s Output', async () => {
    const { result, events } = await runWithTestHost(
      jsonata({
        Init: { Type: 'Pass', Assign: { count: 1, name: '{% $states.input.who %}' }, Next: 'Bump' },
        Bump: { Type: 'Pass', Assign: { count: '{% $count + 1 %}' }, Output: { seenInOutput: '{% $count %}' }, Next: 'Show' },
        Show: { Type: 'Pass', Output: { count: '{% $count %}', greeting: "{% 'hi ' & $name %}", before: '{% $states.input.seenInOutput %}' }, End: true },
      }),
      { who: 'ann' },
    );
    assert.deepEqual(JSON.parse(result.output ?? ''), { count: 2, greeting: 'hi ann', before: 1 });
    const exited = events.find((e) => e.type === 'PassStateExited');
    assert.deepEqual(eventDetails(exited ?? events[0] ?? ({} as never))?.['assignedVariables'], { count: '1', name: '"ann"' });
  });

  it('Choice: Condition selects the rule; rule Output/Assign apply; Default otherwise', async () => {
    const definition = jsonata({
      C: {
        Type: 'Choice',
        Choices: [
          { Condition: '{% $states.input.n > 10 %}', Next: 'Big', Output: { size: 'big' }, Assign: { chosen: 'rule' } },
          { Condition: false, Next: 'Big' },
        ],
        Default: 'Small',
        Assign: { chosen: 'default' },
      },
      Big: { Type: 'Pass', Output: '{% $merge([$states.input, {"chosen": $chosen}]) %}', End: true },
      Small: { Type: 'Pass', Output: { chosen: '{% $chosen %}', n: '{% $states.input.n %}' }, End: true },
    });
    assert.deepEqual(await run(definition, { n: 50 }), { size: 'big', chosen: 'rule' });
    assert.deepEqual(await run(definition, { n: 5 }), { chosen: 'default', n: 5 });
  });

  it('Choice: a Condition that is not boolean is a States.QueryEvaluationError', async () => {
    const { result } = await runWithTestHost(jsonata({ C: { Type: 'Choice', Choices: [{ Condition: '{% "yes" %}', Next: 'D' }], Default: 'D' }, D: { Type: 'Succeed' } }), {});
    assert.equal(result.error, 'States.QueryEvaluationError');
  });

  it('Catch: Output and Assign see $states.errorOutput', async () => {
    const definition = jsonata({
      T: {
        Type: 'Task',
        Resource: fn('boom'),
        Catch: [{ ErrorEquals: ['Bad'], Output: { failed: '{% $states.errorOutput.Error %}', input: '{% $states.input %}' }, Assign: { why: '{% $states.errorOutput.Cause %}' }, Next: 'After' }],
        End: true,
      },
      After: { Type: 'Pass', Output: '{% $merge([$states.input, {"why": $why}]) %}', End: true },
    });
    const out = await run(definition, { id: 1 }, {
      boom: () => {
        throw new TaskFailure('Bad', 'it broke');
      },
    });
    assert.deepEqual(out, { failed: 'Bad', input: { id: 1 }, why: 'it broke' });
  });

  it('an expression that throws is a catchable States.QueryEvaluationError', async () => {
    const definition = jsonata({
      P: { Type: 'Pass', Output: '{% $error("nope") %}', End: true },
    });
    const { result } = await runWithTestHost(definition, {});
    assert.equal(result.error, 'States.QueryEvaluationError');
    const caught = jsonata({
      T: { Type: 'Task', Resource: fn('f'), Arguments: '{% $undefinedFn() %}', Catch: [{ ErrorEquals: ['States.QueryEvaluationError'], Next: 'Ok' }], End: true },
      Ok: { Type: 'Succeed' },
    });
    assert.equal((await runWithTestHost(caught, {}, { tasks: { f: () => 1 } })).result.status, 'SUCCEEDED');
  });

  it('Map: Items and ItemSelector with $states.context.Map.Item; outer variables visible inside, inner ones do not leak', async () => {
    const definition = jsonata({
      Setup: { Type: 'Pass', Assign: { factor: 10 }, Next: 'Each' },
      Each: {
        Type: 'Map',
        Items: '{% $states.input.values %}',
        ItemSelector: { v: '{% $states.context.Map.Item.Value %}', i: '{% $states.context.Map.Item.Index %}' },
        ItemProcessor: {
          StartAt: 'Scale',
          States: {
            Scale: { Type: 'Pass', Assign: { inner: '{% $states.input.v %}' }, Output: '{% $states.input.v * $factor + $states.input.i %}', End: true },
          },
        },
        Output: { results: '{% $states.result %}', leaked: '{% $exists($inner) %}' },
        End: true,
      },
    });
    assert.deepEqual(await run(definition, { values: [1, 2, 3] }), { results: [10, 21, 32], leaked: false });
  });

  it('Parallel: Arguments feed every branch and Output combines results', async () => {
    const definition = jsonata({
      P: {
        Type: 'Parallel',
        Arguments: { x: '{% $states.input.x %}' },
        Branches: [
          { StartAt: 'A', States: { A: { Type: 'Pass', Output: '{% $states.input.x + 1 %}', End: true } } },
          { StartAt: 'B', States: { B: { Type: 'Pass', Output: '{% $states.input.x * 2 %}', End: true } } },
        ],
        Output: '{% $sum($states.result) %}',
        End: true,
      },
    });
    assert.equal(await run(definition, { x: 5 }), 16);
  });

  it('Wait Seconds/Timestamp and Fail Error/Cause accept expressions', async () => {
    const host = new TestHost();
    const start = host.now();
    const { events } = await runWithTestHost(
      jsonata({ W: { Type: 'Wait', Seconds: '{% $states.input.delay * 2 %}', Next: 'F' }, F: { Type: 'Fail', Error: '{% "E." & $states.input.code %}', Cause: '{% $string($states.input.delay) %}' } }),
      { delay: 3, code: 'x' },
      { host },
    );
    assert.equal(events.find((e) => e.type === 'WaitStateExited')?.timestamp, start + 6000);
    assert.deepEqual(eventDetails(events.at(-1) ?? ({} as never)), { error: 'E.x', cause: '3', outpost: { key: 'execution:end' } });
  });

  it('binds $states.context, the injected clock and the AWS-added functions', async () => {
    const host = new TestHost({ random: () => 0.75 });
    const out = await run(
      jsonata({
        P: {
          Type: 'Pass',
          Output: {
            exec: '{% $states.context.Execution.Name %}',
            state: '{% $states.context.State.Name %}',
            now: '{% $now() %}',
            millis: '{% $millis() %}',
            uuid: '{% $uuid() %}',
            random: '{% $random() %}',
            partition: '{% $partition([1,2,3], 2) %}',
            range: '{% $range(0, 10, 5) %}',
            hash: '{% $hash("input data", "MD5") %}',
            parse: '{% $parse("{\\"a\\":[1]}") %}',
          },
          End: true,
        },
      }),
      {},
      {},
      host,
    );
    assert.deepEqual(out, {
      exec: 'test-execution',
      state: 'P',
      now: new Date(host.now()).toISOString(),
      millis: host.now(),
      uuid: '00000000-0000-4000-8000-000000000001',
      random: 0.75,
      partition: [[1, 2], [3]],
      range: [0, 5, 10],
      hash: '812f45842bc6d66ee14572ce20db8e86',
      parse: { a: [1] },
    });
  });

  it('a JSONata state can live inside a JSONPath state machine', async () => {
    const definition: StateMachineDefinition = {
      StartAt: 'Path',
      States: {
        Path: { Type: 'Pass', Parameters: { 'v.$': '$.v' }, Next: 'Ata' },
        Ata: { Type: 'Pass', QueryLanguage: 'JSONata', Output: '{% $states.input.v * 3 %}', End: true },
      },
    };
    assert.equal(await run(definition, { v: 2 }), 6);
  });
});

describe('JSONPath Assign', () => {
  it('assigns from the state result and reads variables with $name in later paths and choices', async () => {
    const host = new TestHost({ tasks: { lookup: () => ({ customer: { id: 'c-1', tier: 'gold' } }) } });
    const definition: StateMachineDefinition = {
      StartAt: 'Lookup',
      States: {
        Lookup: {
          Type: 'Task',
          Resource: fn('lookup'),
          ResultSelector: { 'c.$': '$.customer' },
          Assign: { 'customerId.$': '$.c.id', 'tier.$': '$.c.tier', 'started.$': '$$.Execution.Name', fixed: 3 },
          ResultPath: null,
          Next: 'Tier',
        },
        Tier: { Type: 'Choice', Choices: [{ Variable: '$tier', StringEquals: 'gold', Next: 'Gold', Assign: { 'path.$': "States.Format('{}-gold', $customerId)" } }], Default: 'Gold' },
        Gold: { Type: 'Pass', Parameters: { 'id.$': '$customerId', 'path.$': '$path', 'fixed.$': '$fixed', 'by.$': '$started', 'input.$': '$' }, End: true },
      },
    };
    assert.deepEqual(await run(definition, { orig: 1 }, {}, host), { id: 'c-1', path: 'c-1-gold', fixed: 3, by: 'test-execution', input: { orig: 1 } });
  });
});
