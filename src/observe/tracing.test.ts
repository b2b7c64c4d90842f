import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { formatTraceparent, invocationSpans, newSpanId, OtlpExport, parseTraceparent, serviceTrace, startTrace, TraceSampler, workflowStateSpans } from './tracing.ts';
import type { SpanRecord } from './telemetry.ts';
import type { HistoryEvent } from '../workflows/history.ts';
import { TraceStore } from './trace-store.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

test('traceparent: valid headers join the trace, invalid ones start a new one', () => {
  assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-01`), { traceId: TRACE, parentSpanId: SPAN, sampled: true });
  assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.sampled, false);
  for (const bad of [undefined, '', 'garbage', `ff-${TRACE}-${SPAN}-01`, `00-${'0'.repeat(32)}-${SPAN}-01`, `00-${TRACE}-${'0'.repeat(16)}-01`, `00-${TRACE}-${SPAN}-01-extra`]) {
    assert.equal(parseTraceparent(bad), undefined, String(bad));
  }
  // A later version may append fields.
  assert.equal(parseTraceparent(`01-${TRACE}-${SPAN}-01-more`)?.traceId, TRACE);
  const none = new TraceSampler(0);
  const joined = startTrace({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'a=1' }, none);
  assert.equal(joined.sampled, true, 'a sampled caller is recorded whatever the sampler says');
  assert.equal(joined.traceId, TRACE);
  assert.equal(joined.parentSpanId, SPAN);
  assert.equal(joined.tracestate, 'a=1');
  const fresh = startTrace({}, new TraceSampler(10));
  assert.equal(fresh.sampled, true);
  assert.match(fresh.traceId, /^[0-9a-f]{32}$/);
  assert.notEqual(fresh.spanId, fresh.handlerSpanId);
  assert.equal(startTrace({ traceparent: `00-${TRACE}-${SPAN}-00` }, new TraceSampler(10)).sampled, false, 'an unsampled caller is not recorded');
  assert.equal(fresh.parentSpanId, undefined);
  assert.equal(formatTraceparent(TRACE, SPAN), `00-${TRACE}-${SPAN}-01`);
  assert.equal(formatTraceparent(TRACE, SPAN, false), `00-${TRACE}-${SPAN}-00`);
  assert.equal(serviceTrace(['x', 'y', 'traceparent', `00-${TRACE}-${SPAN}-01`])?.parentSpanId, SPAN);
  assert.equal(serviceTrace(['x', 'y']), undefined);
});

test('the sampler records at most its rate of new traces a second, refilling with time', () => {
  let now = 1_000_000;
  const sampler = new TraceSampler(3, () => now);
  assert.deepEqual([1, 2, 3, 4].map(() => sampler.take()), [true, true, true, false]);
  now += 333;
  assert.equal(sampler.take(), false, 'a third of a second is not quite one token');
  now += 1;
  assert.equal(sampler.take(), true);
  now += 60_000;
  assert.deepEqual([1, 2, 3, 4].map(() => sampler.take()), [true, true, true, false], 'a quiet minute saves up one second at most');
});

test('span ids are 16 hex characters and do not repeat', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) seen.add(newSpanId());
  assert.equal(seen.size, 2000);
  for (const id of seen) assert.match(id, /^[0-9a-f]{16}$/);
});

test('an HTTP invocation has gateway, dispatch, cold start and handler spans, and the store finds it by request id', () => {
  const timing = { traceId: TRACE, parentSpanId: SPAN, spanId: 'a'.repeat(16), handlerSpanId: 'b'.repeat(16), requestId: 'req-1', function: 'api', version: 3, method: 'GET', path: '/x', status: 200, outcome: 'ok' as const, start: 1000, durationMs: 50, dispatch: { from: 1, to: 21, coldStartMs: 19 } };
  const spans = invocationSpans(timing);
  assert.deepEqual(spans.map((s) => s.name), ['GET /x', 'dispatch', 'cold start', 'handler api']);
  const [gateway, dispatch, cold, handler] = spans;
  assert.equal(gateway?.parentSpanId, SPAN);
  assert.equal(dispatch?.parentSpanId, gateway?.spanId);
  assert.equal(cold?.parentSpanId, dispatch?.spanId);
  assert.equal(handler?.spanId, 'b'.repeat(16));
  assert.equal(handler?.start, 1021);
  assert.equal(handler?.end, 1050);

  const store = new TraceStore({ maxFragments: 2 });
  store.trace(timing);
  // A span the instance reported joins the trace.
  store.spans([{ traceId: TRACE, spanId: 'c'.repeat(16), parentSpanId: 'b'.repeat(16), name: 'fetch GET example.com', kind: 'client', start: 1030, end: 1040, attributes: {}, status: 'ok' }]);
  assert.equal(store.get('req-1')?.traceId, TRACE);
  const read = store.get(TRACE)?.spans ?? [];
  assert.deepEqual(read.map((s) => s.name), ['GET /x', 'dispatch', 'cold start', 'handler api', 'fetch GET example.com']);
  assert.deepEqual(store.get(TRACE)?.spans.map((s) => s.spanId), read.map((s) => s.spanId), 'ids stay the same between reads');
  assert.deepEqual(store.recent({ limit: 10 }).map((t) => [t.requestId, t.function, t.durationMs, t.status]), [['req-1', 'api', 50, 'ok']]);
  store.trace({ ...timing, traceId: 'c'.repeat(32), requestId: 'req-2', outcome: 'error', status: 500 });
  store.trace({ ...timing, traceId: 'd'.repeat(32), requestId: 'req-3', function: 'other' });
  assert.equal(store.get('req-1'), undefined, 'the oldest trace leaves the ring');
  assert.deepEqual(store.recent({ limit: 10 }).map((t) => [t.requestId, t.status]), [['req-3', 'ok'], ['req-2', 'error']]);
  assert.deepEqual(store.recent({ limit: 10, function: 'api' }).map((t) => t.requestId), ['req-2']);
});

test('OTLP export posts the spans to a real HTTP endpoint', async (t) => {
  const received: Array<{ path: string; type: string; body: Buffer }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', type: String(req.headers['content-type']), body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const errors: string[] = [];
  const otlp = new OtlpExport({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, onError: (m) => errors.push(m) });
  otlp.spans(invocationSpans({ traceId: TRACE, spanId: SPAN, handlerSpanId: 'b'.repeat(16), requestId: 'req-9', method: 'GET', path: '/otlp', status: 200, outcome: 'ok', start: Date.now(), durationMs: 3 }));
  await otlp.close();
  assert.deepEqual(errors, []);
  assert.equal(received.length, 1);
  assert.equal(received[0]?.path, '/v1/traces');
  const body = received[0]?.body.toString('latin1') ?? '';
  // JSON or protobuf, the span name and the resource's service name travel as text.
  assert.ok(body.includes('GET /otlp'), body.slice(0, 200));
  assert.ok(body.includes('outpost'));
});

test('a workflow execution is one trace with a span per state; a state left open at the end failed', () => {
  const got: SpanRecord[] = [];
  const record = workflowStateSpans({ wantsSpans: true, spans: (s) => void got.push(...s) });
  const execution = { arn: 'arn:aws:states:local:000000000000:execution:orders:run-1', name: 'run-1', stateMachine: 'orders', version: 1, status: 'RUNNING', startDate: 0, input: '{}' } as const;
  const event = (id: number, type: string, timestamp: number, name?: string): HistoryEvent =>
    ({ id, previousEventId: id - 1, timestamp, type, ...(name === undefined ? {} : { [type.endsWith('Entered') ? 'stateEnteredEventDetails' : 'stateExitedEventDetails']: { name } }) }) as unknown as HistoryEvent;
  record(execution, [event(1, 'ExecutionStarted', 100), event(2, 'TaskStateEntered', 110, 'Charge')]);
  record(execution, [event(3, 'TaskStateExited', 150, 'Charge'), event(4, 'TaskStateEntered', 151, 'Ship')]);
  record(execution, [event(5, 'ExecutionFailed', 170)]);
  assert.deepEqual(got.map((s) => [s.name, s.start, s.end, s.status]), [['Charge', 110, 150, 'ok'], ['Ship', 151, 170, 'error']]);
  assert.equal(new Set(got.map((s) => s.traceId)).size, 1);
  const store = new TraceStore();
  store.spans(got);
  assert.deepEqual(store.get(execution.arn)?.spans.map((s) => s.name), ['Charge', 'Ship']);
  const off: SpanRecord[] = [];
  workflowStateSpans({ wantsSpans: false, spans: (s) => void off.push(...s) })(execution, [event(2, 'TaskStateEntered', 110, 'Charge'), event(3, 'TaskStateExited', 150, 'Charge')]);
  assert.deepEqual(off, []);
});
