import assert from 'node:assert/strict';
import { test } from 'node:test';
import { latencyBucket, quantile, SeriesStore } from './series.ts';
import type { InvocationEvent } from './telemetry.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function event(fn: string, time: number, durationMs: number, extra: Partial<InvocationEvent> = {}): InvocationEvent {
  return { time, requestId: 'r', function: fn, trigger: 'http', status: 200, outcome: 'ok', durationMs, level: 'info', billedDurationMs: Math.ceil(durationMs), ...extra } as InvocationEvent;
}

test('percentiles come from the minute histograms, within one bucket', () => {
  const series = new SeriesStore();
  for (let i = 1; i <= 100; i++) series.invocation(event('api', T0 + i * 100, i));
  const { points } = series.query({ function: 'api', since: T0, until: T0, step: 60 });
  assert.equal(points.length, 1);
  const p = points[0];
  assert.ok(p);
  assert.equal(p.invocations, 100);
  for (const [got, want] of [[p.p50, 50], [p.p95, 95], [p.p99, 99]] as const) assert.ok(got >= want && got <= want * 1.19 + 0.001, `${got} vs ${want}`);
});

test('empty minutes are zeros, steps merge minutes, errors and cold starts count', () => {
  const series = new SeriesStore();
  series.invocation(event('api', T0, 5, { coldStart: true }));
  series.invocation(event('api', T0 + 3 * 60_000, 5, { outcome: 'error', status: 500 }));
  series.invocation(event('api', T0 + 3 * 60_000 + 1, 5, { outcome: 'throttled', status: 429 }));
  series.concurrency('api', T0 + 3 * 60_000, 7);
  const minutes = series.query({ function: 'api', since: T0, until: T0 + 4 * 60_000, step: 60 }).points;
  assert.deepEqual(minutes.map((p) => p.invocations), [1, 0, 0, 2, 0]);
  assert.deepEqual(minutes.map((p) => p.t - T0), [0, 60_000, 120_000, 180_000, 240_000]);
  assert.equal(minutes[1]?.p99, 0);
  assert.equal(minutes[3]?.errors, 1);
  assert.equal(minutes[3]?.concurrency, 7);
  assert.equal(minutes[0]?.coldStarts, 1);
  const fives = series.query({ function: 'api', since: T0, until: T0 + 4 * 60_000, step: 300 });
  assert.equal(fives.step, 300);
  assert.deepEqual(fives.points.map((p) => [p.invocations, p.errors, p.coldStarts, p.concurrency]), [[3, 1, 1, 7]]);
});

test('all functions together, unknown function is all zeros, old minutes are dropped', () => {
  const series = new SeriesStore({ retentionMs: 10 * 60_000 });
  series.invocation(event('a', T0, 1));
  series.invocation(event('b', T0, 1));
  assert.equal(series.query({ since: T0, until: T0, step: 60 }).points[0]?.invocations, 2);
  assert.equal(series.query({ function: 'nope', since: T0, until: T0, step: 60 }).points[0]?.invocations, 0);
  series.invocation(event('a', T0 + 20 * 60_000, 1));
  assert.equal(series.query({ function: 'a', since: T0, until: T0, step: 60 }).points[0]?.invocations, 0);
  assert.equal(series.query({ function: 'b', since: T0, until: T0, step: 60 }).points[0]?.invocations, 1);
});

test('latency buckets are log-scale and quantile reads upper bounds', () => {
  assert.equal(latencyBucket(0), 0);
  assert.ok(latencyBucket(2) > latencyBucket(1));
  assert.equal(latencyBucket(1e12), 89);
  const h = new Uint32Array(90);
  h[latencyBucket(10)] = 1;
  const q = quantile(h, 0.5);
  assert.ok(q >= 10 && q < 12, String(q));
});
