/**
 * @module
 * Resumption: record history, "crash" after N durable events, resume from those N events, and
 * check that nothing recorded as succeeded runs again — for every crash point of sequential,
 * Parallel and Map workflows — plus Wait remainders, surviving retry counts, and at-least-once
 * re-runs of tasks that were scheduled but never finished.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StateMachineDefinition } from './definition.ts';
import { TaskFailure } from './failure.ts';
import type { HistoryEvent } from './history.ts';
import { eventDetails, replayExtension } from './history.ts';
import { discardJournal } from './host.ts';
import { runExecution } from './interpreter.ts';
import { RecordingJournal, runWithTestHost, TestHost, VirtualClock } from './testing.ts';
import type { TaskHandler } from './testing.ts';

const fn = (name: string): string => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

const SEQUENTIAL: StateMachineDefinition = {
  StartAt: 'A',
  States: {
    A: { Type: 'Task', Resource: fn('a'), ResultPath: '$.a', Next: 'Flaky' },
    Flaky: {
      Type: 'Task',
      Resource: fn('flaky'),
      ResultPath: '$.flaky',
      Retry: [{ ErrorEquals: ['Busy'], IntervalSeconds: 2, BackoffRate: 3, MaxAttempts: 3 }],
      Next: 'Pause',
    },
    Pause: { Type: 'Wait', Seconds: 60, Next: 'Shape' },
    Shape: { Type: 'Pass', Parameters: { 'id.$': 'States.UUID()', 'a.$': '$.a' }, ResultPath: '$.shape', Next: 'B' },
    B: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'b', 'Payload.$': '$.a' }, ResultSelector: { 'value.$': '$.Payload' }, ResultPath: '$.b', End: true },
  },
};

const NESTED: StateMachineDefinition = {
  StartAt: 'Fan',
  States: {
    Fan: {
      Type: 'Parallel',
      Branches: [
        { StartAt: 'L1', States: { L1: { Type: 'Task', Resource: fn('left'), Next: 'L2' }, L2: { Type: 'Task', Resource: fn('left2'), End: true } } },
        { StartAt: 'R1', States: { R1: { Type: 'Task', Resource: fn('right'), Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 1 }], End: true } } },
      ],
      ResultPath: '$.fan',
      Next: 'Each',
    },
    Each: {
      Type: 'Map',
      ItemsPath: '$.items',
      MaxConcurrency: 2,
      ItemProcessor: {
        StartAt: 'Item',
        States: {
          Item: { Type: 'Task', Resource: fn('item'), Next: 'Nap' },
          Nap: { Type: 'Wait', Seconds: 5, Next: 'Item2' },
          Item2: { Type: 'Task', Resource: fn('item2'), End: true },
        },
      },
      ResultPath: '$.each',
      Next: 'Last',
    },
    Last: { Type: 'Task', Resource: fn('last'), End: true },
  },
};

const RETRIED_COMPOSITES: StateMachineDefinition = {
  StartAt: 'Fan',
  States: {
    Fan: {
      Type: 'Parallel',
      Branches: [
        { StartAt: 'P1', States: { P1: { Type: 'Task', Resource: fn('left'), End: true } } },
        { StartAt: 'P2', States: { P2: { Type: 'Task', Resource: fn('once'), End: true } } },
      ],
      Retry: [{ ErrorEquals: ['Glitch'], IntervalSeconds: 3, JitterStrategy: 'FULL' }],
      Next: 'Each',
    },
    Each: {
      Type: 'Map',
      ItemsPath: '$[1]',
      ToleratedFailureCount: 1,
      ItemProcessor: { StartAt: 'M', States: { M: { Type: 'Task', Resource: fn('odd'), End: true } } },
      Retry: [{ ErrorEquals: ['States.ExceedToleratedFailureThreshold'], IntervalSeconds: 1 }],
      End: true,
    },
  },
};

function handlers(): Record<string, TaskHandler> {
  let flaky = 0;
  let right = 0;
  return {
    // Keyed on the attempt in the idempotency key, so re-runs after a crash behave the same.
    once: (_input, request) => {
      if (request.idempotencyKey.includes('#0.0/')) throw new TaskFailure('Glitch', 'first Parallel attempt fails');
      return [1, 2, 3];
    },
    // First Map attempt: two failures (over the tolerance of 1); later attempts: one.
    odd: (input, request) => {
      const firstAttempt = request.idempotencyKey.includes('#1.0/');
      if (firstAttempt ? input !== 1 : input === 3) throw new TaskFailure('Odd', `item ${String(input)}`);
      return input;
    },
    a: () => ({ n: 1 }),
    flaky: () => {
      flaky += 1;
      if (flaky % 3 !== 0) throw new TaskFailure('Busy', `try ${flaky}`);
      return 'ok';
    },
    b: (input) => ({ echoed: input }),
    left: () => 'L',
    left2: (input) => `${String(input)}2`,
    right: () => {
      right += 1;
      if (right === 1) throw new TaskFailure('Glitch', 'first call fails');
      return 'R';
    },
    item: (input) => (input as number) * 10,
    item2: (input) => (input as number) + 1,
    last: (input) => ({ done: input }),
  };
}

/** Runs to completion once, for reference. */
async function reference(definition: StateMachineDefinition, input: unknown): Promise<{ events: HistoryEvent[]; output: string | undefined }> {
  const { result, events } = await runWithTestHost(definition, input, { tasks: handlers() });
  assert.equal(result.status, 'SUCCEEDED');
  return { events, output: result.output };
}

