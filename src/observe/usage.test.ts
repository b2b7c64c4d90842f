import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSqliteStore } from '../store/index.ts';
import { derivedFields } from './telemetry.ts';
import type { InvocationEvent, Outcome } from './telemetry.ts';
import { UsageMeter } from './usage.ts';
import { AWS_LAMBDA, CLOUDFLARE_WORKERS, estimate } from './prices.ts';

function event(time: number, fn: string, version: number, durationMs: number, outcome: Outcome = 'ok'): InvocationEvent {
  return { time, requestId: crypto.randomUUID(), function: fn, version, trigger: 'http', status: 200, outcome, durationMs, cpuMs: 2, memoryMb: 256, coldStart: false, bytesIn: 10, bytesOut: 20, ...derivedFields(outcome, durationMs) };
}

test('hourly counters per function and version survive a new meter on the same store', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-usage-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = openSqliteStore({ dir });
  t.after(() => store.close());
  const hour = Date.UTC(2026, 10, 22, 9, 30);
  const meter = new UsageMeter(store.meta, 'local/n1');
  for (let i = 0; i < 10; i++) meter.invocation(event(hour, 'a', 1, 2.3));
  meter.invocation(event(hour + 3600_000, 'a', 2, 0.4, 'error'));
  meter.invocation(event(hour, 'b', 1, 5));
  meter.invocation({ ...event(hour, 'a', 1, 1), outcome: 'no-route' });
  await meter.close();

  const again = new UsageMeter(store.meta, 'local/n2');
  again.invocation(event(hour, 'a', 1, 1));
  const byVersion = await again.query({ function: 'a', since: hour, until: hour + 7200_000, by: 'version' });
  await again.close();
  assert.deepEqual(byVersion.rows.map((r) => [r.function, r.version, r.requests, r.errors, r.billedMs]), [
    ['a', 1, 11, 0, 10 * 3 + 1],
    ['a', 2, 1, 1, 1],
  ]);
  assert.equal(byVersion.totals.requests, 12);
  // GB-seconds: billed ms / 1000 × 256 MB / 1024.
  assert.ok(Math.abs(byVersion.totals.gbSeconds - (32 / 1000) * 0.25) < 1e-12);
  const byHour = await again.query({ since: hour, until: hour, by: 'hour' });
  assert.deepEqual(byHour.rows.map((r) => [r.function, r.hour, r.requests]), [
    ['a', '2026-11-22T09', 11],
    ['b', '2026-11-22T09', 1],
  ]);
});

test('estimates price requests and GB-seconds (Lambda) or CPU ms (Workers) at list price', () => {
  const usage = { requests: 2_000_000, gbSeconds: 1000, cpuMs: 5_000_000, durationMs: 0, billedMs: 0, bytesIn: 0, bytesOut: 0 };
  const aws = estimate(AWS_LAMBDA, usage);
  assert.deepEqual(aws.lines.map((l) => l.amount), [0.4, 0.016667]);
  assert.equal(aws.total, 0.416667);
  assert.equal(estimate(CLOUDFLARE_WORKERS, usage).total, 0.7);
});
