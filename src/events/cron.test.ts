import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { Logger } from '../observe/logger.ts';
import type { ActiveFunction } from '../server/context.ts';
import { openSqliteStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { CronScheduler, scheduledEvent } from './cron.ts';
import { FakeClock } from './testing.ts';

const T0 = Date.UTC(2030, 0, 1, 0, 0, 0);
const MIN = 60_000;


function fn(name: string, style: string, expressions: string[]): ActiveFunction {
  const manifest = { name, style, platform: {}, triggers: expressions.map((expression) => ({ type: 'cron', expression })) };
  return { name, key: `${name}@1`, version: { function: name, version: 1, manifest } } as unknown as ActiveFunction;
}

async function setup(t: TestContext): Promise<{ store: Store; log: () => string; logger: Logger }> {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-cron-'));
  const store = openSqliteStore({ dir });
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  let out = '';
  const stream = new PassThrough();
  stream.on('data', (d: Buffer) => (out += d.toString()));
  const logger = new Logger({ out: stream, format: 'pretty' });
  return { store, log: () => out, logger };
}

function scheduler({ store, logger }: { store: Store; logger: Logger }, clock: FakeClock, functions: ActiveFunction[], calls: Array<{ fn: string; kind: string; payload: unknown }>, windowMs = 5 * MIN): CronScheduler {
  return new CronScheduler(
    {
      meta: store.meta,
      logger,
      invoke: async (f, kind, payload) => {
        calls.push({ fn: f, kind, payload });
        return undefined;
      },
      functions: () => new Map(functions.map((f) => [f.name, f])),
    },
    { clock, catchUpWindowMs: windowMs },
  );
}

test('ticks fire once each at their time; a restart fires no tick twice and runs the latest missed one within the window', async (t) => {
  const env = await setup(t);
  const { log } = env;
  const clock = new FakeClock(T0);
  const calls: Array<{ fn: string; kind: string; payload: unknown }> = [];
  const fns = [fn('jobs', 'workers-module', ['*/5 * * * *'])];
  const first = scheduler(env, clock, fns, calls);
  await first.sync();
  await clock.advance(T0 + 11 * MIN, () => first.idle());
  assert.deepEqual(calls.map((c) => c.payload), [
    { cron: '*/5 * * * *', scheduledTime: T0 + 5 * MIN },
    { cron: '*/5 * * * *', scheduledTime: T0 + 10 * MIN },
  ]);
  assert.ok(calls.every((c) => c.kind === 'scheduled'));
  await first.close();

  // Down from 11 to 22 minutes: ticks at 15 and 20 were missed; 20 is within 5 minutes and runs once.
  clock.ms = T0 + 22 * MIN;
  const second = scheduler(env, clock, fns, calls);
  await second.sync();
  await second.idle();
  assert.deepEqual(calls.slice(2).map((c) => (c.payload as { scheduledTime: number }).scheduledTime), [T0 + 20 * MIN]);
  assert.match(log(), /1 tick\(s\) missed while the node was down were skipped/);
  await second.close();

  // A restart at the same moment runs nothing again.
  const third = scheduler(env, clock, fns, calls);
  await third.sync();
  await third.idle();
  assert.equal(calls.length, 3);
  await clock.advance(T0 + 25 * MIN, () => third.idle());
  assert.deepEqual(calls.slice(3).map((c) => (c.payload as { scheduledTime: number }).scheduledTime), [T0 + 25 * MIN]);
  await third.close();

  // Down for an hour: every missed tick is older than the window except the last one (at 85 min).
  clock.ms = T0 + 86 * MIN;
  const fourth = scheduler(env, clock, fns, calls);
  await fourth.sync();
  await fourth.idle();
  assert.deepEqual(calls.slice(4).map((c) => (c.payload as { scheduledTime: number }).scheduledTime), [T0 + 85 * MIN]);
  await fourth.close();

  // Down past the window entirely: skipped and logged, nothing runs.
  clock.ms = T0 + 200 * MIN + 30_000;
  const fifth = scheduler(env, clock, fns, calls, 10_000);
  await fifth.sync();
  await fifth.idle();
  assert.equal(calls.length, 5);
  assert.match(log(), /older than the 10 s catch-up window/);
  await fifth.close();
});

test('a schedule seen for the first time does not run past ticks; two schedulers on one store fire each tick once', async (t) => {
  const env = await setup(t);
  const clock = new FakeClock(T0);
  clock.ms = T0 + 3 * MIN;
  const calls: Array<{ fn: string; kind: string; payload: unknown }> = [];
  const fns = [fn('a', 'workers-module', ['* * * * *'])];
  const one = scheduler(env, clock, fns, calls);
  const two = scheduler(env, clock, fns, calls);
  await one.sync();
  await two.sync();
  assert.equal(calls.length, 0);
  await clock.advance(T0 + 6 * MIN, async () => {
    await one.idle();
    await two.idle();
  });
  assert.deepEqual(calls.map((c) => (c.payload as { scheduledTime: number }).scheduledTime), [T0 + 4 * MIN, T0 + 5 * MIN, T0 + 6 * MIN]);
  await one.close();
  await two.close();
});

test('Lambda-style functions get the EventBridge Scheduled Event; runNow picks the function listing the cron', async (t) => {
  const env = await setup(t);
  const clock = new FakeClock(T0);
  const calls: Array<{ fn: string; kind: string; payload: unknown }> = [];
  const fns = [fn('report', 'lambda', ['cron(0 12 * * ? *)']), fn('jobs', 'workers-module', ['*/5 * * * *'])];
  const s = scheduler(env, clock, fns, calls);
  await s.sync();
  await clock.advance(T0 + 12 * 60 * MIN, () => s.idle());
  const noon = calls.find((c) => c.fn === 'report');
  assert.equal(noon?.kind, 'invoke');
  const event = noon?.payload as Record<string, unknown>;
  assert.deepEqual({ ...event, id: 'x' }, {
    version: '0',
    id: 'x',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: '2030-01-01T12:00:00Z',
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:000000000000:rule/report-schedule-1'],
    detail: {},
  });
  assert.match(String(event['id']), /^[0-9a-f-]{36}$/);
  const ran = await s.runNow({ cron: '*/5 * * * *', time: 42 });
  assert.equal(ran.function, 'jobs');
  assert.deepEqual(calls.at(-1)?.payload, { cron: '*/5 * * * *', scheduledTime: 42 });
  await assert.rejects(s.runNow({ cron: 'nothing' }), { code: 'CRON_TARGET_AMBIGUOUS' });
  assert.equal(scheduledEvent('eu-west-1', 'r', T0).time, '2030-01-01T00:00:00Z');
  await s.close();
});