/** Runs until `n` events are durable, then stops as a crash would; returns those n events. */
async function crashAfter(definition: StateMachineDefinition, input: unknown, n: number, clock: VirtualClock, tasks: Record<string, TaskHandler>): Promise<HistoryEvent[]> {
  const crash = new AbortController();
  const journal = new RecordingJournal((events) => {
    if (events.length >= n) crash.abort();
  });
  await runWithTestHost(definition, input, { tasks, clock, journal, signal: crash.signal });
  return journal.events.slice(0, n);
}

function successKeys(events: HistoryEvent[]): string[] {
  return events
    .filter((e) => e.type === 'LambdaFunctionSucceeded' || e.type === 'TaskSucceeded')
    .map((e) => (replayExtension(e)?.key ?? '').replace(/:result$/, ''));
}

async function checkEveryCrashPoint(definition: StateMachineDefinition, input: unknown): Promise<number> {
  const ref = await reference(definition, input);
  let checked = 0;
  for (let n = 1; n < ref.events.length; n++) {
    const clock = new VirtualClock();
    const tasks = handlers();
    const prefix = await crashAfter(definition, input, n, clock, tasks);
    const host = new TestHost({ clock, tasks });
    const { result, events } = await runWithTestHost(definition, input, { host, history: prefix });
    assert.equal(result.status, 'SUCCEEDED', `crash after ${n}: ${JSON.stringify(result)}`);
    assert.equal(result.output, ref.output, `crash after ${n}: output differs`);
    // ids continue without gaps or repeats, and no logical event is written twice
    assert.deepEqual(events.map((e) => e.id), events.map((_, i) => i + 1), `crash after ${n}: ids`);
    const keys = events.map((e) => replayExtension(e)?.key);
    assert.equal(new Set(keys).size, keys.length, `crash after ${n}: duplicate keys`);
    // nothing recorded as succeeded before the crash ran again
    const done = new Set(successKeys(prefix));
    for (const call of host.calls) {
      const attemptKey = call.idempotencyKey.slice(call.idempotencyKey.indexOf('#') + 1);
      assert.ok(!done.has(attemptKey), `crash after ${n}: ${call.stateName} attempt ${attemptKey} re-ran after it was recorded as succeeded`);
    }
    // and every task attempt succeeded exactly once overall
    const succeeded = successKeys(events);
    assert.equal(new Set(succeeded).size, succeeded.length);
    assert.equal(succeeded.length, successKeys(ref.events).length);
    checked++;
  }
  return checked;
}

