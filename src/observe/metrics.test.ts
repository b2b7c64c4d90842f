import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodeMetrics } from './metrics.ts';
import type { InvocationEvent } from './telemetry.ts';

function event(extra: Partial<InvocationEvent>): InvocationEvent {
  return { time: 0, requestId: 'r', function: 'api', version: 2, trigger: 'http', status: 200, outcome: 'ok', durationMs: 12, level: 'info', billedDurationMs: 12, ...extra } as InvocationEvent;
}

function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

test('counters follow invocations; gauges are read from their sources at scrape', async () => {
  const metrics = new NodeMetrics({
    functions: () => [{ name: 'api', key: 'api@2' }],
    stats: () => ({ instances: 3, inFlight: 2 }),
    queues: async () => [{ name: 'jobs', depth: 4, dead: 1, oldestSentAt: 10_000 }],
    workflowStatuses: async () => ({ RUNNING: 2, SUCCEEDED: 5 }),
    now: () => 40_000,
  });
  metrics.invocation(event({ coldStart: true, maxMemoryMB: 12 }));
  metrics.invocation(event({}));
  metrics.invocation(event({ outcome: 'throttled', status: 429 }));
  const { function: _, ...unrouted } = event({ outcome: 'no-route', status: 404 });
  metrics.invocation(unrouted);
  metrics.operation('kv', 'get');
  metrics.operation('kv', 'get');
  metrics.operation('s3', 'PutObject');
  const text = await metrics.text();
  assert.equal(sample(text, 'outpost_invocations_total{function="api",version="2",trigger="http",outcome="ok"}'), 2);
  assert.equal(sample(text, 'outpost_invocations_total{function="api",version="2",trigger="http",outcome="throttled"}'), 1);
  assert.equal(sample(text, 'outpost_throttles_total{function="api"}'), 1);
  assert.equal(sample(text, 'outpost_cold_starts_total{function="api"}'), 1);
  assert.equal(sample(text, 'outpost_invocation_duration_seconds_count{function="api",trigger="http"}'), 3);
  assert.equal(sample(text, 'outpost_invocation_duration_seconds_bucket{le="0.025",function="api",trigger="http"}'), 3);
  assert.equal(sample(text, 'outpost_concurrent_executions{function="api"}'), 2);
  assert.equal(sample(text, 'outpost_instances{function="api",state="busy"}'), 2);
  assert.equal(sample(text, 'outpost_instances{function="api",state="idle"}'), 1);
  assert.equal(sample(text, 'outpost_instance_memory_bytes{function="api"}'), 12 * 1024 * 1024);
  assert.equal(sample(text, 'outpost_queue_depth{queue="jobs"}'), 4);
  assert.equal(sample(text, 'outpost_queue_oldest_message_age_seconds{queue="jobs"}'), 30);
  assert.equal(sample(text, 'outpost_queue_dead_letter_messages{queue="jobs"}'), 1);
  assert.equal(sample(text, 'outpost_workflow_executions{status="SUCCEEDED"}'), 5);
  assert.equal(sample(text, 'outpost_kv_operations_total{op="get"}'), 2);
  assert.equal(sample(text, 'outpost_s3_operations_total{op="PutObject"}'), 1);
  assert.ok(!text.includes('process_cpu'), 'the node registry holds only Outpost metrics');
});

test('two nodes in one process keep their own numbers', async () => {
  const sources = { functions: () => [], stats: () => ({ instances: 0, inFlight: 0 }), queues: async () => [], workflowStatuses: async () => ({}), now: Date.now };
  const a = new NodeMetrics(sources);
  const b = new NodeMetrics(sources);
  a.invocation(event({}));
  assert.equal(sample(await a.text(), 'outpost_invocations_total{function="api",version="2",trigger="http",outcome="ok"}'), 1);
  assert.equal(sample(await b.text(), 'outpost_invocations_total{function="api",version="2",trigger="http",outcome="ok"}'), undefined);
});
