/**
 * @module
 * State-type conformance for JSONPath states, written from the ASL spec: Pass, Task, Wait,
 * Succeed, Fail, Parallel and Map, the input/output processing order
 * (InputPath → Parameters → task → ResultSelector → ResultPath → OutputPath), the context
 * object, and the Task resource kinds with their history event types.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StateMachineDefinition } from './definition.ts';
import { TaskFailure } from './failure.ts';
import type { HistoryEvent } from './history.ts';
import { eventDetails, toPublicEvent } from './history.ts';
import { runWithTestHost, TestHost } from './testing.ts';
import type { TaskHandler } from './testing.ts';

const fn = (name: string): string => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

async function output(definition: StateMachineDefinition, input: unknown, tasks: Record<string, TaskHandler> = {}): Promise<unknown> {
  const { result } = await runWithTestHost(definition, input, { tasks });
  assert.equal(result.status, 'SUCCEEDED', JSON.stringify(result));
  return JSON.parse(result.output ?? 'null');
}

const single = (state: Record<string, unknown>): StateMachineDefinition => ({ StartAt: 'S', States: { S: { End: true, ...state } as never } });

describe('Pass', () => {
  it('passes input through by default', async () => {
    assert.deepEqual(await output(single({ Type: 'Pass' }), { a: 1 }), { a: 1 });
  });

  it('uses Result as the result, placed by ResultPath', async () => {
    assert.deepEqual(await output(single({ Type: 'Pass', Result: { x: 1 } }), { a: 1 }), { x: 1 });
    assert.deepEqual(await output(single({ Type: 'Pass', Result: { x: 1 }, ResultPath: '$.r.s' }), { a: 1 }), { a: 1, r: { s: { x: 1 } } });
    assert.deepEqual(await output(single({ Type: 'Pass', Result: { x: 1 }, ResultPath: null }), { a: 1 }), { a: 1 });
  });

  it('builds Parameters from paths, the context object and intrinsics', async () => {
    const out = await output(
      single({
        Type: 'Pass',
        Parameters: {
          static: 'v',
          'fromInput.$': '$.a',
          'exec.$': '$$.Execution.Name',
          'state.$': '$$.State.Name',
          'fmt.$': "States.Format('a={}', $.a)",
          nested: { 'deep.$': '$.b[1]', list: [{ 'x.$': '$.a' }] },
        },
      }),
      { a: 1, b: [5, 6] },
    );
    assert.deepEqual(out, { static: 'v', fromInput: 1, exec: 'test-execution', state: 'S', fmt: 'a=1', nested: { deep: 6, list: [{ x: 1 }] } });
  });

  it('treats null InputPath and OutputPath as {}', async () => {
    assert.deepEqual(await output(single({ Type: 'Pass', InputPath: null }), { a: 1 }), {});
    assert.deepEqual(await output(single({ Type: 'Pass', OutputPath: null }), { a: 1 }), {});
  });
});

describe('input and output processing order', () => {
  it('applies InputPath, Parameters, ResultSelector, ResultPath, OutputPath in that order', async () => {
    const host = new TestHost({ tasks: { f: (input) => ({ sum: (input as { x: number; y: number }).x + (input as { x: number; y: number }).y, noise: true }) } });
    const definition = single({
      Type: 'Task',
      Resource: fn('f'),
      InputPath: '$.numbers',
      Parameters: { 'x.$': '$.first', 'y.$': '$.second' },
      ResultSelector: { 'total.$': '$.sum' },
      ResultPath: '$.numbers.result',
      OutputPath: '$.numbers',
    });
    const { result } = await runWithTestHost(definition, { numbers: { first: 2, second: 3 }, other: 'dropped' }, { host });
    assert.deepEqual(host.calls[0]?.input, { x: 2, y: 3 });
    // ResultPath writes into the *raw* state input, not the InputPath selection.
    assert.deepEqual(JSON.parse(result.output ?? ''), { first: 2, second: 3, result: { total: 5 } });
  });

  it('fails with States.ParameterPathFailure when a Parameters path is missing', async () => {
    const { result } = await runWithTestHost(single({ Type: 'Pass', Parameters: { 'x.$': '$.nope' } }), {});
    assert.equal(result.error, 'States.ParameterPathFailure');
  });

  it('fails with States.ResultPathMatchFailure when ResultPath cannot be applied, which Catch can handle', async () => {
    const definition: StateMachineDefinition = {
      StartAt: 'T',
      States: {
        T: { Type: 'Task', Resource: fn('f'), ResultPath: '$.a.b', Catch: [{ ErrorEquals: ['States.ResultPathMatchFailure'], Next: 'Caught' }], End: true },
        Caught: { Type: 'Pass', End: true },
      },
    };
    const out = await output(definition, { a: 'not an object' }, { f: () => 1 });
    assert.equal((out as { Error: string }).Error, 'States.ResultPathMatchFailure');
  });

  it('fails with States.Runtime, which States.ALL does not catch, when InputPath is missing', async () => {
    const definition: StateMachineDefinition = {
      StartAt: 'T',
      States: {
        T: { Type: 'Task', Resource: fn('f'), InputPath: '$.missing', Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }], End: true },
        Caught: { Type: 'Succeed' },
      },
    };
    const { result } = await runWithTestHost(definition, {}, { tasks: { f: () => 1 } });
    assert.equal(result.status, 'FAILED');
    assert.equal(result.error, 'States.Runtime');
  });
});

describe('Wait', () => {
  async function waited(state: Record<string, unknown>, input: unknown): Promise<number> {
    const host = new TestHost();
    const start = host.now();
    const { result, events } = await runWithTestHost(single({ Type: 'Wait', ...state }), input, { host });
    assert.equal(result.status, 'SUCCEEDED');
    const exited = events.find((e) => e.type === 'WaitStateExited');
    return (exited?.timestamp ?? 0) - start;
  }

  it('waits Seconds, SecondsPath, Timestamp and TimestampPath', async () => {
    const start = new TestHost().now();
    const at = new Date(start + 90_000).toISOString().replace('.000Z', 'Z');
    assert.equal(await waited({ Seconds: 10 }, {}), 10_000);
    assert.equal(await waited({ SecondsPath: '$.delay' }, { delay: 25 }), 25_000);
    assert.equal(await waited({ Timestamp: at }, {}), 90_000);
    assert.equal(await waited({ TimestampPath: '$.until' }, { until: at }), 90_000);
    assert.equal(await waited({ Timestamp: '2000-01-01T00:00:00Z' }, {}), 0);
  });

  it('fails with States.Runtime when SecondsPath is not a number or TimestampPath not a timestamp', async () => {
    for (const [state, input] of [
      [{ SecondsPath: '$.d' }, { d: 'soon' }],
      [{ TimestampPath: '$.t' }, { t: 'tomorrow' }],
    ] as const) {
      const { result } = await runWithTestHost(single({ Type: 'Wait', ...state }), input);
      assert.equal(result.error, 'States.Runtime');
    }
  });

  it('passes its input through InputPath/OutputPath', async () => {
    assert.deepEqual(await output(single({ Type: 'Wait', Seconds: 1, InputPath: '$.a', OutputPath: '$.b' }), { a: { b: 7 } }), 7);
  });
});

describe('Succeed and Fail', () => {
  it('Succeed ends the execution with its (filtered) input', async () => {
    const definition: StateMachineDefinition = { StartAt: 'Ok', States: { Ok: { Type: 'Succeed', InputPath: '$.a', OutputPath: '$.b' } } };
    assert.equal(await output(definition, { a: { b: 'yes' } }), 'yes');
  });

  it('Fail reports Error and Cause', async () => {
    const { result, events } = await runWithTestHost({ StartAt: 'F', States: { F: { Type: 'Fail', Error: 'Boom', Cause: 'because' } } }, {});
    assert.deepEqual(result, { status: 'FAILED', error: 'Boom', cause: 'because' });
    assert.deepEqual(events.map((e) => e.type), ['ExecutionStarted', 'FailStateEntered', 'ExecutionFailed']);
    assert.deepEqual(toPublicEvent(events[2] as HistoryEvent)['executionFailedEventDetails'], { error: 'Boom', cause: 'because' });
  });

  it('Fail reads ErrorPath and CausePath, which may be intrinsics', async () => {
    const { result } = await runWithTestHost(
      { StartAt: 'F', States: { F: { Type: 'Fail', ErrorPath: '$.code', CausePath: "States.Format('order {} failed', $.id)" } } },
      { code: 'E42', id: 7 },
    );
    assert.deepEqual(result, { status: 'FAILED', error: 'E42', cause: 'order 7 failed' });
  });
});

describe('Parallel', () => {
  const definition: StateMachineDefinition = {
    StartAt: 'P',
    States: {
      P: {
        Type: 'Parallel',
        Parameters: { 'v.$': '$.v' },
        Branches: [
          { StartAt: 'A', States: { A: { Type: 'Pass', Parameters: { 'a.$': '$.v' }, End: true } } },
          { StartAt: 'B', States: { B: { Type: 'Task', Resource: fn('double'), End: true } } },
        ],
        ResultSelector: { 'first.$': '$[0].a', 'second.$': '$[1]' },
        ResultPath: '$.out',
        End: true,
      },
    },
  };

  it('runs every branch on the same input and collects their outputs in order', async () => {
    const out = await output(definition, { v: 4 }, { double: (input) => (input as { v: number }).v * 2 });
    assert.deepEqual(out, { v: 4, out: { first: 4, second: 8 } });
  });

  it('fails with the failing branch’s error, stopping the other branches, and Catch sees it', async () => {
    let stopped = false;
    const failing: StateMachineDefinition = {
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Slow', States: { Slow: { Type: 'Task', Resource: fn('slow'), End: true } } },
            { StartAt: 'Pause', States: { Pause: { Type: 'Wait', Seconds: 1, Next: 'Bad' }, Bad: { Type: 'Fail', Error: 'BranchBroke', Cause: 'no' } } },
          ],
          Catch: [{ ErrorEquals: ['BranchBroke'], ResultPath: '$.err', Next: 'Handled' }],
          End: true,
        },
        Handled: { Type: 'Pass', End: true },
      },
    };
    const out = await output(failing, { k: 1 }, {
      slow: (_input, request) =>
        new Promise((_resolve, reject) => {
          request.signal.addEventListener('abort', () => {
            stopped = true;
            reject(new Error('stopped'));
          });
        }),
    });
    assert.deepEqual(out, { k: 1, err: { Error: 'BranchBroke', Cause: 'no' } });
    assert.equal(stopped, true);
  });

  it('records ParallelStateEntered/Started/Succeeded/Exited', async () => {
    const { events } = await runWithTestHost(definition, { v: 1 }, { tasks: { double: () => 2 } });
    const parallel = events.map((e) => e.type).filter((t) => t.startsWith('Parallel'));
    assert.deepEqual(parallel, ['ParallelStateEntered', 'ParallelStateStarted', 'ParallelStateSucceeded', 'ParallelStateExited']);
  });
});

describe('Map', () => {
  it('iterates ItemsPath with ItemSelector and $$.Map.Item', async () => {
    const definition = single({
      Type: 'Map',
      ItemsPath: '$.items',
      ItemSelector: { 'value.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index', 'tag.$': '$.tag' },
      ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } },
      ResultPath: '$.results',
    });
    const out = await output(definition, { tag: 't', items: ['a', 'b'] });
    assert.deepEqual(out, {
      tag: 't',
      items: ['a', 'b'],
      results: [
        { value: 'a', index: 0, tag: 't' },
        { value: 'b', index: 1, tag: 't' },
      ],
    });
  });

  it('supports the legacy Iterator and Parameters fields', async () => {
    const definition = single({
      Type: 'Map',
      Parameters: { 'n.$': '$$.Map.Item.Value' },
      Iterator: { StartAt: 'I', States: { I: { Type: 'Task', Resource: fn('inc'), End: true } } },
    });
    assert.deepEqual(await output(definition, [1, 2, 3], { inc: (input) => (input as { n: number }).n + 1 }), [2, 3, 4]);
  });

  it('returns [] for no items and fails with States.Runtime when the items are not an array', async () => {
    const definition = single({ Type: 'Map', ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } } });
    assert.deepEqual(await output(definition, []), []);
    const { result } = await runWithTestHost(definition, { not: 'array' });
    assert.equal(result.error, 'States.Runtime');
  });

  it('respects MaxConcurrency and MaxConcurrencyPath', async () => {
    for (const [state, input] of [
      [{ MaxConcurrency: 2 }, [1, 2, 3, 4, 5]],
      [{ MaxConcurrencyPath: '$[0]', ItemsPath: '$' }, [2, 2, 3, 4, 5]],
    ] as const) {
      let running = 0;
      let peak = 0;
      const definition = single({ Type: 'Map', ...state, ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Task', Resource: fn('work'), End: true } } } });
      await output(definition, input, {
        work: async (item) => {
          running += 1;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setImmediate(resolve));
          running -= 1;
          return item;
        },
      });
      assert.equal(peak, 2);
    }
  });

  it('records MapStateStarted with the item count and one MapIteration pair per item', async () => {
    const definition = single({ Type: 'Map', ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } } });
    const { events } = await runWithTestHost(definition, [1, 2]);
    assert.deepEqual(toPublicEvent(events.find((e) => e.type === 'MapStateStarted') as HistoryEvent)['mapStateStartedEventDetails'], { length: 2 });
    const iterations = events.filter((e) => e.type.startsWith('MapIteration')).map((e) => `${e.type}:${String(eventDetails(e)?.['index'])}`);
    assert.deepEqual(iterations.sort(), ['MapIterationStarted:0', 'MapIterationStarted:1', 'MapIterationSucceeded:0', 'MapIterationSucceeded:1']);
  });

  const failing = (state: Record<string, unknown>): StateMachineDefinition =>
    single({
      Type: 'Map',
      ...state,
      ItemProcessor: {
        StartAt: 'C',
        States: {
          C: { Type: 'Choice', Choices: [{ Variable: '$', BooleanEquals: false, Next: 'Bad' }], Default: 'Good' },
          Bad: { Type: 'Fail', Error: 'ItemBad', Cause: 'false item' },
          Good: { Type: 'Succeed' },
        },
      },
    });

  it('fails on the first failed iteration when no tolerance is set', async () => {
    const { result } = await runWithTestHost(failing({}), [true, false, true]);
    assert.deepEqual(result, { status: 'FAILED', error: 'ItemBad', cause: 'false item' });
  });

  it('tolerates failures up to ToleratedFailureCount / Percentage', async () => {
    assert.deepEqual(await output(failing({ ToleratedFailureCount: 1 }), [true, false, true]), [true, { Error: 'ItemBad', Cause: 'false item' }, true]);
    assert.deepEqual((await output(failing({ ToleratedFailurePercentage: 50 }), [true, false])) as unknown[], [true, { Error: 'ItemBad', Cause: 'false item' }]);
    assert.deepEqual(await output(failing({ ToleratedFailureCountPath: '$.tolerate', ItemsPath: '$.items' }), { tolerate: 1, items: [false] }), [
      { Error: 'ItemBad', Cause: 'false item' },
    ]);
  });

  it('fails with States.ExceedToleratedFailureThreshold beyond the tolerance', async () => {
    const { result } = await runWithTestHost(failing({ ToleratedFailureCount: 1 }), [false, false, true]);
    assert.equal(result.error, 'States.ExceedToleratedFailureThreshold');
    const pct = await runWithTestHost(failing({ ToleratedFailurePercentage: 10 }), [true, false, true]);
    assert.equal(pct.result.error, 'States.ExceedToleratedFailureThreshold');
  });
});

describe('Task resources', () => {
  it('plain Lambda ARNs get the input directly and write LambdaFunction* events', async () => {
    const host = new TestHost({ tasks: { f: (input) => ({ got: input }) } });
    const { result, events } = await runWithTestHost(single({ Type: 'Task', Resource: fn('f'), TimeoutSeconds: 30 }), { a: 1 }, { host });
    assert.deepEqual(JSON.parse(result.output ?? ''), { got: { a: 1 } });
    assert.deepEqual(host.calls[0]?.input, { a: 1 });
    assert.equal(host.calls[0]?.timeoutSeconds, 30);
    const scheduled = toPublicEvent(events.find((e) => e.type === 'LambdaFunctionScheduled') as HistoryEvent);
    assert.deepEqual(scheduled['lambdaFunctionScheduledEventDetails'], { resource: fn('f'), input: '{"a":1}', inputDetails: { truncated: false }, timeoutInSeconds: 30 });
  });

  it('lambda:invoke passes Payload and wraps the result like the Lambda API, with Task* events', async () => {
    const host = new TestHost({ tasks: { f: (input) => ({ echoed: input }) } });
    const definition = single({ Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: fn('f'), 'Payload.$': '$' } });
    const { result, events } = await runWithTestHost(definition, { a: 1 }, { host });
    assert.deepEqual(host.calls[0]?.input, { a: 1 });
    assert.deepEqual(host.calls[0]?.parameters, { FunctionName: fn('f'), Payload: { a: 1 } });
    assert.deepEqual(JSON.parse(result.output ?? ''), { ExecutedVersion: '$LATEST', Payload: { echoed: { a: 1 } }, StatusCode: 200 });
    assert.deepEqual(events.map((e) => e.type).slice(2, 5), ['TaskScheduled', 'TaskStarted', 'TaskSucceeded']);
    assert.deepEqual(toPublicEvent(events[2] as HistoryEvent)['taskScheduledEventDetails'], {
      resourceType: 'lambda',
      resource: 'invoke',
      region: 'us-east-1',
      parameters: JSON.stringify({ FunctionName: fn('f'), Payload: { a: 1 } }),
    });
  });

  it('lambda:invoke.waitForTaskToken hands the host a token that $$.Task.Token also sees', async () => {
    const host = new TestHost({ tasks: { f: (input, request) => ({ sawToken: (input as { token: string }).token === request.taskToken }) } });
    const definition = single({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: 'f', Payload: { 'token.$': '$$.Task.Token' } },
    });
    const { result } = await runWithTestHost(definition, {}, { host });
    assert.ok(typeof host.calls[0]?.taskToken === 'string');
    // The callback result is used as-is (what SendTaskSuccess delivered), not wrapped.
    assert.deepEqual(JSON.parse(result.output ?? ''), { sawToken: true });
  });

  it('TimeoutSeconds fails the attempt with States.Timeout and a TimedOut event', async () => {
    const never: TaskHandler = (_input, request) => new Promise((_r, reject) => request.signal.addEventListener('abort', () => reject(new Error('x'))));
    const host = new TestHost({ tasks: { f: never } });
    const start = host.now();
    const { result, events } = await runWithTestHost(single({ Type: 'Task', Resource: fn('f'), TimeoutSecondsPath: '$.t' }), { t: 5 }, { host });
    assert.equal(result.error, 'States.Timeout');
    const timedOut = events.find((e) => e.type === 'LambdaFunctionTimedOut');
    assert.equal(timedOut?.timestamp, start + 5000);
    const service = await runWithTestHost(single({ Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'f' }, TimeoutSeconds: 1 }), {}, { tasks: { f: never } });
    assert.ok(service.events.some((e) => e.type === 'TaskTimedOut'));
  });

  it('HeartbeatSeconds fails with States.HeartbeatTimeout unless the host reports heartbeats', async () => {
    const never: TaskHandler = (_input, request) => new Promise((_r, reject) => request.signal.addEventListener('abort', () => reject(new Error('x'))));
    const { result } = await runWithTestHost(single({ Type: 'Task', Resource: fn('f'), HeartbeatSeconds: 10, TimeoutSeconds: 100 }), {}, { tasks: { f: never } });
    assert.equal(result.error, 'States.HeartbeatTimeout');

    const clock = new TestHost().clock;
    const beating: TaskHandler = async (_input, request) => {
      for (let i = 0; i < 5; i++) {
        await clock.sleepUntil(clock.now() + 8000, request.signal);
        request.heartbeat();
      }
      return 'done';
    };
    const alive = await runWithTestHost(single({ Type: 'Task', Resource: fn('f'), HeartbeatSeconds: 10 }), {}, { clock, tasks: { f: beating } });
    assert.equal(alive.result.output, '"done"');
  });

  it('a thrown non-TaskFailure error becomes States.TaskFailed', async () => {
    const { result } = await runWithTestHost(single({ Type: 'Task', Resource: fn('f') }), {}, {
      tasks: {
        f: () => {
          throw new Error('kaput');
        },
      },
    });
    assert.deepEqual(result, { status: 'FAILED', error: 'States.TaskFailed', cause: 'kaput' });
  });

  it('exposes the context object to Parameters', async () => {
    const host = new TestHost({ tasks: { f: (input) => input } });
    const definition = single({
      Type: 'Task',
      Resource: fn('f'),
      Parameters: { 'ctx.$': '$$' },
    });
    const { result } = await runWithTestHost(definition, { in: 1 }, { host, executionName: 'run-7' });
    const ctx = (JSON.parse(result.output ?? '') as { ctx: Record<string, Record<string, unknown>> }).ctx;
    assert.equal(ctx['Execution']?.['Name'], 'run-7');
    assert.deepEqual(ctx['Execution']?.['Input'], { in: 1 });
    assert.equal(ctx['Execution']?.['StartTime'], new Date(host.now()).toISOString());
    assert.equal(ctx['State']?.['Name'], 'S');
    assert.equal(ctx['State']?.['RetryCount'], 0);
    assert.equal(ctx['StateMachine']?.['Name'], 'test');
  });

  it('reports task failures from a host as their own error names', async () => {
    const { result } = await runWithTestHost(single({ Type: 'Task', Resource: fn('f') }), {}, {
      tasks: {
        f: () => {
          throw new TaskFailure('Custom.Error', 'details');
        },
      },
    });
    assert.deepEqual(result, { status: 'FAILED', error: 'Custom.Error', cause: 'details' });
  });
});