describe('resumption', () => {
  it('resumes a sequential workflow from every crash point without re-running recorded tasks', async () => {
    const checked = await checkEveryCrashPoint(SEQUENTIAL, { start: true });
    assert.ok(checked > 20);
  });

  it('resumes Parallel branches and Map iterations from every crash point', async () => {
    const checked = await checkEveryCrashPoint(NESTED, { items: [1, 2, 3] });
    assert.ok(checked > 30);
  });

  it('resumes retried Parallel and Map states (state-level retries, tolerated failures) from every crash point', async () => {
    const checked = await checkEveryCrashPoint(RETRIED_COMPOSITES, {});
    assert.ok(checked > 30);
  });

  it('re-runs a task that was scheduled but never completed (at-least-once), with the same idempotency key', async () => {
    const clock = new VirtualClock();
    const tasks = handlers();
    const ref = await reference(SEQUENTIAL, {});
    const scheduledAt = ref.events.findIndex((e) => e.type === 'LambdaFunctionScheduled');
    const prefix = await crashAfter(SEQUENTIAL, {}, scheduledAt + 2, clock, tasks); // Scheduled + Started
    assert.equal(prefix.at(-1)?.type, 'LambdaFunctionStarted');
    const host = new TestHost({ clock, tasks });
    const { result } = await runWithTestHost(SEQUENTIAL, {}, { host, history: prefix });
    assert.equal(result.status, 'SUCCEEDED');
    assert.equal(host.calls[0]?.stateName, 'A');
    assert.equal(host.calls[0]?.idempotencyKey.endsWith('#0:0'), true);
  });

  it('continues a recorded Wait only for the remaining time', async () => {
    const definition: StateMachineDefinition = {
      StartAt: 'W',
      States: { W: { Type: 'Wait', Seconds: 100, Next: 'Done' }, Done: { Type: 'Succeed' } },
    };
    const clock = new VirtualClock();
    const start = clock.now();
    const prefix = await crashAfter(definition, {}, 2, clock, {});
    assert.equal(prefix[1]?.type, 'WaitStateEntered');
    assert.equal(replayExtension(prefix[1] as HistoryEvent)?.waitUntil, start + 100_000);
    // The process comes back 30 virtual seconds later.
    const resumedClock = new VirtualClock(start + 30_000);
    const host = new TestHost({ clock: resumedClock });
    const { result, events } = await runWithTestHost(definition, {}, { host, history: prefix });
    assert.equal(result.status, 'SUCCEEDED');
    assert.deepEqual(resumedClock.sleeps, [start + 100_000]);
    assert.equal(events.find((e) => e.type === 'WaitStateExited')?.timestamp, start + 100_000);
  });

  it('keeps retry attempt counts and the recorded backoff across a crash', async () => {
    const definition: StateMachineDefinition = {
      StartAt: 'T',
      States: {
        T: { Type: 'Task', Resource: fn('down'), Retry: [{ ErrorEquals: ['Down'], IntervalSeconds: 10, MaxAttempts: 2, BackoffRate: 2 }], End: true },
      },
    };
    const down: TaskHandler = () => {
      throw new TaskFailure('Down', 'still down');
    };
    const clock = new VirtualClock();
    const start = clock.now();
    // ExecutionStarted, TaskStateEntered, Scheduled, Started, Failed(retryAt) — crash there.
    const prefix = await crashAfter(definition, {}, 5, clock, { down });
    assert.equal(replayExtension(prefix[4] as HistoryEvent)?.retryAt, start + 10_000);
    const resumedClock = new VirtualClock(start + 4_000);
    const host = new TestHost({ clock: resumedClock, tasks: { down } });
    const { result, events } = await runWithTestHost(definition, {}, { host, history: prefix });
    assert.deepEqual(result, { status: 'FAILED', error: 'Down', cause: 'still down' });
    // Only the two remaining attempts ran: retries are not restarted from zero.
    assert.equal(host.count('down'), 2);
    assert.deepEqual(resumedClock.sleeps, [start + 10_000, start + 10_000 + 20_000]);
    const attempts = events.filter((e) => e.type === 'LambdaFunctionFailed').map((e) => replayExtension(e)?.attempt);
    assert.deepEqual(attempts, [0, 1, 2]);
  });

  it('returns the recorded result when the history is already complete', async () => {
    const ref = await reference(SEQUENTIAL, {});
    const host = new TestHost({ tasks: handlers() });
    const { result } = await runWithTestHost(SEQUENTIAL, {}, { host, history: ref.events });
    assert.equal(result.status, 'SUCCEEDED');
    assert.equal(result.output, ref.output);
    assert.equal(host.calls.length, 0);
  });

  it('uses the recorded execution input when resuming', async () => {
    const clock = new VirtualClock();
    const prefix = await crashAfter(SEQUENTIAL, { original: 1 }, 3, clock, handlers());
    const { result } = await runWithTestHost(SEQUENTIAL, { different: 2 }, { host: new TestHost({ clock, tasks: handlers() }), history: prefix });
    assert.equal(JSON.parse(result.output ?? '{}').original, 1);
    assert.equal(eventDetails(prefix[0] as HistoryEvent)?.['input'], '{"original":1}');
  });
});

