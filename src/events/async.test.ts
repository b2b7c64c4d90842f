/** @module Tests for asynchronous invocation: the retry policy, settings, the destination record, and the worker against a real queue store with an injected clock. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InvocationError } from '../runtime/instance.ts';
import type { ActiveFunction, InvokeResult } from '../server/context.ts';
import { openSqliteStore } from '../store/sqlite/index.ts';
import type { Store } from '../store/types.ts';
import { afterFailure, asyncSettings, AsyncInvoker, destinationRecord, isExpired, parseDestination } from './async.ts';
import type { DestinationRecord } from './async.ts';
import { asyncFunctionOf, asyncQueueName, enqueueAsync } from './async-enqueue.ts';

test('settings: Lambda defaults, platform keys, clamping and destinations', () => {
  assert.deepEqual(asyncSettings({}), { maxRetries: 2, maxAgeMs: 21_600_000 });
  assert.deepEqual(asyncSettings({ asyncRetries: '0', asyncMaxAgeSeconds: '60', onSuccess: 'queue:done', onFailure: 'function:catcher' }), {
    maxRetries: 0,
    maxAgeMs: 60_000,
    onSuccess: { type: 'queue', name: 'done' },
    onFailure: { type: 'function', name: 'catcher' },
  });
  assert.equal(asyncSettings({ asyncRetries: '9' }).maxRetries, 2);
  assert.equal(asyncSettings({ asyncRetries: 'x' }).maxRetries, 2);
  assert.equal(parseDestination('sns:topic'), undefined);
  assert.equal(parseDestination('queue:'), undefined);
  assert.equal(parseDestination('nocolon'), undefined);
  assert.equal(asyncQueueName('orders'), '__async__orders');
  assert.equal(asyncFunctionOf('__async__orders'), 'orders');
  assert.equal(asyncFunctionOf('orders'), undefined);
});

test('retry policy: ~1 min then ~2 min, at most maxRetries, never past the maximum age', () => {
  const s = asyncSettings({});
  assert.deepEqual(afterFailure(1, 0, 0, s, 60_000), { action: 'retry', delayMs: 60_000 });
  assert.deepEqual(afterFailure(2, 0, 60_000, s, 60_000), { action: 'retry', delayMs: 120_000 });
  assert.deepEqual(afterFailure(3, 0, 180_000, s, 60_000), { action: 'give-up', condition: 'RetriesExhausted' });
  assert.deepEqual(afterFailure(1, 0, 0, asyncSettings({ asyncRetries: '0' }), 60_000), { action: 'give-up', condition: 'RetriesExhausted' });
  // A retry that would run after the maximum age is not scheduled.
  const young = asyncSettings({ asyncMaxAgeSeconds: '90' });
  assert.deepEqual(afterFailure(1, 0, 20_000, young, 60_000), { action: 'retry', delayMs: 60_000 });
  assert.deepEqual(afterFailure(2, 0, 80_000, young, 60_000), { action: 'give-up', condition: 'EventAgeExceeded' });
  assert.equal(isExpired(0, 90_000, young), false);
  assert.equal(isExpired(0, 90_001, young), true);
});

test('destination record: the shape Lambda documents, for success, failure and age', () => {
  const base = { now: Date.UTC(2026, 0, 2, 3, 4, 5, 678), requestId: 'r-1', functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST', payload: { a: 1 } };
  assert.deepEqual(destinationRecord({ ...base, condition: 'Success', invokeCount: 1, response: { result: { ok: true } } }), {
    version: '1.0',
    timestamp: '2026-01-02T03:04:05.678Z',
    requestContext: { requestId: 'r-1', functionArn: base.functionArn, condition: 'Success', approximateInvokeCount: 1 },
    requestPayload: { a: 1 },
    responseContext: { statusCode: 200, executedVersion: '$LATEST' },
    responsePayload: { ok: true },
  });
  const failed = destinationRecord({ ...base, condition: 'RetriesExhausted', invokeCount: 3, response: { error: { errorType: 'Error', errorMessage: 'no', trace: [] } } });
  assert.deepEqual(failed.responseContext, { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
  assert.deepEqual(failed.responsePayload, { errorType: 'Error', errorMessage: 'no', trace: [] });
  const aged = destinationRecord({ ...base, condition: 'EventAgeExceeded', invokeCount: 0 });
  assert.equal(aged.requestContext.condition, 'EventAgeExceeded');
  assert.equal('responsePayload' in aged, false);
  assert.equal(destinationRecord({ ...base, condition: 'Success', invokeCount: 1, response: { result: undefined } }).responsePayload, null);
});

interface Harness {
  store: Store;
  clock: { now: number };
  invoker: AsyncInvoker;
  calls: Array<{ fn: string; requestId: string | undefined; payload: unknown; at: number }>;
  /** Decides each invocation: return a result or throw. */
  behave: { fn: (name: string, payload: unknown) => unknown };
}

function fakeFunction(name: string, platform: Record<string, string>): ActiveFunction {
  return { name, key: `${name}@1`, version: { function: name, version: 1, manifest: { platform, limits: { wallMs: 5000 } } } } as unknown as ActiveFunction;
}

