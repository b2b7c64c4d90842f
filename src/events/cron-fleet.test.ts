// Cron in a fleet: schedulers sharing one store, each on its own clock so one can "die" (its
// clock stops: no renewals, no more ticks) while another goes on.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { Logger } from '../observe/logger.ts';
import type { ActiveFunction } from '../server/context.ts';
import { openSqliteStore } from '../store/index.ts';
import { CronScheduler } from './cron.ts';
import { FakeClock } from './testing.ts';

const T0 = Date.UTC(2030, 0, 1, 0, 0, 0);
const MIN = 60_000;
const LEASE = 10_000;


const every = { name: 'tick', key: 'tick@1', version: { function: 'tick', version: 1, manifest: { name: 'tick', style: 'workers-module', platform: {}, triggers: [{ type: 'cron', expression: '* * * * *' }] } } } as unknown as ActiveFunction;

test('a tick whose node dies mid-run is taken over once by another node after the lease; later ticks are not doubled', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-cron-fleet-'));
  const store = openSqliteStore({ dir });
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  let log = '';
  const out = new PassThrough();
  out.on('data', (d: Buffer) => (log += d.toString()));
  const logger = new Logger({ out, format: 'pretty' });
  const ticks = (calls: unknown[]): number[] => calls.map((p) => (p as { scheduledTime: number }).scheduledTime);
  const node = (clock: FakeClock, calls: unknown[], hang: boolean): CronScheduler =>
    new CronScheduler(
      {
        meta: store.meta,
        logger,
        invoke: (_fn, _kind, payload) => {
          calls.push(payload);
          return hang ? new Promise<never>(() => {}) : Promise.resolve(undefined);
        },
        functions: () => new Map([['tick', every]]),
      },
      { clock, leaseMs: LEASE },
    );

  const clockA = new FakeClock(T0 + 30_000);
  const clockB = new FakeClock(T0 + 30_000);
  const callsA: unknown[] = [];
  const callsB: unknown[] = [];
  const a = node(clockA, callsA, true); // its run never ends, and its clock stops after the tick: a killed node
  const b = node(clockB, callsB, false);
  await a.sync();
  await b.sync();

  await clockA.advance(T0 + MIN, async () => {});
  await eventuallyTrue(() => callsA.length === 1);
  // B reaches the same tick: already claimed by A, whose lease is live — B does not run it.
  await clockB.advance(T0 + MIN + 1, () => b.idle());
  assert.deepEqual(ticks(callsB), []);
  // A stops renewing; once its lease has expired B takes the tick over, once.
  await clockB.advance(T0 + MIN + LEASE + 2, () => b.idle());
  assert.deepEqual(ticks(callsB), [T0 + MIN]);
  assert.match(log, /was interrupted \(its node stopped renewing it\); running it here/);
  await clockB.advance(T0 + 3 * MIN, () => b.idle());
  assert.deepEqual(ticks(callsB), [T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN]);
  assert.deepEqual(ticks(callsA), [T0 + MIN]);

  // A third node starting now runs nothing again: every tick so far is recorded and finished.
  const clockC = new FakeClock(T0 + 30_000);
  clockC.ms = clockB.ms;
  const callsC: unknown[] = [];
  const c = node(clockC, callsC, false);
  await c.sync();
  await c.idle();
  assert.deepEqual(callsC, []);
  await c.close();
  await b.close();
});

async function eventuallyTrue(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
