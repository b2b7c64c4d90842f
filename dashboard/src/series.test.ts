/// <reference types="node" />
// The metrics API's points as chart columns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHARTS, total } from './series.ts';
import type { SeriesPoint } from './types.ts';

const point = (t: number, invocations: number, extra: Partial<SeriesPoint> = {}): SeriesPoint => ({ t, invocations, errors: 0, coldStarts: 0, p50: 0, p95: 0, p99: 0, concurrency: 0, ...extra });

test('x in Unix seconds; steps without invocations are gaps in latency and cold-start rate, zeros elsewhere', () => {
  const points = [point(1_700_000_000_000, 4, { errors: 1, coldStarts: 1, p50: 3, p95: 8, p99: 9, concurrency: 2 }), point(1_700_000_060_000, 0)];
  const columns = Object.fromEntries(CHARTS.map((c) => [c.id, c.columns(points)]));
  assert.deepEqual(columns['invocations'], [[1_700_000_000, 1_700_000_060], [4, 0], [1, 0]]);
  assert.deepEqual(columns['latency'], [[1_700_000_000, 1_700_000_060], [3, null], [8, null], [9, null]]);
  assert.deepEqual(columns['cold-starts'], [[1_700_000_000, 1_700_000_060], [25, null]]);
  assert.deepEqual(columns['concurrency'], [[1_700_000_000, 1_700_000_060], [2, 0]]);
  assert.equal(total(points, 'invocations'), 4);
  for (const c of CHARTS) assert.equal(c.columns(points).length, c.series.length + 1, `${c.id}: one column per series plus x`);
});