async function harness(t: { after(fn: () => unknown): void }, functions: Record<string, Record<string, string>>): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-async-'));
  const clock = { now: Date.UTC(2026, 0, 1) };
  const store = openSqliteStore({ dir, now: () => clock.now });
  const calls: Harness['calls'] = [];
  const behave: Harness['behave'] = { fn: () => null };
  const active = new Map(Object.entries(functions).map(([name, platform]) => [name, fakeFunction(name, platform)]));
  const invoker = new AsyncInvoker({
    queues: store.queues,
    functions: () => active,
    logger: { system: () => {} },
    region: 'local',
    now: () => clock.now,
    retryBaseMs: 1000,
    invoke: async (fn, _kind, payload, options): Promise<InvokeResult> => {
      calls.push({ fn, requestId: options?.requestId, payload, at: clock.now });
      const result = behave.fn(fn, payload);
      return { requestId: options?.requestId ?? '', result, record: {} as InvokeResult['record'] };
    },
  });
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { store, clock, invoker, calls, behave };
}

async function bodies(store: Store, queue: string): Promise<DestinationRecord[]> {
  return (await store.queues.peek(queue, { limit: 100 })).map((m) => JSON.parse(new TextDecoder().decode(m.body)) as DestinationRecord);
}

test('worker: a failing event is retried after 1× then 2× the base delay, then one failure record is sent', async (t) => {
  const h = await harness(t, { f: { onFailure: 'queue:failed' } });
  h.behave.fn = () => {
    throw new InvocationError('FUNCTION_THREW', 'nope', { userError: { name: 'RangeError', message: 'nope' } });
  };
  const { requestId } = await enqueueAsync(h.store.queues, 'f', { x: 1 });
  assert.equal(await h.invoker.deliverVisible('f'), 1);
  assert.equal(h.calls.length, 1);
  h.clock.now += 999;
  assert.equal(await h.invoker.deliverVisible('f'), 0, 'not before the first delay');
  h.clock.now += 1;
  assert.equal(await h.invoker.deliverVisible('f'), 1);
  h.clock.now += 1999;
  assert.equal(await h.invoker.deliverVisible('f'), 0, 'not before twice the base delay');
  h.clock.now += 1;
  assert.equal(await h.invoker.deliverVisible('f'), 1);
  assert.deepEqual(h.calls.map((c) => c.requestId), [requestId, requestId, requestId], 'every attempt has the invocation id');
  const [record, ...more] = await bodies(h.store, 'failed');
  assert.equal(more.length, 0);
  assert.ok(record);
  assert.equal(record.requestContext.condition, 'RetriesExhausted');
  assert.equal(record.requestContext.approximateInvokeCount, 3);
  assert.equal(record.requestContext.requestId, requestId);
  assert.deepEqual(record.requestPayload, { x: 1 });
  assert.deepEqual(record.responsePayload, { errorType: 'RangeError', errorMessage: 'nope', trace: [] });
  assert.equal((await h.store.queues.stats(asyncQueueName('f'))).visible + (await h.store.queues.stats(asyncQueueName('f'))).delayed, 0);
});

test('worker: an event older than the maximum age is not run; EventAgeExceeded goes to the destination', async (t) => {
  const h = await harness(t, { f: { asyncMaxAgeSeconds: '60', onFailure: 'function:catcher' }, catcher: {} });
  await enqueueAsync(h.store.queues, 'f', { late: true });
  h.clock.now += 61_000;
  assert.equal(await h.invoker.deliverVisible('f'), 1);
  assert.equal(h.calls.length, 0, 'the expired event never ran');
  assert.equal(await h.invoker.deliverVisible('catcher'), 1);
  const [call] = h.calls;
  assert.equal(call?.fn, 'catcher');
  const record = call?.payload as DestinationRecord;
  assert.equal(record.requestContext.condition, 'EventAgeExceeded');
  assert.equal(record.requestContext.approximateInvokeCount, 0, 'it was never run');
  assert.deepEqual(record.requestPayload, { late: true });
});

test('worker: success goes to the on-success destination; without an on-failure destination a failure is kept dead', async (t) => {
  const h = await harness(t, { ok: { onSuccess: 'queue:done' }, bad: { asyncRetries: '0' } });
  h.behave.fn = (name) => {
    if (name === 'bad') throw new InvocationError('TIMEOUT', 'slow');
    return { fine: true };
  };
  await enqueueAsync(h.store.queues, 'ok', 1);
  const bad = await enqueueAsync(h.store.queues, 'bad', 2);
  await h.invoker.deliverVisible('ok');
  await h.invoker.deliverVisible('bad');
  const [done] = await bodies(h.store, 'done');
  assert.equal(done?.requestContext.condition, 'Success');
  assert.deepEqual(done?.responsePayload, { fine: true });
  const dead = await h.store.queues.peek(asyncQueueName('bad'), { limit: 10, dead: true });
  assert.equal(dead.length, 1);
  assert.equal(dead[0]?.id, bad.requestId);
  assert.match(dead[0]?.deadReason ?? '', /^RetriesExhausted: Sandbox\.Timedout/);
});

test('enqueue: an idempotency key is accepted once within the window', async (t) => {
  const h = await harness(t, { f: {} });
  const a = await enqueueAsync(h.store.queues, 'f', 1, { idempotencyKey: 'k' });
  const b = await enqueueAsync(h.store.queues, 'f', 1, { idempotencyKey: 'k' });
  const c = await enqueueAsync(h.store.queues, 'f', 1, { idempotencyKey: 'other' });
  assert.equal(a.duplicate, false);
  assert.deepEqual(b, { requestId: a.requestId, duplicate: true });
  assert.notEqual(c.requestId, a.requestId);
  assert.equal(await h.invoker.deliverVisible('f'), 2);
  // After the window (5 minutes) the same key is a new invocation.
  h.clock.now += 5 * 60_000 + 1;
  assert.equal((await enqueueAsync(h.store.queues, 'f', 1, { idempotencyKey: 'k' })).duplicate, false);
});