describe('stopping', () => {
  it('records ExecutionAborted with the reason when the signal aborts', async () => {
    const stop = new AbortController();
    const host = new TestHost({
      tasks: {
        slow: (_input, request) =>
          new Promise((_resolve, reject) => {
            request.signal.addEventListener('abort', () => reject(new Error('aborted')));
            stop.abort({ error: 'UserStopped', cause: 'operator pressed stop' });
          }),
      },
    });
    const definition: StateMachineDefinition = { StartAt: 'S', States: { S: { Type: 'Task', Resource: fn('slow'), End: true } } };
    const { result, events } = await runWithTestHost(definition, {}, { host, signal: stop.signal });
    assert.deepEqual(result, { status: 'ABORTED', error: 'UserStopped', cause: 'operator pressed stop' });
    assert.equal(events.at(-1)?.type, 'ExecutionAborted');
    assert.equal(host.calls[0]?.signal.aborted, true);
  });

  it('times out the whole execution after the state machine TimeoutSeconds', async () => {
    const definition: StateMachineDefinition = {
      StartAt: 'W',
      TimeoutSeconds: 10,
      States: { W: { Type: 'Wait', Seconds: 60, End: true } },
    };
    const { result, events } = await runWithTestHost(definition, {});
    assert.equal(result.status, 'TIMED_OUT');
    assert.equal(result.error, 'States.Timeout');
    assert.equal(events.at(-1)?.type, 'ExecutionTimedOut');
  });
});

describe('journal', () => {
  const context = {
    executionArn: 'arn:aws:states:us-east-1:000000000000:execution:m:e',
    executionName: 'e',
    stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:m',
    stateMachineName: 'm',
    startTime: Date.UTC(2024, 0, 1),
  };

  it('waits for each append and fails the run (not the execution) when the journal cannot persist', async () => {
    let appends = 0;
    const host = new TestHost({ tasks: handlers() });
    const journal = {
      append: async (): Promise<void> => {
        appends += 1;
        if (appends === 3) throw new Error('disk full');
      },
    };
    await assert.rejects(runExecution({ definition: SEQUENTIAL, input: {}, context, host, journal }), /disk full/);
    // Nothing ran past the event that could not be persisted.
    assert.equal(host.calls.length, 0);
  });

  it('runs Express-style with a journal that discards events', async () => {
    const result = await runExecution({ definition: SEQUENTIAL, input: {}, context, host: new TestHost({ tasks: handlers() }), journal: discardJournal });
    assert.equal(result.status, 'SUCCEEDED');
  });
});
