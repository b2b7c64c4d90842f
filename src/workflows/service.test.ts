// The durable workflow service over a real embedded store: every event is in the store before
// the next step, a crashed node's executions resume from history on the next start without
// re-running finished tasks, and AWS's StartExecution idempotency rules.
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
import { functionNameOf, WorkflowService } from './service.ts';
import type { InvokeFunction, WorkflowClock } from './service.ts';
import { VirtualClock } from './testing.ts';

const T0 = Date.UTC(2025, 0, 1);

/** Time that never moves: sleeps end only when aborted (a node that dies mid-Wait). */
const frozen: WorkflowClock = {
  now: () => T0,
  sleepUntil: (_at, signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
};

async function stateDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-wf-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function open(t: TestContext, dir: string): Store {
  const store = openSqliteStore({ dir });
  t.after(() => store.close().catch(() => undefined));
  return store;
}

/** Function calls by name, from every service instance in a test (the "side effects"). */
class Functions {
  readonly calls: Array<{ name: string; payload: unknown }> = [];
  readonly handlers: Record<string, (payload: unknown) => unknown>;
  constructor(handlers: Record<string, (payload: unknown) => unknown>) {
    this.handlers = handlers;
  }
  count(name: string): number {
    return this.calls.filter((c) => c.name === name).length;
  }
  invoke: InvokeFunction = async (name, _kind, payload) => {
    this.calls.push({ name, payload });
    const handler = this.handlers[name];
    if (!handler) throw Object.assign(new Error(`no function named ${name}`), { code: 'FUNCTION_NOT_FOUND' });
    return { result: await handler(payload) };
  };
}

const lambda = (name: string): string => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

async function until<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not reached in time`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function events(store: Store, sm: string, name: string): Promise<HistoryEvent[]> {
  return (await store.meta.list<HistoryEvent>(sfnKeys.historyPrefix(sm, name))).map((e) => e.value);
}

const WAIT_FLOW = {
  StartAt: 'Reserve',
  States: {
    Reserve: { Type: 'Task', Resource: lambda('reserve'), ResultPath: '$.reserved', Next: 'Hold' },
    Hold: { Type: 'Wait', Seconds: 3600, Next: 'Ship' },
    Ship: { Type: 'Task', Resource: lambda('ship'), ResultPath: '$.shipped', End: true },
  },
};

test('each history event is in the store before the next step runs', async (t) => {
  const store = open(t, await stateDir(t));
  const seenBeforeShip: string[] = [];
  const fns = new Functions({
    reserve: () => ({ ok: 1 }),
    ship: async () => {
      // By the time the second task runs, the first one's result and this task's schedule are durable.
      seenBeforeShip.push(...(await events(store, 'flow', 'e1')).map((e) => e.type));
      return { ok: 2 };
    },
  });
  const service = new WorkflowService({ store, invoke: fns.invoke, clock: new VirtualClock(T0) });
  t.after(() => service.close());
  await service.createStateMachine({ name: 'flow', definition: JSON.stringify(WAIT_FLOW) });
  const started = await service.start('flow', { name: 'e1', input: '{"order":1}' });
  assert.equal(started.arn, 'arn:aws:states:us-east-1:000000000000:execution:flow:e1');
  await service.idle();
  assert.ok(seenBeforeShip.includes('LambdaFunctionSucceeded'));
  assert.ok(seenBeforeShip.includes('WaitStateExited'));
  assert.equal(seenBeforeShip.at(-1), 'LambdaFunctionStarted');
  const done = await service.describe(started.arn);
  assert.equal(done.status, 'SUCCEEDED');
  assert.deepEqual(JSON.parse(done.output ?? ''), { order: 1, reserved: { ok: 1 }, shipped: { ok: 2 } });
  assert.equal(done.stopDate, T0 + 3_600_000, 'the wait took an hour of virtual time');
  const history = await events(store, 'flow', 'e1');
  assert.deepEqual(history.map((e) => e.id), history.map((_e, i) => i + 1));
  assert.equal(history.at(-1)?.type, 'ExecutionSucceeded');
  assert.equal(await store.meta.get(sfnKeys.running('flow', 'e1')), undefined, 'a finished execution is no longer resumable');
  const publicEvents = await service.publicHistory(started.arn);
  assert.ok(publicEvents.every((e) => !JSON.stringify(e).includes('"outpost"')), 'the replay extension is stripped');
});

test('a node that dies mid-Wait resumes on restart: finished tasks do not run again', async (t) => {
  const dir = await stateDir(t);
  const fns = new Functions({ reserve: () => ({ hold: 'h1' }), ship: () => ({ tracking: 't1' }) });

  const first = new WorkflowService({ store: open(t, dir), invoke: fns.invoke, clock: frozen });
  await first.createStateMachine({ name: 'flow', definition: JSON.stringify(WAIT_FLOW) });
  const { arn } = await first.start('flow', { name: 'crash-1', input: '{}' });
  const firstStore = open(t, dir);
  await until(async () => ((await events(firstStore, 'flow', 'crash-1')).some((e) => e.type === 'WaitStateEntered') ? true : undefined), 'the wait');
  await first.close(); // the "crash": nothing more is written
  assert.equal((await first.describe(arn)).status, 'RUNNING');
  assert.equal(fns.count('reserve'), 1);
  const before = await events(firstStore, 'flow', 'crash-1');

  // Ten minutes later a new node starts on the same state directory.
  const clock = new VirtualClock(T0 + 600_000);
  const second = new WorkflowService({ store: open(t, dir), invoke: fns.invoke, clock });
  t.after(() => second.close());
  assert.equal(await second.resumeAll(), 1);
  await second.idle();
  const done = await second.describe(arn);
  assert.equal(done.status, 'SUCCEEDED');
  assert.equal(fns.count('reserve'), 1, 'the task recorded as succeeded did not run again');
  assert.equal(fns.count('ship'), 1);
  assert.ok(clock.sleeps.includes(T0 + 3_600_000), 'the resumed wait ends when the original one would have');
  assert.equal(done.stopDate, T0 + 3_600_000);
  const after = await events(open(t, dir), 'flow', 'crash-1');
  assert.deepEqual(after.slice(0, before.length), before, 'recorded events are kept as they were');
  assert.deepEqual(after.map((e) => e.id), after.map((_e, i) => i + 1), 'new events continue the id sequence');
  assert.equal(after.filter((e) => e.type === 'ExecutionStarted').length, 1);
});

test('a task in flight at the crash runs again after restart (at least once), finished ones do not', async (t) => {
  const dir = await stateDir(t);
  let release: (() => void) | undefined;
  const fns = new Functions({
    reserve: () => ({ ok: true }),
    ship: () => (release === undefined ? new Promise<unknown>((resolve) => (release = () => resolve({ late: true }))) : { ok: true }),
  });
  const definition = { StartAt: 'Reserve', States: { Reserve: { Type: 'Task', Resource: lambda('reserve'), Next: 'Ship' }, Ship: { Type: 'Task', Resource: lambda('ship'), End: true } } };
  const first = new WorkflowService({ store: open(t, dir), invoke: fns.invoke, clock: new VirtualClock(T0) });
  await first.createStateMachine({ name: 'two', definition });
  const { arn } = await first.start('two', { name: 'x' });
  await until(async () => (fns.count('ship') === 1 ? true : undefined), 'ship to start');
  await first.close();
  release?.(); // the old node's late answer is never recorded

  const second = new WorkflowService({ store: open(t, dir), invoke: fns.invoke, clock: new VirtualClock(T0) });
  t.after(() => second.close());
  await second.resumeAll();
  await second.idle();
  assert.equal((await second.describe(arn)).status, 'SUCCEEDED');
  assert.equal(fns.count('reserve'), 1);
  assert.equal(fns.count('ship'), 2);
  const history = await events(open(t, dir), 'two', 'x');
  assert.equal(history.filter((e) => e.type === 'LambdaFunctionSucceeded').length, 2, 'one success per task');
  assert.equal(history.filter((e) => e.type === 'LambdaFunctionScheduled').length, 2, 'the re-run reuses the recorded schedule');
});

test('a function error becomes the task error, with Lambda\'s JSON cause, and Catch routes it', async (t) => {
  const store = open(t, await stateDir(t));
  const invoke: InvokeFunction = async () => {
    throw Object.assign(new Error('order has no items'), { code: 'USER_ERROR', userError: { name: 'InvalidOrder', message: 'order has no items', stack: 'InvalidOrder: order has no items\n    at handler (validate.mjs:9:5)' } });
  };
  const service = new WorkflowService({ store, invoke, clock: new VirtualClock(T0) });
  t.after(() => service.close());
  await service.createStateMachine({
    name: 'v',
    definition: { StartAt: 'Validate', States: { Validate: { Type: 'Task', Resource: lambda('validate'), Catch: [{ ErrorEquals: ['InvalidOrder'], ResultPath: '$.error', Next: 'Out' }], End: true }, Out: { Type: 'Pass', End: true } } },
  });
  const { arn } = await service.start('v', { input: '{"id":1}' });
  await service.idle();
  const done = await service.describe(arn);
  assert.equal(done.status, 'SUCCEEDED');
  const out = JSON.parse(done.output ?? '') as { error: { Error: string; Cause: string } };
  assert.equal(out.error.Error, 'InvalidOrder');
  assert.deepEqual(JSON.parse(out.error.Cause), { errorMessage: 'order has no items', errorType: 'InvalidOrder', trace: ['InvalidOrder: order has no items', '    at handler (validate.mjs:9:5)'] });
});

test('StartExecution with the same name: same input is idempotent while open, otherwise ExecutionAlreadyExists', async (t) => {
  const store = open(t, await stateDir(t));
  const service = new WorkflowService({ store, invoke: new Functions({}).invoke, clock: frozen });
  t.after(() => service.close());
  await service.createStateMachine({ name: 'w', definition: { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 5, End: true } } } });
  const a = await service.start('arn:aws:states:us-east-1:000000000000:stateMachine:w', { name: 'same', input: '{"a":1,"b":2}' });
  const b = await service.start('w', { name: 'same', input: '{ "a": 1, "b": 2 }' });
  assert.equal(b.arn, a.arn);
  assert.equal(b.startDate, a.startDate);
  await assert.rejects(service.start('w', { name: 'same', input: '{"a":2}' }), { awsType: 'ExecutionAlreadyExists' });
  await service.stop(a.arn, { error: 'Stopped', cause: 'by test' });
  const stopped = await service.describe(a.arn);
  assert.equal(stopped.status, 'ABORTED');
  assert.equal(stopped.error, 'Stopped');
  await assert.rejects(service.start('w', { name: 'same', input: '{"a":1,"b":2}' }), { awsType: 'ExecutionAlreadyExists' }, 'a closed execution is never reused');
  await assert.rejects(service.start('nope', {}), { awsType: 'StateMachineDoesNotExist' });
  await assert.rejects(service.start('w', { name: 'bad name' }), { awsType: 'InvalidName' });
  await assert.rejects(service.start('w', { input: '{' }), { awsType: 'InvalidExecutionInput' });
});

test('waitForTaskToken: the token survives a restart and the function is not invoked again', async (t) => {
  const dir = await stateDir(t);
  const tokens: string[] = [];
  const fns = new Functions({ ask: (p) => void tokens.push((p as { token: string }).token) });
  const definition = {
    StartAt: 'Ask',
    States: { Ask: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', Parameters: { FunctionName: 'ask', Payload: { 'token.$': '$$.Task.Token' } }, End: true } },
  };
  const first = new WorkflowService({ store: open(t, dir), invoke: fns.invoke, clock: frozen });
  await first.createStateMachine({ name: 'cb', definition });
  const { arn } = await first.start('cb', { name: 'one' });
  const token = await until(async () => tokens[0], 'the token');
  await until(async () => ((await open(t, dir).meta.get<{ invoked?: boolean }>(sfnKeys.taskToken(token)))?.value.invoked ? true : undefined), 'the invocation to be recorded');
  await first.close();

  const second = new WorkflowService({ store: open(t, dir), invoke: fns.invoke, clock: frozen });
  t.after(() => second.close());
  await second.resumeAll();
  await assert.rejects(second.sendTaskSuccess(token, '{'), { awsType: 'InvalidOutput' });
  await assert.rejects(second.sendTaskSuccess('no-such-token', '{}'), { awsType: 'TaskDoesNotExist' });
  await second.sendTaskSuccess(token, '{"approved":true}');
  await second.idle();
  const done = await second.describe(arn);
  assert.equal(done.status, 'SUCCEEDED');
  assert.deepEqual(JSON.parse(done.output ?? ''), { approved: true });
  assert.equal(fns.count('ask'), 1, 'the callback function ran once across the restart');
  await assert.rejects(second.sendTaskSuccess(token, '{}'), { awsType: 'TaskTimedOut' });
});

test('Express executions run in memory and StartSyncExecution returns the result', async (t) => {
  const store = open(t, await stateDir(t));
  const fns = new Functions({ add: (p) => ({ sum: (p as { a: number; b: number }).a + (p as { a: number; b: number }).b }) });
  const service = new WorkflowService({ store, invoke: fns.invoke, clock: new VirtualClock(T0) });
  t.after(() => service.close());
  await service.createStateMachine({ name: 'fast', type: 'EXPRESS', definition: { StartAt: 'Add', States: { Add: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: lambda('add'), 'Payload.$': '$' }, OutputPath: '$.Payload', End: true } } } });
  const result = await service.startSync('fast', { input: '{"a":2,"b":3}' });
  assert.equal(result.status, 'SUCCEEDED');
  assert.deepEqual(JSON.parse(result.output ?? ''), { sum: 5 });
  assert.match(result.arn, /^arn:aws:states:us-east-1:000000000000:express:fast:/);
  assert.deepEqual(await store.meta.list('history/'), [], 'express executions keep no history in the store');
  await service.createStateMachine({ name: 'slow', definition: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } } });
  await assert.rejects(service.startSync('slow', {}), { awsType: 'StateMachineTypeNotSupported' });
});

test('function names from Lambda ARNs and lambda:invoke FunctionName forms', () => {
  assert.equal(functionNameOf('arn:aws:lambda:us-east-1:000000000000:function:charge'), 'charge');
  assert.equal(functionNameOf('arn:aws:lambda:us-east-1:000000000000:function:charge:live'), 'charge');
  assert.equal(functionNameOf('000000000000:function:charge'), 'charge');
  assert.equal(functionNameOf('charge:3'), 'charge');
  assert.equal(functionNameOf('charge'), 'charge');
});

test('nested workflows: startExecution, .sync, .sync:2 and a failing child caught by States.TaskFailed', async (t) => {
  const store = open(t, await stateDir(t));
  const functions = new Functions({ double: (p) => ({ n: (p as { n: number }).n * 2 }) });
  const service = new WorkflowService({ store, invoke: functions.invoke, clock: new VirtualClock(T0) });
  t.after(() => service.close());
  await service.createStateMachine({ name: 'child', definition: { StartAt: 'Double', States: { Double: { Type: 'Task', Resource: lambda('double'), End: true } } } });
  await service.createStateMachine({ name: 'broken', definition: { StartAt: 'Boom', States: { Boom: { Type: 'Fail', Error: 'ChildBroke', Cause: 'on purpose' } } } });
  const child = 'arn:aws:states:us-east-1:000000000000:stateMachine:child';
  await service.createStateMachine({
    name: 'parent',
    definition: {
      StartAt: 'FireAndForget',
      States: {
        FireAndForget: { Type: 'Task', Resource: 'arn:aws:states:::states:startExecution', Parameters: { StateMachineArn: child, Input: { n: 1 } }, ResultPath: '$.started', Next: 'Sync' },
        Sync: { Type: 'Task', Resource: 'arn:aws:states:::states:startExecution.sync', Parameters: { StateMachineArn: child, Input: { n: 2 } }, ResultSelector: { 'out.$': '$.Output' }, ResultPath: '$.sync', Next: 'Sync2' },
        Sync2: { Type: 'Task', Resource: 'arn:aws:states:::states:startExecution.sync:2', Parameters: { StateMachineArn: child, 'Input.$': '$.start' }, ResultSelector: { 'out.$': '$.Output' }, ResultPath: '$.sync2', Next: 'Broken' },
        Broken: {
          Type: 'Task',
          Resource: 'arn:aws:states:::states:startExecution.sync:2',
          Parameters: { StateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:broken' },
          Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.failure', Next: 'Done' }],
          End: true,
        },
        Done: { Type: 'Pass', End: true },
      },
    },
  });
  const { arn } = await service.start('parent', { input: '{"start":{"n":5}}' });
  await service.idle();
  const done = await service.describe(arn);
  assert.equal(done.status, 'SUCCEEDED', done.cause ?? '');
  const out = JSON.parse(done.output ?? '') as { started: { ExecutionArn: string }; sync: { out: string }; sync2: { out: { n: number } }; failure: { Error: string; Cause: string } };
  assert.match(out.started.ExecutionArn, /:execution:child:/);
  assert.equal(out.sync.out, '{"n":4}', '.sync gives the child output as JSON text');
  assert.deepEqual(out.sync2.out, { n: 10 }, '.sync:2 gives it parsed');
  assert.equal(out.failure.Error, 'States.TaskFailed');
  assert.equal((JSON.parse(out.failure.Cause) as { Error: string }).Error, 'ChildBroke');
  assert.equal(functions.count('double'), 3);
});
