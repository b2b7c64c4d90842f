/**
 * @module
 * What the log store and usage meter cost: per invocation on the request path (building the
 * stored record, queuing it, metering it) against the baseline every sink already pays
 * (serialising the record once, as the JSON terminal logger does), and how long a history query
 * takes over a full store. In-process micro-harness; rounds alternate and medians are reported.
 * Targets: logs + usage under 10 µs per invocation above the baseline (a tenth of a core at
 * 10k invocations/s; most of it is the one more JSON serialisation the stored line needs); a
 * `limit=200` query of the newest records under 100 ms; a full-history search of 500k records
 * under 5 s.
 *
 *   node bench/logs.ts [--rounds 5] [--records 500000]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MACHINE, cleanup, median, table } from './lib.ts';
import { LogStore } from '../src/observe/log-store.ts';
import { UsageMeter } from '../src/observe/usage.ts';
import { derivedFields } from '../src/observe/telemetry.ts';
import type { InvocationEvent } from '../src/observe/telemetry.ts';
import { openSqliteStore } from '../src/store/index.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, records: { type: 'string', default: '500000' } } });
const rounds = Number(values.rounds);
const records = Number(values.records);
const PER_ROUND = 100_000;

function event(i: number): InvocationEvent {
  const durationMs = 1.234 + (i % 7);
  return { time: Date.now(), requestId: crypto.randomUUID(), function: `fn${i % 10}`, version: 1, trigger: 'http', method: 'GET', path: '/hello', status: 200, outcome: 'ok', durationMs, cpuMs: 0.4, coldStart: false, memoryMb: 128, maxMemoryMB: 12, bytesIn: 80, bytesOut: 140, ...derivedFields('ok', durationMs) };
}

const dir = mkdtempSync(join(tmpdir(), 'outpost-bench-logs-'));
const store = openSqliteStore({ dir: join(dir, 'state') });
const logs = await LogStore.open({ dir: join(dir, 'logs'), maxBytes: 1024 * 1024 * 1024 });
const meter = new UsageMeter(store.meta, 'bench/node', { flushMs: 3_600_000 });
const events = Array.from({ length: PER_ROUND }, (_, i) => event(i));

let sink = 0;
const baseline: number[] = [];
const withStore: number[] = [];
for (let r = 0; r < rounds; r++) {
  let t = performance.now();
  for (const e of events) sink += JSON.stringify({ type: 'invocation', ...e, time: new Date(e.time).toISOString() }).length;
  baseline.push(((performance.now() - t) * 1000) / PER_ROUND);
  t = performance.now();
  for (const e of events) {
    sink += JSON.stringify({ type: 'invocation', ...e, time: new Date(e.time).toISOString() }).length;
    meter.invocation(e);
    logs.append({ ...e, type: 'invocation', time: new Date(e.time).toISOString(), style: 'workers-module' });
  }
  await logs.flush();
  withStore.push(((performance.now() - t) * 1000) / PER_ROUND);
}
await meter.close();

// Fill the store to `records` and query it.
for (let i = rounds * PER_ROUND; i < records; i++) {
  const e = events[i % PER_ROUND] as InvocationEvent;
  logs.append({ ...e, type: 'invocation', time: new Date(e.time).toISOString() });
  if (i % 50_000 === 0) await logs.flush();
}
await logs.flush();
const newest: number[] = [];
const search: number[] = [];
for (let r = 0; r < rounds; r++) {
  let t = performance.now();
  await logs.query({ function: 'fn3' }, 200);
  newest.push(performance.now() - t);
  t = performance.now();
  await logs.query({ search: 'no-such-text' }, 200);
  search.push(performance.now() - t);
}
await logs.close();
await store.close();
cleanup(dir);

const base = median(baseline);
const total = median(withStore);
process.stdout.write(`logs bench — ${MACHINE}, ${rounds} rounds of ${PER_ROUND} invocations, ${Math.max(records, rounds * PER_ROUND)} records (checksum ${sink % 10})\n\n`);
process.stdout.write(
  `${table(
    ['measure', 'median'],
    [
      ['baseline: serialise the record once (µs/invocation)', base.toFixed(2)],
      ['+ log store append + usage meter, flushed (µs/invocation)', total.toFixed(2)],
      ['cost of logs + usage (µs/invocation)', (total - base).toFixed(2)],
      ['query newest 200 of one function (ms)', median(newest).toFixed(1)],
      ['search the whole history, no match (ms)', median(search).toFixed(0)],
    ],
  )}\n`,
);
