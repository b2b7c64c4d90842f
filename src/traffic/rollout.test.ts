import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { keys } from '../control/records.ts';
import type { FunctionRecord } from '../control/records.ts';
import type { NodeContext } from '../server/context.ts';
import { openSqliteStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { Aliases } from './aliases.ts';
import { parseDuration, Rollouts, splitAt, stepProblems, verdict, VersionHealth } from './rollout.ts';

test('durations, steps and the split at each step', () => {
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.throws(() => parseDuration('soon'), { code: 'INVALID_ROLLOUT' });
  assert.deepEqual(stepProblems([10, 50, 100]), []);
  assert.deepEqual(stepProblems([50, 20]), ['steps must rise: 20 comes after 50', 'the last step must be 100']);
  const plan = { from: 1, to: 2, steps: [10, 100] };
  assert.deepEqual(splitAt(plan, -1), [{ version: 1, weight: 100 }]);
  assert.deepEqual(splitAt(plan, 0), [{ version: 2, weight: 10 }, { version: 1, weight: 90 }]);
  assert.deepEqual(splitAt(plan, 1), [{ version: 2, weight: 100 }]);
});

test('the verdict compares error rate and p99, and waits for enough requests', () => {
  const plan = { maxErrorRateIncrease: 0.05, maxP99IncreaseMs: 100, minRequests: 20 };
  const old = { requests: 100, errors: 1, p99Ms: 50 };
  assert.equal(verdict({ requests: 10, errors: 10, p99Ms: 0 }, old, plan), undefined, 'too few requests to judge');
  assert.equal(verdict({ requests: 100, errors: 5, p99Ms: 60 }, old, plan), undefined, '4 points worse is within 5');
  assert.match(verdict({ requests: 100, errors: 7, p99Ms: 60 }, old, plan) ?? '', /error rate 7\.0 % vs 1\.0 %/);
  assert.match(verdict({ requests: 100, errors: 0, p99Ms: 200 }, old, plan) ?? '', /p99 200 ms vs 50 ms/);
  assert.match(verdict({ requests: 100, errors: 7, p99Ms: 60 }, { requests: 0, errors: 0, p99Ms: 0 }, plan) ?? '', /vs 0\.0 %/, 'no old traffic: an error-free baseline');
});

test('health counts errors (throws, limits, 5xx) but not requests that never reached the function', () => {
  const health = new VersionHealth();
  const base = { requestId: 'r', trigger: 'http' as const, function: 'api', version: 2, level: 'info' as const, billedDurationMs: 1 };
  health.record({ ...base, time: 10, status: 200, outcome: 'ok', durationMs: 5 });
  health.record({ ...base, time: 11, status: 500, outcome: 'error', durationMs: 7 });
  health.record({ ...base, time: 12, status: 502, outcome: 'ok', durationMs: 9 });
  health.record({ ...base, time: 13, status: 429, outcome: 'throttled', durationMs: 1 });
  health.record({ ...base, time: 5, status: 500, outcome: 'error', durationMs: 1 });
  assert.deepEqual(health.summary('api', 2, 10), { requests: 3, errors: 2, p99Ms: 9 });
});

async function store(t: TestContext): Promise<Store> {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-rollout-'));
  const s = openSqliteStore({ dir });
  t.after(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });
  return s;
}

async function seed(s: Store): Promise<void> {
  const now = new Date(0).toISOString();
  for (const version of [1, 2]) await s.meta.put(keys.version('api', version), { function: 'api', version, project: 'p', createdAt: now, digest: 'd', manifest: {} });
  const fn: FunctionRecord = { name: 'api', project: 'p', active: 1, latest: 2, createdAt: now, updatedAt: now };
  await s.meta.put(keys.function('api'), fn);
}

function context(s: Store, lines: string[]): NodeContext {
  return { store: s, logger: { system: (_level: string, message: string) => lines.push(message) }, dispatcher: {} } as unknown as NodeContext;
}

