import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LogStore, matches } from './log-store.ts';
import type { ConsoleLog, InvocationLog } from './log-store.ts';

async function dir(t: { after(fn: () => unknown): void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'outpost-logs-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

function line(n: number, at: number, fn = 'a'): ConsoleLog {
  return { type: 'console', time: new Date(at).toISOString(), function: fn, version: 1, requestId: `r${n}`, level: 'log', message: `line ${n} ${'x'.repeat(80)}` };
}

function invocation(status: number, at: number): InvocationLog {
  return { type: 'invocation', time: new Date(at).toISOString(), requestId: `q${status}`, function: 'a', version: 1, trigger: 'http', method: 'GET', path: '/p', status, outcome: status < 400 ? 'ok' : 'error', durationMs: 1.2, level: status < 400 ? 'info' : 'error', billedDurationMs: 2 };
}

test('records read back by time range, newest last, across a reopen', async (t) => {
  const d = await dir(t);
  let now = 1_000_000;
  const store = await LogStore.open({ dir: d, segmentBytes: 1024, now: () => now });
  for (let i = 0; i < 30; i++) {
    now += 1000;
    store.append(line(i, now));
    await store.flush();
  }
  await store.close();
  assert.ok(store.segments().length > 2, 'rotated into several segments');
  const reopened = await LogStore.open({ dir: d, segmentBytes: 1024, now: () => now });
  const window = await reopened.query({ since: 1_000_000 + 10_000, until: 1_000_000 + 12_000 }, 100);
  assert.deepEqual(window.map((r) => (r as ConsoleLog).message.slice(0, 7)), ['line 9 ', 'line 10', 'line 11']);
  const last = await reopened.query({}, 2);
  assert.deepEqual(last.map((r) => r.requestId), ['r28', 'r29']);
});

test('retention drops the oldest segments past the size budget and past the age budget', async (t) => {
  const d = await dir(t);
  let now = 1_000_000;
  const store = await LogStore.open({ dir: d, segmentBytes: 1024, maxBytes: 4096, maxAgeMs: 60_000, now: () => now });
  for (let i = 0; i < 100; i++) {
    now += 10;
    store.append(line(i, now));
    await store.flush();
  }
  const files = (await readdir(d)).length;
  assert.ok(files <= 6, `kept ${files} segments for a 4 KiB budget`);
  const kept = await store.query({}, 1000);
  assert.equal(kept.at(-1)?.requestId, 'r99');
  assert.ok(kept.length < 100 && kept.length > 10, `kept ${kept.length}`);
  // Two minutes later (past the 1 minute age budget): segments that ended before are dropped.
  now += 120_000;
  for (let i = 100; i < 110; i++) {
    store.append(line(i, now));
    await store.flush();
  }
  await store.enforceRetention();
  const left = (await store.query({}, 1000)).map((r) => Number(r.requestId?.slice(1)));
  assert.ok(left.every((n) => n >= 90), `old lines kept: ${left.join(',')}`);
  assert.equal(left.at(-1), 109);
  assert.ok((await readdir(d)).length <= 3);
});

test('filters: function, level, status class, search and stable sampling', () => {
  const at = Date.now();
  assert.ok(matches(invocation(503, at), { status: '5xx', level: 'error' }));
  assert.ok(!matches(invocation(200, at), { status: '5xx' }));
  assert.ok(!matches(line(1, at), { status: 500 }));
  assert.ok(matches(line(1, at), { search: 'LINE 1', function: 'a' }));
  assert.ok(!matches(line(1, at, 'b'), { function: 'a' }));
  assert.ok(!matches(line(1, at), { level: 'warn' }));
  const kept = Array.from({ length: 1000 }, (_, i) => line(i, at)).filter((r) => matches(r, { sample: 0.1 })).length;
  assert.ok(kept > 50 && kept < 150, `kept ${kept} of 1000 at 0.1`);
  assert.equal(matches(line(7, at), { sample: 0.5 }), matches({ ...line(7, at), message: 'other' }, { sample: 0.5 }));
});
