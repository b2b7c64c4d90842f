/**
 * @module
 * Retry and Catch conformance. Delays are asserted exactly on the virtual clock: BackoffRate,
 * MaxDelaySeconds, JitterStrategy FULL with a fixed random, defaults, MaxAttempts 0, per-retrier
 * attempt counts, the States.ALL / States.TaskFailed wildcards, and catcher routing with
 * ResultPath.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Retrier, StateMachineDefinition } from './definition.ts';
import { TaskFailure } from './failure.ts';
import { errorMatches, retryDelayMs } from './retry.ts';
import { runWithTestHost, TestHost } from './testing.ts';
import type { TaskHandler } from './testing.ts';

const fn = 'arn:aws:lambda:us-east-1:000000000000:function:f';

function failing(errors: string[], then: unknown = 'ok'): TaskHandler {
  let call = 0;
  return () => {
    const error = errors[call];
    call += 1;
    if (error === undefined) return then;
    throw new TaskFailure(error, `call ${call}`);
  };
}

async function delays(retry: Retrier[], errors: string[], random = 0.5): Promise<{ gaps: number[]; status: string; calls: number }> {
  const host = new TestHost({ tasks: { f: failing(errors) }, random: () => random });
  const start = host.now();
  const definition: StateMachineDefinition = { StartAt: 'T', States: { T: { Type: 'Task', Resource: fn, Retry: retry, End: true } } };
  const { result } = await runWithTestHost(definition, {}, { host });
  const gaps = host.clock.sleeps.map((t, i, all) => t - (i === 0 ? start : (all[i - 1] ?? start)));
  return { gaps, status: result.status, calls: host.calls.length };
}

describe('retry backoff', () => {
  it('uses the defaults: 1 second, backoff 2.0, 3 attempts', async () => {
    const out = await delays([{ ErrorEquals: ['E'] }], ['E', 'E', 'E', 'E']);
    assert.deepEqual(out, { gaps: [1000, 2000, 4000], status: 'FAILED', calls: 4 });
  });

  it('multiplies by BackoffRate and caps at MaxDelaySeconds', async () => {
    const out = await delays([{ ErrorEquals: ['E'], IntervalSeconds: 3, BackoffRate: 2, MaxAttempts: 4, MaxDelaySeconds: 10 }], ['E', 'E', 'E', 'E']);
    assert.deepEqual(out, { gaps: [3000, 6000, 10000, 10000], status: 'SUCCEEDED', calls: 5 });
  });

  it('scales each delay by the injected random with JitterStrategy FULL', async () => {
    const out = await delays([{ ErrorEquals: ['E'], IntervalSeconds: 4, BackoffRate: 2, JitterStrategy: 'FULL' }], ['E', 'E', 'E'], 0.25);
    assert.deepEqual(out.gaps, [1000, 2000, 4000]);
    const none = await delays([{ ErrorEquals: ['E'], IntervalSeconds: 4, JitterStrategy: 'NONE' }], ['E'], 0.25);
    assert.deepEqual(none.gaps, [4000]);
  });

  it('never retries when MaxAttempts is 0', async () => {
    const out = await delays([{ ErrorEquals: ['E'], MaxAttempts: 0 }], ['E']);
    assert.deepEqual(out, { gaps: [], status: 'FAILED', calls: 1 });
  });

  it('keeps a separate attempt count per retrier, and the first matching retrier decides', async () => {
    const out = await delays(
      [
        { ErrorEquals: ['A'], IntervalSeconds: 1, MaxAttempts: 1 },
        { ErrorEquals: ['B'], IntervalSeconds: 5, MaxAttempts: 2, BackoffRate: 3 },
      ],
      ['A', 'B', 'B', 'A'],
    );
    // A retried once (1s), B twice (5s, 15s), then A again: its retrier is exhausted.
    assert.deepEqual(out, { gaps: [1000, 5000, 15000], status: 'FAILED', calls: 4 });
  });

  it('does not retry errors no retrier matches', async () => {
    const out = await delays([{ ErrorEquals: ['Other'] }], ['E']);
    assert.deepEqual(out, { gaps: [], status: 'FAILED', calls: 1 });
  });

  it('exposes the attempt number as $$.State.RetryCount', async () => {
    const host = new TestHost({ tasks: { f: failing(['E', 'E']) } });
    const definition: StateMachineDefinition = {
      StartAt: 'T',
      States: { T: { Type: 'Task', Resource: fn, Parameters: { 'n.$': '$$.State.RetryCount' }, Retry: [{ ErrorEquals: ['E'] }], End: true } },
    };
    await runWithTestHost(definition, {}, { host });
    assert.deepEqual(host.calls.map((c) => c.input), [{ n: 0 }, { n: 1 }, { n: 2 }]);
  });

  it('computes delays as IntervalSeconds × BackoffRate^n capped by MaxDelaySeconds', () => {
    assert.equal(retryDelayMs({ ErrorEquals: ['x'], IntervalSeconds: 2, BackoffRate: 1.5 }, 2, () => 0), 4500);
    assert.equal(retryDelayMs({ ErrorEquals: ['x'], IntervalSeconds: 2, MaxDelaySeconds: 3 }, 5, () => 0), 3000);
    assert.equal(retryDelayMs({ ErrorEquals: ['x'], IntervalSeconds: 10, JitterStrategy: 'FULL' }, 0, () => 0.1), 1000);
  });
});

describe('error matching', () => {
  it('States.ALL matches everything except States.Runtime; States.TaskFailed everything but States.Timeout', () => {
    assert.equal(errorMatches(['States.ALL'], 'Custom'), true);
    assert.equal(errorMatches(['States.ALL'], 'States.Timeout'), true);
    assert.equal(errorMatches(['States.ALL'], 'States.Runtime'), false);
    assert.equal(errorMatches(['States.TaskFailed'], 'Custom'), true);
    assert.equal(errorMatches(['States.TaskFailed'], 'States.Timeout'), false);
    assert.equal(errorMatches(['States.Timeout'], 'States.Timeout'), true);
    assert.equal(errorMatches(['A', 'B'], 'B'), true);
    assert.equal(errorMatches(['A'], 'a'), false);
  });
});

describe('Catch', () => {
  const definition = (catchers: Array<{ Next: string; ErrorEquals: string[]; ResultPath?: string | null }>, retry: Retrier[] = []): StateMachineDefinition => {
    const targets = new Set(catchers.map((c) => c.Next));
    const States: StateMachineDefinition['States'] = { T: { Type: 'Task', Resource: fn, Retry: retry, Catch: catchers as never, End: true } };
    // Only include catch targets that are used: unreachable states are invalid.
    if (targets.has('First')) States['First'] = { Type: 'Pass', Parameters: { route: 'first', 'in.$': '$' }, End: true };
    if (targets.has('Second')) States['Second'] = { Type: 'Pass', Parameters: { route: 'second', 'in.$': '$' }, End: true };
    return { StartAt: 'T', States };
  };

  async function route(catchers: Array<{ Next: string; ErrorEquals: string[]; ResultPath?: string | null }>, error: string, retry: Retrier[] = []): Promise<unknown> {
    const { result } = await runWithTestHost(definition(catchers, retry), { original: true }, { tasks: { f: failing([error, error, error, error]) } });
    return result.status === 'SUCCEEDED' ? JSON.parse(result.output ?? '') : result;
  }

  it('routes to the first matching catcher with the error output as the result', async () => {
    const catchers = [
      { ErrorEquals: ['A'], Next: 'First' },
      { ErrorEquals: ['States.ALL'], Next: 'Second' },
    ];
    assert.deepEqual(await route(catchers, 'A'), { route: 'first', in: { Error: 'A', Cause: 'call 1' } });
    assert.deepEqual(await route(catchers, 'Z'), { route: 'second', in: { Error: 'Z', Cause: 'call 1' } });
  });

  it('places the error output with ResultPath, or discards it with ResultPath null', async () => {
    assert.deepEqual(await route([{ ErrorEquals: ['A'], ResultPath: '$.failure', Next: 'First' }], 'A'), {
      route: 'first',
      in: { original: true, failure: { Error: 'A', Cause: 'call 1' } },
    });
    assert.deepEqual(await route([{ ErrorEquals: ['A'], ResultPath: null, Next: 'First' }], 'A'), { route: 'first', in: { original: true } });
  });

  it('catches only after retries are exhausted', async () => {
    const host = new TestHost({ tasks: { f: failing(['A', 'A', 'A']) } });
    const { result } = await runWithTestHost(definition([{ ErrorEquals: ['A'], Next: 'First' }], [{ ErrorEquals: ['A'], MaxAttempts: 2 }]), {}, { host });
    assert.equal(result.status, 'SUCCEEDED');
    assert.equal(host.calls.length, 3);
    assert.deepEqual(JSON.parse(result.output ?? '').in, { Error: 'A', Cause: 'call 3' });
  });

  it('fails the execution when no catcher matches', async () => {
    assert.deepEqual(await route([{ ErrorEquals: ['Other'], Next: 'First' }], 'A'), { status: 'FAILED', error: 'A', cause: 'call 1' });
  });

  it('Catch with States.TaskFailed does not catch States.Timeout', async () => {
    const def: StateMachineDefinition = {
      StartAt: 'T',
      States: {
        T: { Type: 'Task', Resource: fn, TimeoutSeconds: 1, Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'First' }], End: true },
        First: { Type: 'Succeed' },
      },
    };
    const never: TaskHandler = (_i, request) => new Promise((_r, reject) => request.signal.addEventListener('abort', () => reject(new Error('x'))));
    const { result } = await runWithTestHost(def, {}, { tasks: { f: never } });
    assert.equal(result.error, 'States.Timeout');
  });
});