test('two nodes ticking at once take each step once, and a plan resumes from the store', async (t) => {
  const s = await store(t);
  await seed(s);
  let now = 1_000;
  const lines: string[] = [];
  const a = new Rollouts(context(s, lines), new Aliases(s.meta), () => now);
  const b = new Rollouts(context(s, lines), new Aliases(s.meta), () => now);
  await a.start('api', { to: 2, steps: [50, 100], everyMs: 1000 });
  await Promise.all([a.tick(), b.tick()]);
  assert.equal(lines.filter((l) => l.includes('step 1/2')).length, 1, 'one node took the first step');
  const live = async (): Promise<unknown> => (await new Aliases(s.meta).get('api', 'live')).versions;
  assert.deepEqual(await live(), [{ version: 2, weight: 50 }, { version: 1, weight: 50 }]);

  // A node that starts now (a restart) continues the same plan.
  now += 1000;
  const restarted = new Rollouts(context(s, lines), new Aliases(s.meta), () => now);
  await Promise.all([restarted.tick(), b.tick()]);
  assert.deepEqual(await live(), [{ version: 2, weight: 100 }]);
  assert.equal(lines.filter((l) => l.includes('step 2/2')).length, 1);
  now += 1000;
  await restarted.tick();
  assert.equal((await restarted.get('api'))?.state, 'done');
  assert.equal(((await s.meta.get<FunctionRecord>(keys.function('api')))?.value.active), 2, 'active follows live');
});

test('a plan stops when someone else moves live', async (t) => {
  const s = await store(t);
  await seed(s);
  const lines: string[] = [];
  const rollouts = new Rollouts(context(s, lines), new Aliases(s.meta), () => 0);
  await rollouts.start('api', { to: 2, steps: [50, 100], everyMs: 1000 });
  await rollouts.tick();
  await new Aliases(s.meta).set('api', 'live', [{ version: 1, weight: 100 }]);
  await rollouts.tick();
  assert.equal((await rollouts.get('api'))?.state, 'stopped');
  assert.match(lines.join('\n'), /live was changed outside the rollout/);
});

test('provisioned instances of the new version are warmed before its first step', async (t) => {
  const s = await store(t);
  await seed(s);
  const v2 = await s.meta.get<Record<string, unknown>>(keys.version('api', 2));
  await s.meta.put(keys.version('api', 2), { ...v2?.value, manifest: { limits: { provisionedConcurrency: 5, concurrency: 2 } } });
  // A node registers a version once an alias points at it.
  let registered = false;
  const changed = new Set<() => void>();
  s.meta.watch(keys.functionPrefix, (change) => {
    if (!JSON.stringify(change).includes('"rollout"')) return;
    registered = true;
    for (const listener of changed) listener();
  });
  const onFunctionsChanged = (listener: () => void): (() => void) => {
    changed.add(listener);
    return () => changed.delete(listener);
  };
  const calls: string[] = [];
  const lines: string[] = [];
  const dispatcher = {
    has: (key: string) => key === 'api@2' && registered,
    provision: async (key: string, count: number) => {
      const live = (await new Aliases(s.meta).get('api', 'live')).versions;
      calls.push(`${key}×${count} while live is ${JSON.stringify(live)}`);
    },
  };
  const ctx = { store: s, logger: { system: (_l: string, m: string) => lines.push(m) }, dispatcher, onFunctionsChanged } as unknown as NodeContext;
  let now = 0;
  const rollouts = new Rollouts(ctx, new Aliases(s.meta), () => now);
  await rollouts.start('api', { to: 2, steps: [100], everyMs: 1000 });
  await rollouts.tick();
  assert.deepEqual(calls, ['api@2×3 while live is [{"version":1,"weight":100}]'], '5 provisioned ÷ 2 per instance = 3 instances, before any traffic moved');
  assert.deepEqual((await new Aliases(s.meta).get('api', 'live')).versions, [{ version: 2, weight: 100 }]);
  assert.deepEqual((await new Aliases(s.meta).list('api')).map((a) => a.name), ['live', 'rollout']);
  now += 1000;
  await rollouts.tick();
  assert.equal((await rollouts.get('api'))?.state, 'done');
  assert.deepEqual((await new Aliases(s.meta).list('api')).map((a) => a.name), ['live'], 'the rollout alias goes when the plan ends');
});

test('cancel puts live back on the old version; a second plan is refused while one runs', async (t) => {
  const s = await store(t);
  await seed(s);
  const rollouts = new Rollouts(context(s, []), new Aliases(s.meta), () => 0);
  await rollouts.start('api', { to: 2, steps: [50, 100], everyMs: 1000 });
  await assert.rejects(rollouts.start('api', { to: 2 }), { code: 'ROLLOUT_IN_PROGRESS' });
  await rollouts.tick();
  const cancelled = await rollouts.cancel('api');
  assert.equal(cancelled.state, 'rolled-back');
  assert.deepEqual((await new Aliases(s.meta).get('api', 'live')).versions, [{ version: 1, weight: 100 }]);
  await assert.rejects(rollouts.cancel('api'), { code: 'ROLLOUT_NOT_FOUND' });
  await assert.rejects(rollouts.start('api', { to: 7 }), (e: Error & { code?: string }) => e.code === 'INVALID_ROLLOUT' && /--to 7: api has no such version/.test(e.message));
});
