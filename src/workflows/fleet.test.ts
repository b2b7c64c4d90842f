// Workflow executions in a fleet: two services (two "nodes") on one store. One runs each
// execution; the other does not start it again at startup, takes it over when the first hands
// it back, and can stop an execution the first one runs.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { openSqliteStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import type { HistoryEvent } from './history.ts';
import { sfnKeys } from './records.ts';
import { WorkflowService } from './service.ts';
import type { WorkflowClock } from './service.ts';

const T0 = Date.UTC(2025, 0, 1);
/** Time that never moves: a Wait lasts until the run is stopped. */
const frozen: WorkflowClock = {
  now: () => T0,
  sleepUntil: (_at, signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
};
const WAITING = JSON.stringify({ StartAt: 'Hold', States: { Hold: { Type: 'Wait', Seconds: 3600, Next: 'Done' }, Done: { Type: 'Pass', End: true } } });

async function openStore(t: TestContext): Promise<Store> {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-wf-fleet-'));
  const store = openSqliteStore({ dir });
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
}

function node(t: TestContext, store: Store, name: string): WorkflowService {
  const service = new WorkflowService({ store, invoke: async () => ({ result: {} }), clock: frozen, leaseMs: 60_000, node: `host:/${name}` });
  t.after(() => service.close());
  return service;
}

async function history(store: Store, name: string): Promise<HistoryEvent[]> {
  return (await store.meta.list<HistoryEvent>(sfnKeys.historyPrefix('hold', name))).map((e) => e.value);
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not reached in time`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('a running execution is owned by one node: another does not resume it, but takes it over once it is handed back', async (t) => {
  const store = await openStore(t);
  const a = node(t, store, 'a');
  await a.createStateMachine({ name: 'hold', definition: WAITING });
  await a.start('hold', { name: 'x' });
  await until(async () => (await history(store, 'x')).some((e) => e.type === 'WaitStateEntered'), 'the wait');

  const b = node(t, store, 'b');
  assert.equal(await b.resumeAll(), 0, 'the lease of a is live: b leaves the execution alone');
  await a.close(); // a graceful stop hands its leases back
  assert.equal(await b.resumeAll(), 1, 'b takes the execution over at once');
  assert.equal((await history(store, 'x')).filter((e) => e.type === 'ExecutionStarted').length, 1);
});

test('StopExecution sent to a node that does not run the execution stops it where it runs', async (t) => {
  const store = await openStore(t);
  const a = node(t, store, 'a');
  const b = node(t, store, 'b');
  await a.createStateMachine({ name: 'hold', definition: WAITING });
  const started = await a.start('hold', { name: 'y' });
  await until(async () => (await history(store, 'y')).some((e) => e.type === 'WaitStateEntered'), 'the wait');

  await b.stop(started.arn, { error: 'Halt', cause: 'stopped through b' });
  const stopped = await b.describe(started.arn);
  assert.equal(stopped.status, 'ABORTED');
  assert.equal(stopped.error, 'Halt');
  const events = await history(store, 'y');
  assert.equal(events.at(-1)?.type, 'ExecutionAborted');
  assert.deepEqual(events.map((e) => e.id), events.map((_e, i) => i + 1));
  assert.equal(await store.meta.get(sfnKeys.running('hold', 'y')), undefined, 'nothing left to resume');
  // a saw its lease taken (through the store's watch) and stopped without writing anything more.
  await a.idle();
  assert.equal((await a.describe(started.arn)).status, 'ABORTED');
  assert.deepEqual(await history(store, 'y'), events);
});
